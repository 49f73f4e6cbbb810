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
- event 25,000 is the last: unless it is ExecutionSucceeded, ExecutionFailed is written in its
  place (AWS: "If the event number 25,000 isn't ExecutionSucceeded, the ExecutionFailed event is
  logged").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.workflows.execution import ABORTED, FAILED, SUCCEEDED, TIMED_OUT
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.store import Store

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


def event_row(execution_arn: str, event: HistoryEvent) -> dict[str, Any]:
    return {
        "execution_arn": execution_arn,
        "id": event.id,
        "previous_id": event.previous_event_id,
        "ts_us": to_us(event.timestamp.timestamp()),
        "type": event.type,
        "details": json.dumps(event.details, separators=(",", ":")),
        "step": event.step,
    }


def event_of_row(row: Any) -> HistoryEvent:
    return HistoryEvent(
        id=row.id,
        previous_event_id=row.previous_id,
        timestamp=from_us(row.ts_us),
        type=row.type,
        details=json.loads(row.details),
        step=row.step,
    )


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


_STATUS = sa.select(t.executions.c.arn, t.executions.c.status)
_INSERT = sa.insert(t.history)


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

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
                try:
                    accepted = await loop.run_in_executor(self._executor, self._commit, batch)
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

    def _commit(self, batch: list[_Pending]) -> list[bool]:
        arns = {item.execution_arn for item in batch}
        with self.store.begin() as conn:
            status = {
                row.arn: row.status
                for row in conn.execute(_STATUS.where(t.executions.c.arn.in_(arns)))
            }
            rows: list[dict[str, Any]] = []
            accepted: list[bool] = []
            for item in batch:
                if status.get(item.execution_arn) != RUNNING:
                    accepted.append(False)
                    continue
                event = item.event
                rows.append(event_row(item.execution_arn, event))
                accepted.append(True)
                if event.type in TERMINAL:
                    values = terminal_values(
                        event.type, event.details, to_us(event.timestamp.timestamp())
                    )
                    conn.execute(
                        sa.update(t.executions)
                        .where(t.executions.c.arn == item.execution_arn)
                        .values(**values)
                    )
                    status[item.execution_arn] = values["status"]
            if rows:
                conn.execute(_INSERT, rows)
        return accepted

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


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
