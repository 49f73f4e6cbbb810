"""Journals: where an execution's history events go.

``DurableJournal`` (Standard) commits every append through one ``JournalWriter`` per event loop:
the appends of all executions waiting meanwhile share one transaction (group commit), so a
thousand running executions cost one fsync per group, not one per transition.
``MemoryJournal`` (Express, and tests) keeps events in a list.

Invariants:
- ``append`` returns only after the event is committed; a refused append raises
  ``ExecutionClosed`` (a ``CancelledError``, so the interpreter unwinds as if cancelled and no
  Catch can swallow it);
- an append is refused when the execution's row is not RUNNING at commit time (StopExecution
  or a timeout won the race) or when the history is full; the check and the insert share the
  transaction, so an aborted execution never gains an event after ExecutionAborted;
- a terminal event updates the execution's status, output/error/cause and stop time in the same
  transaction as its insert;
- event ids are handed out in call order and the writer commits in call order, so ids have no
  gaps unless an append is refused (and after a refusal nothing more is ever committed);
- a work handed to ``submit_work`` (a Standard start) runs in the next group's transaction in
  its own savepoint (its failure rolls back only itself) and is answered only after that
  transaction committed;
- event 25,000 is the last: unless it is ExecutionSucceeded, ExecutionFailed is written in its
  place (AWS: "If the event number 25,000 isn't ExecutionSucceeded, the ExecutionFailed event is
  logged").

Cost: a group is one transaction of few driver-direct statements (the RUNNING check of all
the group's executions as one query, all its events as one insert, the rare terminal updates,
the starts' savepoints): SQLAlchemy's per-statement machinery, and the writer thread's wait for
the GIL after each driver call, would cost more than the statements (see ``_GroupSql``).
Details are encoded with orjson (json for what orjson refuses); readers decode either.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.workflows.execution import ABORTED, FAILED, SUCCEEDED, TIMED_OUT
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.store import Store

Work = Callable[[Connection], Any]

RUNNING = "RUNNING"
HISTORY_LIMIT = 25_000
HISTORY_LIMIT_ERROR = "States.Runtime"
HISTORY_LIMIT_CAUSE = (
    f"The execution reached the maximum number of history events ({HISTORY_LIMIT})."
)
MAX_GROUP = 2_000
"""Appends per transaction: bounds one transaction's size and the latency of its first caller."""

TERMINAL: dict[str, str] = {
    "ExecutionSucceeded": SUCCEEDED,
    "ExecutionFailed": FAILED,
    "ExecutionTimedOut": TIMED_OUT,
    "ExecutionAborted": ABORTED,
}


class ExecutionClosed(asyncio.CancelledError):
    """An append was refused: the execution is no longer RUNNING."""


def to_us(moment: float) -> int:
    return round(moment * 1_000_000)


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def details_text(details: dict[str, Any]) -> str:
    """An event's details as JSON text (orjson: several times cheaper than json, and the same
    value once parsed; json for what orjson refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(details).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(details, separators=(",", ":"))


def event_row(execution_arn: str, event: HistoryEvent) -> dict[str, Any]:
    return {
        "execution_arn": execution_arn,
        "id": event.id,
        "previous_id": event.previous_event_id,
        "ts_us": to_us(event.timestamp.timestamp()),
        "type": event.type,
        "details": details_text(event.details),
        "step": event.step,
    }


_HISTORY_COLUMNS = ("execution_arn", "id", "previous_id", "ts_us", "type", "details", "step")


def _event_tuple(execution_arn: str, event: HistoryEvent) -> tuple[Any, ...]:
    """``event_row`` in ``_HISTORY_COLUMNS`` order, for the driver's ``executemany``."""
    return (
        execution_arn,
        event.id,
        event.previous_event_id,
        to_us(event.timestamp.timestamp()),
        event.type,
        details_text(event.details),
        event.step,
    )


def event_of_row(row: Any) -> HistoryEvent:
    return HistoryEvent(
        id=row.id,
        previous_event_id=row.previous_id,
        timestamp=from_us(row.ts_us),
        type=row.type,
        details=details_of_text(row.details),
        step=row.step,
    )


