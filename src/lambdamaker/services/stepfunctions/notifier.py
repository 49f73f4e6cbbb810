"""Wake-ups for long polls (GetActivityTask) across event loops and threads.

``wait(key, timeout)`` parks a coroutine on its own loop until ``notify(key)`` (from any thread)
or the timeout. A notify with nobody waiting is dropped: pollers look at the store before
parking, and the store write that precedes a notify is committed first, so nothing is missed
except a notify between a poller's look and its park, which ``wait`` covers by re-checking on a
short ``recheck`` period.
"""

from __future__ import annotations

import asyncio
import threading


class Notifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    async def wait(self, key: str, timeout: float) -> bool:
        """True when notified, False on timeout."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        entry = (loop, event)
        with self._lock:
            self._waiters.setdefault(key, []).append(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                waiters = self._waiters.get(key, [])
                if entry in waiters:
                    waiters.remove(entry)
                if not waiters:
                    self._waiters.pop(key, None)

    def notify(self, key: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(key, []))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed: its waiter is gone
                pass
