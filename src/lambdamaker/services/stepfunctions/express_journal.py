"""The journal of an Express execution whose events nobody reads (logging OFF).

An Express execution has no GetExecutionHistory; its events only matter when they are shipped to
CloudWatch Logs. Without logging, building them is wasted work, so ``QuietJournal`` offers the
interpreter ``mark``: a state's Entered/Exited event is numbered (ids and times as ``append``
would give them) but never built, formatted or kept. Work that never awaits (planned Pass
states, inline Map iterations) numbers its events on a ``lease`` of ids instead, with no call
per event, and gives the ids it used back with ``settle``.

Invariants:
- ids are handed out exactly as ``MemoryJournal`` hands them out, so causes that name an event
  id (``entered at the event id #N``) read the same with or without logging;
- the history cap is the same: ``mark`` declines (None) when the next id would reach it (a
  lease ends there: ``Ids.end``), and the interpreter then appends, which applies the cap as
  ``MemoryJournal`` does;
- between ``lease`` and ``settle`` nothing else numbers events (the borrower does not await);
- terminal events are still kept in ``events`` (the runtime reads the outcome from them); no
  other event is kept;
- nothing is ever replayed (``recorded`` is empty): Express executions are never resumed.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.steps import Ids
from lambdamaker.services.stepfunctions.journal import (
    HISTORY_LIMIT,
    TERMINAL,
    ExecutionClosed,
    MemoryJournal,
)

_NOTHING: list[HistoryEvent] = []


class QuietJournal(MemoryJournal):
    def mark(self, previous: int) -> tuple[int, float] | None:
        """Number one event nobody reads: ``(id, epoch seconds)``; None when
        it must be appended instead (closed, or the history cap is near)."""
        numbering = self._numbering
        event_id = numbering.next_id
        if numbering.closed or event_id >= HISTORY_LIMIT:
            return None
        numbering.next_id = event_id + 1
        return event_id, numbering.clock()

    def lease(self) -> Ids:
        """The ids events may be numbered with until ``settle`` (none once closed)."""
        numbering = self._numbering
        first = numbering.next_id
        return Ids(first, first if numbering.closed else HISTORY_LIMIT)

    def settle(self, ids: Ids) -> None:
        """Take back a lease: the ids below ``ids.next`` are used."""
        self._numbering.next_id = ids.next

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        event, full = self._numbering.make(event_type, details, previous, step)
        if event.type in TERMINAL:
            self._numbering.events.append(event)
        if full:
            raise ExecutionClosed("the execution history is full")
        return event

    def recorded(self, step: str) -> list[HistoryEvent]:
        return _NOTHING