def details_of_text(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN / Infinity, which json writes and orjson does not read
        return json.loads(text)


def terminal_values(event_type: str, details: dict[str, Any], stop_us: int) -> dict[str, Any]:
    """The execution row's columns a terminal event sets."""
    output = details.get("output")
    if output is not None and not isinstance(output, str):
        output = json.dumps(output, separators=(",", ":"))
    return {
        "status": TERMINAL[event_type],
        "output": output,
        "error": details.get("error"),
        "cause": details.get("cause"),
        "stop_us": stop_us,
    }


_TERMINAL_UPDATE = sa.update(t.executions).where(t.executions.c.arn == sa.bindparam("the_arn"))


class _GroupSql:
    """The group's statements in one dialect, built once; each is one call into the driver.

    Why so few calls: the writer thread gives up the GIL in every driver call (SQLite: every
    step of every row) and, while the runner's loop is busy, waits up to a switch interval to
    get it back; a row-by-row ``executemany`` of a few hundred events spent most of the group's
    time there. SQLite gets the group's ARNs and rows as one JSON parameter each (``json_each``:
    one statement, one step, whatever the group's size); PostgreSQL an array parameter and a
    pipelined ``executemany`` (a round trip per batch, not per row)."""

    def __init__(self, dialect: str, paramstyle: str) -> None:
        mark = "?" if paramstyle == "qmark" else "%s"
        table, history = t.executions.name, t.history.name
        columns = ", ".join(_HISTORY_COLUMNS)
        self.sqlite = dialect == "sqlite"
        if self.sqlite:
            # One row back: the group's executions that are RUNNING, as a JSON array.
            self.running = (
                f"SELECT json_group_array(arn) FROM {table}"
                f" WHERE arn IN (SELECT value FROM json_each({mark})) AND status = 'RUNNING'"
            )
            values = ", ".join(
                f"json_extract(value, '$[{k}]')" for k in range(len(_HISTORY_COLUMNS))
            )
            self.insert = (
                f"INSERT INTO {history} ({columns}) SELECT {values} FROM json_each({mark})"
            )
        else:
            self.running = f"SELECT arn FROM {table} WHERE arn = ANY({mark}) AND status = 'RUNNING'"
            marks = ", ".join([mark] * len(_HISTORY_COLUMNS))
            self.insert = f"INSERT INTO {history} ({columns}) VALUES ({marks})"

    def running_of(self, cursor: Any, arns: list[str]) -> set[str]:
        if self.sqlite:
            cursor.execute(self.running, (orjson.dumps(arns).decode(),))
            return set(orjson.loads(cursor.fetchone()[0]))
        cursor.execute(self.running, (arns,))
        return {row[0] for row in cursor.fetchall()}

    def insert_rows(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        if self.sqlite:
            try:
                text = orjson.dumps(rows).decode()
            except TypeError:  # orjson.JSONEncodeError: text orjson refuses (lone surrogates)
                text = ""
            if text:
                cursor.execute(self.insert, (text,))
                return
            cursor.executemany(
                f"INSERT INTO {t.history.name} ({', '.join(_HISTORY_COLUMNS)})"
                f" VALUES ({', '.join('?' * len(_HISTORY_COLUMNS))})",
                rows,
            )
            return
        cursor.executemany(self.insert, rows)


_SQL: dict[str, _GroupSql] = {}
_SQL_LOCK = threading.Lock()


def _group_sql(conn: Connection) -> _GroupSql:
    dialect = conn.dialect
    found = _SQL.get(dialect.name)
    if found is None:
        found = _GroupSql(dialect.name, dialect.paramstyle)
        with _SQL_LOCK:
            _SQL[dialect.name] = found
    return found


def load_events(conn: Connection, execution_arn: str) -> list[HistoryEvent]:
    rows = conn.execute(
        sa.select(t.history)
        .where(t.history.c.execution_arn == execution_arn)
        .order_by(t.history.c.id)
    )
    return [event_of_row(row) for row in rows]


@dataclass
class _Pending:
    execution_arn: str
    event: HistoryEvent
    done: asyncio.Future[bool]


class JournalWriter:
    """Group commit of the appends of every durable journal on one event loop."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[_Pending] = []
        self._works: list[tuple[Work, Future[Any]]] = []
        # Works not yet answered, so ``close`` can fail those a stopped loop will never take.
        self._inflight: set[Future[Any]] = set()
        self._inflight_lock = threading.Lock()
        self._closed = False
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None
        # One writer thread: transactions of this writer commit in order, so ids commit in
        # the order they were handed out.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sfn-journal")

    async def write(self, execution_arn: str, event: HistoryEvent) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        self._pending.append(_Pending(execution_arn, event, done))
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush())
        if not await done:
            raise ExecutionClosed(f"{execution_arn} is no longer running")

    def submit_work(self, loop: asyncio.AbstractEventLoop, work: Work) -> Future[Any]:
        """Run ``work(conn)`` in the transaction of the next group (from any thread but the
        loop's); the future resolves once that transaction committed, or with the work's own
        exception (its savepoint rolled back, the group unharmed). Standard starts come this way:
        they share the group's fsync instead of competing with it for the write lock."""
        done: Future[Any] = Future()
        with self._inflight_lock:
            if self._closed:
                raise RuntimeError("the stepfunctions journal writer is closed")
            self._inflight.add(done)
        done.add_done_callback(self._forget)

        def add() -> None:
            self._works.append((work, done))
            if not self._flushing:
                self._flushing = True
                self._flush_task = loop.create_task(self._flush())

        loop.call_soon_threadsafe(add)
        return done

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending or self._works:
                batch, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
                works, self._works = self._works, []
                try:
                    accepted = await loop.run_in_executor(
                        self._executor, self._commit, batch, works
                    )
                except Exception as exc:
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)
                    continue
                for item, ok in zip(batch, accepted, strict=True):
                    if not item.done.done():
                        item.done.set_result(ok)
        finally:
            self._flushing = False

    def _commit(self, batch: list[_Pending], works: list[tuple[Work, Future[Any]]]) -> list[bool]:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            accepted = self._transaction(batch, works, outcomes)
        except BaseException as exc:
            for _, done in works:
                if not done.done():
                    done.set_exception(exc)
            raise
        # Committed: only now may a work's caller answer.
        for done, result, error in outcomes:
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)
        return accepted

    def _transaction(
        self,
        batch: list[_Pending],
        works: list[tuple[Work, Future[Any]]],
        outcomes: list[tuple[Future[Any], Any, BaseException | None]],
    ) -> list[bool]:
        # Encoded before the write lock is taken: other writers wait for less.
        rows = [_event_tuple(item.execution_arn, item.event) for item in batch]
        arns = list({item.execution_arn: None for item in batch})
        if not batch:
            with self.store.begin() as conn:
                self._run_works(conn, works, outcomes)
            return []
        with self.store.begin() as conn:
            self._run_works(conn, works, outcomes)
            sql = _group_sql(conn)
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                # The RUNNING check: once per execution per group, in this transaction.
                running = sql.running_of(cursor, arns)
                accepted: list[bool] = []
                kept: list[tuple[Any, ...]] = []
                for item, row in zip(batch, rows, strict=True):
                    if item.execution_arn not in running:
                        accepted.append(False)
                        continue
                    accepted.append(True)
                    kept.append(row)
                    event = item.event
                    if event.type in TERMINAL:
                        values = terminal_values(event.type, event.details, row[3])
                        conn.execute(_TERMINAL_UPDATE, {"the_arn": item.execution_arn, **values})
                        running.discard(item.execution_arn)
                if kept:
                    sql.insert_rows(cursor, kept)
            finally:
                cursor.close()
        return accepted

    @staticmethod
    def _run_works(
        conn: Connection,
        works: list[tuple[Work, Future[Any]]],
        outcomes: list[tuple[Future[Any], Any, BaseException | None]],
    ) -> None:
        for work, done in works:
            try:
                with conn.begin_nested():
                    outcomes.append((done, work(conn), None))
            except Exception as exc:  # the work's own failure: its savepoint is rolled back
                outcomes.append((done, None, exc))

    def _forget(self, done: Future[Any]) -> None:
        with self._inflight_lock:
            self._inflight.discard(done)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._inflight_lock:
            self._closed = True
            left = list(self._inflight)
        for done in left:
            if not done.done():
                done.set_exception(RuntimeError("the stepfunctions journal writer closed"))


def replay_index(events: list[HistoryEvent]) -> dict[str, list[HistoryEvent]]:
    """Recorded events by step, as a resumed run replays them.

    After a RedriveExecution only what the redriven run may reuse is replayed: the events of
    visits that completed (a ``*StateExited`` was recorded) before the last ExecutionRedriven,
    and everything after it. A visit that failed runs again and appends afresh under its key;
    events appended outside any visit (step ``""``) are never replayed."""
    last_redrive = -1
    for index, event in enumerate(events):
        if event.type == "ExecutionRedriven":
            last_redrive = index
    before, after = events[: last_redrive + 1], events[last_redrive + 1 :]
    by_step: dict[str, list[HistoryEvent]] = {}
    if before:
        exited = {event.step for event in before if event.type.endswith("StateExited")}
        for event in before:
            if event.step and event.step in exited:
                by_step.setdefault(event.step, []).append(event)
    for event in after:
        if event.step:
            by_step.setdefault(event.step, []).append(event)
    return by_step


class _Numbering:
    """Ids, timestamps, the history cap and the replay index shared by both journals."""

    def __init__(self, events: list[HistoryEvent], clock: Callable[[], float]) -> None:
        self.clock = clock
        self.events = list(events)
        self._by_step = replay_index(events)
        self.next_id = (events[-1].id + 1) if events else 1
        self.closed = False

    def make(
        self, event_type: str, details: dict[str, Any], previous: int, step: str
    ) -> tuple[HistoryEvent, bool]:
        """The next event, and whether it ends the execution because the history is full."""
        if self.closed or self.next_id > HISTORY_LIMIT:
            raise ExecutionClosed("the execution history is full")
        full = False
        if self.next_id == HISTORY_LIMIT and event_type not in TERMINAL:
            event_type, full = "ExecutionFailed", True
            details = {"error": HISTORY_LIMIT_ERROR, "cause": HISTORY_LIMIT_CAUSE}
        event = HistoryEvent(
            id=self.next_id,
            previous_event_id=previous,
            timestamp=datetime.fromtimestamp(self.clock(), UTC),
            type=event_type,
            details=details,
            step=step,
        )
        self.next_id += 1
        if event_type in TERMINAL:
            self.closed = True
        return event, full

    def recorded(self, step: str) -> list[HistoryEvent]:
        return self._by_step.get(step, [])


class DurableJournal:
    """A Standard execution's journal: every append committed before it returns."""

    def __init__(
        self,
        writer: JournalWriter,
        execution_arn: str,
        events: list[HistoryEvent],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.writer = writer
        self.execution_arn = execution_arn
        self._numbering = _Numbering(events, clock)

    @property
    def events(self) -> list[HistoryEvent]:
        return self._numbering.events

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        event, full = self._numbering.make(event_type, details, previous, step)
        await self.writer.write(self.execution_arn, event)
        self._numbering.events.append(event)
        if full:
            raise ExecutionClosed("the execution history is full")
        return event

    def recorded(self, step: str) -> list[HistoryEvent]:
        return self._numbering.recorded(step)


class MemoryJournal:
    """An Express execution's journal (and the tests'): events kept in a list."""

    def __init__(
        self, events: list[HistoryEvent] | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._numbering = _Numbering(events or [], clock)
        self.on_append: Callable[[HistoryEvent], None] | None = None

    @property
    def events(self) -> list[HistoryEvent]:
        return self._numbering.events

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        event, full = self._numbering.make(event_type, details, previous, step)
        self._numbering.events.append(event)
        if self.on_append is not None:
            self.on_append(event)
        if full:
            raise ExecutionClosed("the execution history is full")
        return event

    def recorded(self, step: str) -> list[HistoryEvent]:
        return self._numbering.recorded(step)

    def close(self, event_type: str, details: dict[str, Any]) -> HistoryEvent:
        """Append a terminal event from outside the interpreter (StopExecution of an Express
        execution); later appends are refused."""
        previous = self.events[-1].id if self.events else 0
        event = HistoryEvent(
            id=self._numbering.next_id,
            previous_event_id=previous,
            timestamp=datetime.fromtimestamp(self._numbering.clock(), UTC),
            type=event_type,
            details=details,
            step="",
        )
        self._numbering.next_id += 1
        self._numbering.closed = True
        self._numbering.events.append(event)
        return event
