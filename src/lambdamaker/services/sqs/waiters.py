"""Long-poll waiters: ReceiveMessage calls parked on the event loop, and in-process pollers
(event source mappings) parked on a thread, until a send wakes them.

Invariants: a waiter registers *before* its last empty look at the store, so a send that
commits after that look always finds it registered and sets its event (no lost wake-up).
Notifying is thread-safe (sends commit in worker threads) and never blocks: it schedules
``Event.set`` on a loop waiter's loop, or sets a thread waiter's ``threading.Event``. Wake-ups are hints; the woken receive reads the store again.
Only this process's waiters are woken: another process sharing a PostgreSQL store is seen on
the waiter's next periodic look (``RECHECK_SECONDS``).
"""

from __future__ import annotations

import asyncio
import threading

RECHECK_SECONDS = 5.0


class LoopWaiter:
    """A receive parked on an event loop."""

    __slots__ = ("event", "loop")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    def wake(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.event.set)
        except RuntimeError:  # that loop has closed; its waiter is gone
            pass


class ThreadWaiter:
    """A poller parked on a thread."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()

    def wake(self) -> None:
        self.event.set()


_Entry = LoopWaiter | ThreadWaiter


class Waiters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_queue: dict[int, set[_Entry]] = {}
        self.closed = False
        """Set at shutdown: parked polls return empty at once instead of holding the drain."""

    def register(self, queue_id: int) -> LoopWaiter:
        """A waiter for the running event loop."""
        entry = LoopWaiter()
        self.add(queue_id, entry)
        return entry

    def add(self, queue_id: int, entry: _Entry) -> None:
        with self._lock:
            self._by_queue.setdefault(queue_id, set()).add(entry)

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
        for entry in entries:
            entry.wake()

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
