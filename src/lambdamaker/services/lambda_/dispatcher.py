"""The async event dispatcher: claims due events from the queue (``events.EventQueue``), runs
them on a pool of worker threads and records their outcomes through one settler thread.

Its invariants are the queue's (see ``events``): leases make every claimed event belong to one
worker; outcomes commit with their deliveries; a crash before an outcome commits runs the event
again; attempts yield to pending accepts for at most ``ACCEPT_YIELD_S``.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from collections.abc import Callable

from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.events import (
    ACCEPT_YIELD_S,
    LEASE_MS,
    EventQueue,
    Outcome,
    QueuedEvent,
    complete_op,
    defer_op,
    defer_values,
    settle_op,
)

log = logging.getLogger("lambdamaker.lambda")


class _Settled:
    """One attempt's outcome waiting to be recorded by the settler."""

    __slots__ = ("due", "event_id", "finish", "values")

    def __init__(
        self,
        event_id: int,
        finish: Callable[[Connection], None] | None = None,
        values: dict[str, int] | None = None,
    ) -> None:
        self.event_id = event_id
        self.finish = finish
        self.values = values  # None: the event is done (deleted)
        self.due = values["due"] if values is not None else 0

    def op(self) -> Callable[[Connection], None]:
        if self.values is None:
            return complete_op(self.event_id, self.finish)
        v = self.values
        return defer_op(self.event_id, v["due"], v["n_attempts"], v["n_throttles"])


_NEVER = 1 << 62


