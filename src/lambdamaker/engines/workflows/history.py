"""History events, in GetExecutionHistory's shape, and the journal they are appended to.

An event is ``(id, previous_event_id, timestamp, type, details)``; ``details`` is the member
AWS puts under ``<camelCaseType>EventDetails`` (``stateEnteredEventDetails`` for every
``*StateEntered``, ``stateExitedEventDetails`` for every ``*StateExited``); events AWS gives no
details (``ParallelStateStarted``, ``MapStateSucceeded`` ...) have ``details == {}``.

``step`` is ours, never on the wire: a key naming the state visit that appended the event
(``"Validate#0"``, ``"Fanout#0/branch 1/Load#0"``, ``"Each#0/item 12/Score#2"``). Replay after a
crash matches recorded events to the visits the interpreter makes again by these keys, so no
transition is applied or appended twice.

The ``Journal`` is supplied by the caller. A Standard execution's journal commits each append
(grouped across executions) before ``append`` returns; an Express journal keeps events in
memory (and ships them to CloudWatch Logs when logging is on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


def details_member(event_type: str) -> str | None:
    """The HistoryEvent member holding ``event_type``'s details (None: it has none)."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    if event_type in _NO_DETAILS:
        return None
    return event_type[0].lower() + event_type[1:] + "EventDetails"


_NO_DETAILS = frozenset(
    {
        "MapStateAborted",
        "MapStateFailed",
        "MapStateSucceeded",
        "ParallelStateAborted",
        "ParallelStateFailed",
        "ParallelStateStarted",
        "ParallelStateSucceeded",
        "TaskStateAborted",
        "WaitStateAborted",
        "MapRunAborted",
        "MapRunSucceeded",
        "LambdaFunctionStarted",
    }
)


@dataclass
class HistoryEvent:
    id: int
    previous_event_id: int
    timestamp: datetime
    type: str
    details: dict[str, Any] = field(default_factory=dict)
    step: str = ""

    def to_api(self) -> dict[str, Any]:
        """This event as GetExecutionHistory returns it (botocore member names)."""
        out: dict[str, Any] = {
            "timestamp": self.timestamp,
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        member = details_member(self.type)
        if member is not None and self.details:
            out[member] = self.details
        return out


class Journal(Protocol):
    """Where an execution's events go. Implementations number events from 1 in append order."""

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        """Append one event; for a durable journal it is committed when this returns."""
        ...

    def recorded(self, step: str) -> list[HistoryEvent]:
        """Events already recorded for ``step`` (replay after a crash); ``[]`` when fresh."""
        ...
