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
- Every write (new events, claims, outcomes) is group-committed (``EventQueue``): concurrent
  writers share one transaction and one fsync. A worker hands its outcome to the settler
  thread and takes its next event at once; the event stays leased, so no one claims it again
  before its outcome is committed, and a crash before that runs it again (at-least-once).

Retry policy (``outcome`` of an attempt) is data on the row, kept open for the events work:
``attempts`` counts attempts that reached the function or failed in the platform,
``next_attempt_ms`` defers an event. Throttled attempts (429 from the engine) are deferred
without counting as attempts; ``throttles`` counts them for their own backoff (1 s doubling to
5 minutes), as Lambda retries throttles for up to the event's maximum age (6 hours).
Function errors are retried per the function's event invoke config (``event_config``), and an
outcome may carry ``finish``: work (destination deliveries) done in the same transaction that
deletes the event, so a delivery is committed exactly when the event is.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.tables import events
from lambdamaker.store import Store

log = logging.getLogger("lambdamaker.lambda")

LEASE_MS = 16 * 60 * 1000
"""Longer than the longest function timeout (900 s) plus start-up."""

_DEFAULTS = {"attempts": 0, "lease_until_ms": 0, "throttles": 0, "trace": None}
_INSERT = sa.insert(events)
_DUE = (
    sa.select(events)
    .where(
        events.c.next_attempt_ms <= sa.bindparam("now"),
        events.c.lease_until_ms <= sa.bindparam("now"),
    )
    .order_by(events.c.next_attempt_ms, events.c.id)
    .limit(sa.bindparam("limit"))
)
_DELETE = sa.delete(events).where(events.c.id == sa.bindparam("event_id"))
_DEFER = (
    sa.update(events)
    .where(events.c.id == sa.bindparam("event_id"))
    .values(
        next_attempt_ms=sa.bindparam("due"),
        attempts=sa.bindparam("n_attempts"),
        throttles=sa.bindparam("n_throttles"),
        lease_until_ms=0,
    )
)


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
    throttles: int = 0
    trace: str | None = None
    """The X-Ray header of the call that queued the event (recursive loop detection)."""


@dataclass(frozen=True)
class Outcome:
    """What to do with an event after an attempt: ``done``, or retry after ``delay_ms``."""

    done: bool
    delay_ms: int = 0
    count_attempt: bool = True
    throttled: bool = False
    """Refused for concurrency: counted in ``throttles`` (its backoff), not in ``attempts``."""
    finish: Callable[[Connection], None] | None = None
    """Run inside the transaction that deletes a done event (destination deliveries)."""


DONE = Outcome(done=True)


class _Waiter:
    __slots__ = ("error", "finished", "lead", "op", "result", "rows", "wake")

    def __init__(self, rows: list[dict[str, Any]], op: Callable[[Connection], Any] | None) -> None:
        self.rows = rows
        self.op = op
        self.wake = threading.Event()
        self.finished = False
        self.lead = False
        self.result: Any = None
        self.error: BaseException | None = None


