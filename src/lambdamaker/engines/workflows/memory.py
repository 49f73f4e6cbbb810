"""An in-memory journal: Express executions, TestState, and tests of the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lambdamaker.engines.workflows.history import HistoryEvent


class MemoryJournal:
    """Events in a list, numbered from ``first_id``; ``recorded`` serves a replay from
    ``events`` passed in (what a durable journal would have loaded)."""

    def __init__(
        self,
        clock: Any = None,
        *,
        first_id: int = 2,
        events: list[HistoryEvent] | None = None,
        keep: bool = True,
    ) -> None:
        self.clock = clock
        self.events: list[HistoryEvent] = []
        self.next_id = first_id
        self.keep = keep
        self._by_step: dict[str, list[HistoryEvent]] = {}
        for event in events or ():
            self._by_step.setdefault(event.step, []).append(event)
            self.next_id = max(self.next_id, event.id + 1)

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        moment = datetime.fromtimestamp(self.clock(), UTC) if self.clock else datetime.now(UTC)
        event = HistoryEvent(self.next_id, previous, moment, event_type, details, step)
        self.next_id += 1
        if self.keep:
            self.events.append(event)
        return event

    def recorded(self, step: str) -> list[HistoryEvent]:
        return self._by_step.get(step, [])
