"""Asynchronous invocations: a durable queue in the store, drained by ``dispatcher``.

Invariants:
- Invoke with ``InvocationType=Event`` answers 202 only after the event's row is committed
  (DESIGN.md decision 4). The row is deleted only after an attempt ended, so a crash in between
  runs the event again: delivery is at-least-once, as Lambda documents for async invocations.
- A dispatcher claims due events by setting a lease (``lease_until_ms``) in one statement
  (``UPDATE ... RETURNING``), so no two workers run the same event. It claims a few rounds of
  work ahead of its workers; the lease covers the wait behind them plus the longest attempt,
  so an event still queued in memory is never claimed again. At start-up every lease is released: this process is
  the store's only dispatcher, so a leased row belongs to a process that died mid-attempt.
- During shutdown, attempts that end are not recorded (the engine is being stopped under
  them); their rows stay leased and run again after the restart.
- Every write (new events, claims, outcomes) is group-committed (``EventQueue``): concurrent
  writers share one transaction and one fsync. A worker hands its outcome to the settler
  thread and takes its next event at once; the event stays leased, so no one claims it again
  before its outcome is committed, and a crash before that runs it again (at-least-once).
  The settler records a batch of outcomes together (executemany); if that fails, each outcome
  is recorded alone, so one bad destination fails only its own event.
- Accepting comes first: a worker starts an attempt only once no Invoke is waiting for its
  event to be committed (``EventQueue.accept_idle``), or after ``ACCEPT_YIELD_S`` at most. The
  accept path and the attempts share one interpreter lock; attempts cost more of it per event
  than accepts, so without this a burst of Invoke calls is accepted only as fast as events
  run. Events accepted meanwhile wait, committed, in the store; every attempt still starts
  within ``ACCEPT_YIELD_S`` of its turn, so processing never stops.

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
import weakref
from collections.abc import Callable
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

ACCEPT_YIELD_S = 0.05
"""How long a worker waits at most, per attempt, for the accept path to go idle."""

_DEFAULTS = {"attempts": 0, "lease_until_ms": 0, "throttles": 0, "trace": None}
_ROW_KEYS = len(events.c) - 1
"""Keys of a complete new row: every column but ``id``."""
_INSERT = sa.insert(events)
_CLAIM = (
    sa.update(events)
    .where(
        events.c.id.in_(
            sa.select(events.c.id)
            .where(
                events.c.next_attempt_ms <= sa.bindparam("now"),
                events.c.lease_until_ms <= sa.bindparam("now"),
            )
            .order_by(events.c.next_attempt_ms, events.c.id)
            .limit(sa.bindparam("limit"))
            .scalar_subquery()
        )
    )
    .values(lease_until_ms=sa.bindparam("lease"))
    .returning(
        events.c.id,
        events.c.request_id,
        events.c.function_name,
        events.c.qualifier,
        events.c.invoked_arn,
        events.c.payload,
        events.c.created_ms,
        events.c.attempts,
        events.c.throttles,
        events.c.trace,
        events.c.next_attempt_ms,
    )
)
"""One statement leases a whole batch (SQLite >= 3.35 and PostgreSQL have RETURNING); the
rows come back in no particular order, so ``claim`` sorts them."""
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


class _LoopBatch:
    """The events of one event loop's callers waiting to be handed to a worker thread."""

    __slots__ = ("flushing", "pending", "task")

    def __init__(self) -> None:
        self.pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self.flushing = False
        self.task: asyncio.Task[None] | None = None


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
        # Callers on event loops (``enqueue_async``), batched per loop: a batch's futures
        # belong to the loop that awaits them (the server has one loop; in-process callers
        # may run others).
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBatch] = (
            weakref.WeakKeyDictionary()
        )
        self._flushing_loops = 0
        self._loops_lock = threading.Lock()
        self.accept_idle = threading.Event()
        """Set while no ``enqueue_async`` caller waits for a commit (the dispatcher's workers
        let accepts go first)."""
        self.accept_idle.set()
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
        # A complete row (as Invoke builds it) is taken as is: no copy per request.
        row = values if len(values) == _ROW_KEYS else {**_DEFAULTS, **values}
        with self._loops_lock:
            state = self._loops.get(loop)
            if state is None:
                state = self._loops[loop] = _LoopBatch()
        state.pending.append((row, done))
        if not state.flushing:
            state.flushing = True
            with self._loops_lock:
                self._flushing_loops += 1
                self.accept_idle.clear()
            state.task = loop.create_task(self._flush_loop_pending(state))
        await done

    async def _flush_loop_pending(self, state: _LoopBatch) -> None:
        try:
            while state.pending:
                batch, state.pending = state.pending, []
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
            state.flushing = False
            with self._loops_lock:
                self._flushing_loops -= 1
                if not self._flushing_loops:
                    self.accept_idle.set()

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

    def claim(self, now_ms: int, limit: int, lease_ms: int = LEASE_MS) -> list[QueuedEvent]:
        """Lease up to ``limit`` due events, oldest first, for ``lease_ms``."""
        if limit <= 0:
            return []

        params = {"now": now_ms, "limit": limit, "lease": now_ms + lease_ms}

        def lease(conn: Connection) -> list[Any]:
            return list(conn.execute(_CLAIM, params).all())

        rows: list[Any] = self.write(lease)
        rows.sort(key=lambda r: (r[10], r[0]))  # oldest first: next_attempt_ms, then id
        return [
            QueuedEvent(r[0], r[1], r[2], r[3], r[4], bytes(r[5]), r[6], r[7], r[8], r[9])
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


def settle_op(
    done: list[int],
    finishes: list[Callable[[Connection], None]],
    deferred: list[dict[str, int]],
) -> Callable[[Connection], None]:
    """Record a batch of outcomes in one go: deliveries, then one executemany DELETE for the
    done events and one executemany UPDATE for the deferred ones (``defer_values``)."""

    def settle(conn: Connection) -> None:
        for finish in finishes:
            finish(conn)
        if done:
            conn.execute(_DELETE, [{"event_id": i} for i in done])
        if deferred:
            conn.execute(_DEFER, deferred)

    return settle


def defer_values(
    event_id: int, next_attempt_ms: int, attempts: int, throttles: int
) -> dict[str, int]:
    return {
        "event_id": event_id,
        "due": next_attempt_ms,
        "n_attempts": attempts,
        "n_throttles": throttles,
    }


def defer_op(
    event_id: int, next_attempt_ms: int, attempts: int, throttles: int
) -> Callable[[Connection], None]:
    values = defer_values(event_id, next_attempt_ms, attempts, throttles)

    def defer(conn: Connection) -> None:
        conn.execute(_DEFER, values)

    return defer