class EventDispatcher:
    """Drains the queue through ``attempt`` on a pool of ``workers`` threads.

    Cost per event is kept small: the dispatcher claims up to ``prefetch`` events per worker in
    one statement and queues them on the pool (their lease is long enough for the wait behind
    the others, so this process never claims them twice); the settler records a batch of
    outcomes as one executemany DELETE and one UPDATE. The dispatcher sleeps until the next
    due event and is woken only when it has something to do: new events committed, workers
    running low, or a deferral due sooner than it planned."""

    def __init__(
        self,
        queue: EventQueue,
        attempt: Callable[[QueuedEvent], Outcome],
        workers: int = 8,
        clock: Callable[[], float] = time.time,
        prefetch: int = 4,
    ) -> None:
        self.queue = queue
        queue.wake = self.notify
        self.attempt = attempt
        self.workers = workers
        self.clock = clock
        self.capacity = workers * max(1, prefetch)
        """Events claimed and not yet ended (running or queued on the pool), at most."""
        self._low = workers
        """Claim again once no more than this many are left (the pool never runs dry)."""
        self._lease_ms = LEASE_MS * max(1, prefetch)
        """A claimed event may wait behind ``prefetch - 1`` rounds of the longest attempts."""
        self._wake = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._notified = 0
        """Counts ``notify`` calls: one that came while the dispatcher was busy is not lost."""
        self._known_due = _NEVER
        """The earliest due time of a deferred event known to the dispatcher: the store's at its
        last look (``_idle_wait``) and every deferral recorded since. Never later than the true
        one, so it may wake the dispatcher early, never late."""
        self._sleep_until_ms = 0
        """When the sleeping dispatcher looks again on its own; a deferral due sooner wakes it."""
        self._thread: threading.Thread | None = None
        # Claimed events for the workers (a C queue: cheaper per event than an executor's
        # futures); None tells a worker to stop.
        self._ready: queue_module.SimpleQueue[QueuedEvent | None] = queue_module.SimpleQueue()
        self._pool: list[threading.Thread] = []
        # Outcomes waiting to be recorded: a worker hands its outcome over and takes the next
        # event without waiting for the fsync (the event stays leased until it is recorded).
        self._settle: list[_Settled] = []
        self._settle_wake = threading.Condition()
        self._settler: threading.Thread | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def start(self) -> None:
        released = self.queue.release_leases()
        if released:
            log.info("lambda: %d async event(s) interrupted by a restart will run again", released)
        self._pool = [
            threading.Thread(target=self._work, name=f"lambda-event_{i}", daemon=True)
            for i in range(self.workers)
        ]
        for worker in self._pool:
            worker.start()
        self._thread = threading.Thread(target=self._run, name="lambda-dispatcher", daemon=True)
        self._thread.start()
        self._settler = threading.Thread(
            target=self._settle_loop, name="lambda-settle", daemon=True
        )
        self._settler.start()

    def notify(self) -> None:
        with self._wake:
            self._notified += 1
            self._wake.notify_all()

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for _ in self._pool:
            self._ready.put(None)  # queued events are not run: they stay leased for a restart
        with self._settle_wake:
            self._settle_wake.notify_all()
        if self._settler is not None:
            self._settler.join(timeout=10)  # records what ended before the stop

    def _settle_loop(self) -> None:
        while True:
            with self._settle_wake:
                while not self._settle and not self._stopping:
                    self._settle_wake.wait()
                items, self._settle = self._settle, []
                if not items and self._stopping:
                    return
            self._record(items)
            soonest = min((i.due for i in items if i.values is not None), default=_NEVER)
            with self._wake:
                self._known_due = min(self._known_due, soonest)
                if soonest < self._sleep_until_ms:  # due before the dispatcher would look
                    self._wake.notify_all()

    def _record(self, items: list[_Settled]) -> None:
        done = [i.event_id for i in items if i.values is None]
        finishes = [i.finish for i in items if i.finish is not None]
        deferred = [i.values for i in items if i.values is not None]
        try:
            self.queue.write(settle_op(done, finishes, deferred))
            return
        except Exception as exc:  # one bad member: record each alone, so it fails alone
            log.warning("lambda: recording %d async outcomes together failed: %s", len(items), exc)
        try:
            self.queue.write_all([i.op() for i in items])
        except Exception:
            log.exception("lambda: recording async events failed")

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                room = self.capacity - self._in_flight
                notified = self._notified
                if self._in_flight > self._low:
                    self._sleep_until_ms = 0  # woken by the workers, not by deferrals
                    self._wake.wait()
                    continue
            batch: list[QueuedEvent] = []
            now = self.now_ms()
            try:
                batch = self.queue.claim(now, room, self._lease_ms)
            except Exception:
                log.exception("lambda: claiming async events failed")
            if batch:
                with self._wake:
                    self._in_flight += len(batch)
                for event in batch:
                    self._ready.put(event)
                if len(batch) == room:
                    continue  # there may be more due
            if batch:  # new events keep coming: no query, the deferrals seen are enough
                with self._wake:
                    wait = self._wait_for(self._known_due, now)
            else:
                wait = self._idle_wait()
            with self._wake:
                if self._stopping:
                    return
                if self._in_flight > self._low or self._notified != notified:
                    continue
                self._sleep_until_ms = now + int(wait * 1000)
                self._wake.wait(wait)
                self._sleep_until_ms = 0

    def _idle_wait(self) -> float:
        """How long to sleep: until the earliest deferred event in the store is due."""
        with self._wake:
            self._known_due = _NEVER  # deferrals recorded from now on are added again
        try:
            due = self.queue.next_due_ms()
        except Exception:
            return 1.0
        with self._wake:
            if due is not None:
                self._known_due = min(self._known_due, due)
            return self._wait_for(self._known_due, self.now_ms())

    @staticmethod
    def _wait_for(due: int, now: int) -> float:
        if due >= _NEVER:
            return 5.0
        return max(0.005, min(1.0, (due - now) / 1000))

    def _work(self) -> None:
        while True:
            event = self._ready.get()
            if event is None:
                return
            if self._stopping:
                with self._wake:
                    self._in_flight -= 1
                continue
            # Accepts first (module invariants): bounded, so attempts never stop.
            self.queue.accept_idle.wait(ACCEPT_YIELD_S)
            self._handle(event)

    def _handle(self, event: QueuedEvent) -> None:
        try:
            try:
                outcome = self.attempt(event)
            except Exception:
                log.exception("lambda: async event %s failed in the platform", event.request_id)
                outcome = Outcome(done=False, delay_ms=1000 * 2 ** min(event.attempts, 6))
            if self._stopping:
                return  # the engine is going away under us: leave it leased for a restart
            if outcome.done:
                item = _Settled(event.id, outcome.finish)
            else:
                attempts = event.attempts + (1 if outcome.count_attempt else 0)
                throttles = event.throttles + (1 if outcome.throttled else 0)
                due = self.now_ms() + outcome.delay_ms
                item = _Settled(event.id, values=defer_values(event.id, due, attempts, throttles))
            with self._settle_wake:
                self._settle.append(item)
                self._settle_wake.notify()
        except Exception:
            log.exception("lambda: recording async event %s failed", event.request_id)
        finally:
            with self._wake:
                self._in_flight -= 1
                if self._in_flight <= self._low:
                    self._wake.notify_all()
