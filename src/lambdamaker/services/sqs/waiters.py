"""Long-poll waiters: ReceiveMessage calls parked on the event loop until a send wakes them.

Invariants: a waiter registers *before* its last empty look at the store, so a send that
commits after that look always finds it registered and sets its event (no lost wake-up).
Notifying is thread-safe (sends commit in worker threads) and never blocks: it only schedules
``Event.set`` on the waiter's loop. Wake-ups are hints; the woken receive reads the store again.
Only this process's waiters are woken: another process sharing a PostgreSQL store is seen on
the waiter's next periodic look (``RECHECK_SECONDS``).
"""

from __future__ import annotations

import asyncio
import threading

RECHECK_SECONDS = 5.0

_Entry = tuple[asyncio.AbstractEventLoop, asyncio.Event]


class Waiters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_queue: dict[int, set[_Entry]] = {}
        self.closed = False
        """Set at shutdown: parked polls return empty at once instead of holding the drain."""

    def register(self, queue_id: int) -> _Entry:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._by_queue.setdefault(queue_id, set()).add(entry)
        return entry

    def unregister(self, queue_id: int, entry: _Entry) -> None:
        with self._lock:
            waiting = self._by_queue.get(queue_id)
            if waiting is not None:
                waiting.discard(entry)
                if not waiting:
                    del self._by_queue[queue_id]

    def notify(self, queue_id: int) -> None:
        with self._lock:
            entries = list(self._by_queue.get(queue_id, ()))
        for loop, event in entries:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed; its waiter is gone
                pass

    def waiting(self, queue_id: int) -> int:
        """How many polls are parked on the queue (for tests and metrics)."""
        with self._lock:
            return len(self._by_queue.get(queue_id, ()))

    def close(self) -> None:
        with self._lock:
            self.closed = True
            queue_ids = list(self._by_queue)
        for queue_id in queue_ids:
            self.notify(queue_id)
