"""Asynchronous invocations: a durable queue in the store and a dispatcher that drains it.

Invariants:
- Invoke with ``InvocationType=Event`` answers 202 only after the event's row is committed
  (DESIGN.md decision 4). The row is deleted only after an attempt ended, so a crash in between
  runs the event again: delivery is at-least-once, as Lambda documents for async invocations.
- A dispatcher claims due events by setting a lease (``lease_until_ms``) in one transaction,
  so no two workers run the same event. At start-up every lease is released: this process is
  the store's only dispatcher, so a leased row belongs to a process that died mid-attempt.
- During shutdown, attempts that end are not recorded (the engine is being stopped under
  them); their rows stay leased and run again after the restart.

Retry policy (``outcome`` of an attempt) is data on the row, kept open for the events work:
``attempts`` counts attempts that reached the function or failed in the platform,
``next_attempt_ms`` defers an event. Throttled attempts (429 from the engine) are deferred
without counting, as Lambda retries throttles for up to the event's maximum age (6 hours).
Function errors are retried per the function's event invoke config (``event_config``), and an
outcome may carry ``finish``: work (destination deliveries) done in the same transaction that
deletes the event, so a delivery is committed exactly when the event is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.tables import events
from lambdamaker.store import Store

log = logging.getLogger("lambdamaker.lambda")

LEASE_MS = 16 * 60 * 1000
"""Longer than the longest function timeout (900 s) plus start-up."""


@dataclass(frozen=True)
class QueuedEvent:
    id: int
    request_id: str
    function_name: str
    qualifier: str | None
    invoked_arn: str
    payload: bytes
    created_ms: int
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What to do with an event after an attempt: ``done``, or retry after ``delay_ms``."""

    done: bool
    delay_ms: int = 0
    count_attempt: bool = True
    finish: Callable[[Connection], None] | None = None
    """Run inside the transaction that deletes a done event (destination deliveries)."""


DONE = Outcome(done=True)


class _Waiter:
    __slots__ = ("error", "finished", "lead", "values", "wake")

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.wake = threading.Event()
        self.finished = False
        self.lead = False
        self.error: BaseException | None = None


class EventQueue:
    """The ``lambda_events`` table. ``enqueue`` commits in groups (DESIGN.md, "Performance
    architecture"): the events of concurrent callers go into one transaction, one fsync. One
    caller at a time leads: it commits everything waiting (its own event included), wakes the
    others, and hands the lead to the first caller that arrived meanwhile. Every caller returns
    only once its own event is committed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._leading = False

    def enqueue(self, **values: Any) -> None:
        waiter = _Waiter({"attempts": 0, "lease_until_ms": 0, **values})
        with self._lock:
            self._waiting.append(waiter)
            if not self._leading:
                self._leading = waiter.lead = True
        if not waiter.lead:
            waiter.wake.wait()  # committed by a leader, or made the leader
        if not waiter.finished:
            self._commit_group()
        if waiter.error is not None:
            raise waiter.error

    def _commit_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            with self.store.begin() as conn:
                conn.execute(sa.insert(events), [w.values for w in group])
        except BaseException as exc:
            for w in group:
                w.error = exc
        for w in group:
            w.finished = True
            w.wake.set()
        with self._lock:
            if self._waiting:
                successor = self._waiting[0]
                successor.lead = True
                successor.wake.set()
            else:
                self._leading = False

    def release_leases(self) -> int:
        with self.store.begin() as conn:
            return int(
                conn.execute(
                    sa.update(events).where(events.c.lease_until_ms != 0).values(lease_until_ms=0)
                ).rowcount
            )

    def claim(self, now_ms: int, limit: int) -> list[QueuedEvent]:
        """Lease up to ``limit`` due events, oldest first."""
        if limit <= 0:
            return []
        with self.store.begin() as conn:
            rows = conn.execute(
                sa.select(events)
                .where(events.c.next_attempt_ms <= now_ms, events.c.lease_until_ms <= now_ms)
                .order_by(events.c.next_attempt_ms, events.c.id)
                .limit(limit)
            ).all()
            if rows:
                conn.execute(
                    sa.update(events)
                    .where(events.c.id.in_([r.id for r in rows]))
                    .values(lease_until_ms=now_ms + LEASE_MS)
                )
        return [
            QueuedEvent(
                id=r.id,
                request_id=r.request_id,
                function_name=r.function_name,
                qualifier=r.qualifier,
                invoked_arn=r.invoked_arn,
                payload=bytes(r.payload),
                created_ms=r.created_ms,
                attempts=r.attempts,
            )
            for r in rows
        ]

    def complete(self, event_id: int, finish: Callable[[Connection], None] | None = None) -> None:
        with self.store.begin() as conn:
            if finish is not None:
                finish(conn)
            conn.execute(sa.delete(events).where(events.c.id == event_id))

    def defer(self, event_id: int, next_attempt_ms: int, attempts: int) -> None:
        with self.store.begin() as conn:
            conn.execute(
                sa.update(events)
                .where(events.c.id == event_id)
                .values(next_attempt_ms=next_attempt_ms, attempts=attempts, lease_until_ms=0)
            )

    def next_due_ms(self) -> int | None:
        with self.store.read() as conn:
            value = conn.execute(
                sa.select(sa.func.min(events.c.next_attempt_ms)).where(events.c.lease_until_ms == 0)
            ).scalar()
        return int(value) if value is not None else None

    def pending(self) -> int:
        with self.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


class EventDispatcher:
    """Drains the queue through ``attempt`` on a pool of ``workers`` threads."""

    def __init__(
        self,
        queue: EventQueue,
        attempt: Callable[[QueuedEvent], Outcome],
        workers: int = 8,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self.attempt = attempt
        self.workers = workers
        self.clock = clock
        self._wake = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def start(self) -> None:
        released = self.queue.release_leases()
        if released:
            log.info("lambda: %d async event(s) interrupted by a restart will run again", released)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="lambda-event")
        self._thread = threading.Thread(target=self._run, name="lambda-dispatcher", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                free = self.workers - self._in_flight
            batch: list[QueuedEvent] = []
            try:
                batch = self.queue.claim(self.now_ms(), free)
            except Exception:
                log.exception("lambda: claiming async events failed")
            for event in batch:
                with self._wake:
                    self._in_flight += 1
                assert self._pool is not None
                self._pool.submit(self._handle, event)
            with self._wake:
                if self._stopping:
                    return
                if batch and self._in_flight < self.workers:
                    continue
                self._wake.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        try:
            due = self.queue.next_due_ms()
        except Exception:
            return 1.0
        if due is None:
            return 5.0
        return max(0.005, min(1.0, (due - self.now_ms()) / 1000))

    def _handle(self, event: QueuedEvent) -> None:
        try:
            try:
                outcome = self.attempt(event)
            except Exception:
                log.exception("lambda: async event %s failed in the platform", event.request_id)
                outcome = Outcome(done=False, delay_ms=1000 * 2 ** min(event.attempts, 6))
            with self._wake:
                if self._stopping:
                    return  # the engine is going away under us: leave it leased for a restart
            if outcome.done:
                self.queue.complete(event.id, outcome.finish)
            else:
                attempts = event.attempts + (1 if outcome.count_attempt else 0)
                self.queue.defer(event.id, self.now_ms() + outcome.delay_ms, attempts)
        except Exception:
            log.exception("lambda: recording async event %s failed", event.request_id)
        finally:
            with self._wake:
                self._in_flight -= 1
                self._wake.notify_all()