class EventQueue:
    """The ``lambda_events`` table. Every write commits in groups (DESIGN.md, "Performance
    architecture"): the new events of concurrent Invoke calls and the claims, completions and
    deferrals of the dispatcher's workers go into one transaction, one fsync. One caller at a
    time leads: it commits everything waiting (its own work included), wakes the others, and
    hands the lead to the first caller that arrived meanwhile. Every caller returns only once
    its own work is committed. If a group fails, each of its members is run again in a
    transaction of its own, so one bad member (a destination that raises) fails only itself."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._leading = False
        # Callers on the event loop (``enqueue_async``); touched only from the loop's thread.
        self._loop_pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._loop_flushing = False
        self._flush_task: asyncio.Task[None] | None = None
        self.wake: Callable[[], None] | None = None
        """Called once after each group of ``enqueue_async`` commits (the dispatcher's
        ``notify``): one wake-up per group, not per event."""

    def enqueue(self, **values: Any) -> None:
        self._submit(_Waiter([{**_DEFAULTS, **values}], None))

    async def enqueue_async(self, values: dict[str, Any]) -> None:
        """``enqueue`` for a caller on the event loop, without a thread per call: the events
        of all callers waiting meanwhile are written by one worker thread in one group."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._loop_pending.append(({**_DEFAULTS, **values}, done))
        if not self._loop_flushing:
            self._loop_flushing = True
            self._flush_task = loop.create_task(self._flush_loop_pending())
        await done

    async def _flush_loop_pending(self) -> None:
        try:
            while self._loop_pending:
                batch, self._loop_pending = self._loop_pending, []
                error: BaseException | None = None
                try:
                    await anyio.to_thread.run_sync(
                        self._submit, _Waiter([v for v, _ in batch], None)
                    )
                except BaseException as exc:  # the store failed: every caller of the group hears
                    error = exc
                if error is None and self.wake is not None:
                    self.wake()
                for _, done in batch:
                    if done.done():  # the caller went away (its request was cancelled)
                        continue
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
        finally:
            self._loop_flushing = False

    def write(self, op: Callable[[Connection], Any]) -> Any:
        """Run ``op`` on a write transaction shared with concurrent writers; its result."""
        return self._submit(_Waiter([], op))

    def _submit(self, waiter: _Waiter) -> Any:
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
        return waiter.result

    @staticmethod
    def _run(conn: Connection, group: list[_Waiter]) -> None:
        rows = [row for w in group for row in w.rows]
        if rows:
            conn.execute(_INSERT, rows)
        for w in group:
            if w.op is not None:
                w.result = w.op(conn)

    def _commit_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            with self.store.begin() as conn:
                self._run(conn, group)
        except BaseException as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for w in group:
                    w.result = None
                    try:
                        with self.store.begin() as conn:
                            self._run(conn, [w])
                    except BaseException as single:
                        w.error = single
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

        def lease(conn: Connection) -> list[Any]:
            rows = list(conn.execute(_DUE, {"now": now_ms, "limit": limit}).all())
            if rows:
                conn.execute(
                    sa.update(events)
                    .where(events.c.id.in_([r.id for r in rows]))
                    .values(lease_until_ms=now_ms + LEASE_MS)
                )
            return rows

        rows: list[Any] = self.write(lease)
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
                throttles=r.throttles,
                trace=r.trace,
            )
            for r in rows
        ]

    def complete(self, event_id: int, finish: Callable[[Connection], None] | None = None) -> None:
        self.write(complete_op(event_id, finish))

    def defer(self, event_id: int, next_attempt_ms: int, attempts: int, throttles: int = 0) -> None:
        self.write(defer_op(event_id, next_attempt_ms, attempts, throttles))

    def write_all(self, ops: list[Callable[[Connection], Any]]) -> None:
        """Run each of ``ops`` in the shared write transactions (each fails alone); return
        once all are committed. Errors are logged: the event stays leased and runs again."""
        waiters = [_Waiter([], op) for op in ops]
        with self._lock:
            self._waiting.extend(waiters)
            if not self._leading:
                self._leading = waiters[0].lead = True
        for w in waiters:
            if not w.lead:
                w.wake.wait()
            if not w.finished:
                self._commit_group()
            if w.error is not None:
                log.error("lambda: recording an async event failed: %s", w.error)

    def next_due_ms(self) -> int | None:
        with self.store.read() as conn:
            value = conn.execute(
                sa.select(sa.func.min(events.c.next_attempt_ms)).where(events.c.lease_until_ms == 0)
            ).scalar()
        return int(value) if value is not None else None

    def pending(self) -> int:
        with self.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


def complete_op(
    event_id: int, finish: Callable[[Connection], None] | None
) -> Callable[[Connection], None]:
    """Delete a done event, with its deliveries (``finish``) in the same transaction."""

    def end(conn: Connection) -> None:
        if finish is not None:
            finish(conn)
        conn.execute(_DELETE, {"event_id": event_id})

    return end


def defer_op(
    event_id: int, next_attempt_ms: int, attempts: int, throttles: int
) -> Callable[[Connection], None]:
    values = {
        "event_id": event_id,
        "due": next_attempt_ms,
        "n_attempts": attempts,
        "n_throttles": throttles,
    }

    def defer(conn: Connection) -> None:
        conn.execute(_DEFER, values)

    return defer


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
        queue.wake = self.notify
        self.attempt = attempt
        self.workers = workers
        self.clock = clock
        self._wake = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        # Outcomes waiting to be recorded: a worker hands its outcome over and takes the next
        # event without waiting for the fsync (the event stays leased until it is recorded).
        self._settle: list[Callable[[Connection], None]] = []
        self._settle_wake = threading.Condition()
        self._settler: threading.Thread | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def start(self) -> None:
        released = self.queue.release_leases()
        if released:
            log.info("lambda: %d async event(s) interrupted by a restart will run again", released)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="lambda-event")
        self._thread = threading.Thread(target=self._run, name="lambda-dispatcher", daemon=True)
        self._thread.start()
        self._settler = threading.Thread(
            target=self._settle_loop, name="lambda-settle", daemon=True
        )
        self._settler.start()

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
        with self._settle_wake:
            self._settle_wake.notify_all()
        if self._settler is not None:
            self._settler.join(timeout=10)  # records what ended before the stop

    def _settle_loop(self) -> None:
        while True:
            with self._settle_wake:
                while not self._settle and not self._stopping:
                    self._settle_wake.wait()
                ops, self._settle = self._settle, []
                if not ops and self._stopping:
                    return
            try:
                self.queue.write_all(ops)
            except Exception:
                log.exception("lambda: recording async events failed")
            self.notify()  # a deferred event may now be due sooner than the dispatcher thinks

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
                op = complete_op(event.id, outcome.finish)
            else:
                attempts = event.attempts + (1 if outcome.count_attempt else 0)
                throttles = event.throttles + (1 if outcome.throttled else 0)
                due = self.now_ms() + outcome.delay_ms
                op = defer_op(event.id, due, attempts, throttles)
            with self._settle_wake:
                self._settle.append(op)
                self._settle_wake.notify()
        except Exception:
            log.exception("lambda: recording async event %s failed", event.request_id)
        finally:
            with self._wake:
                self._in_flight -= 1
                self._wake.notify_all()
