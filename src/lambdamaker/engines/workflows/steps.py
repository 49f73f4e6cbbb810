"""One state visit's events, appended fresh or replayed from the journal after a crash.

A visit's step key is ``<branch prefix><sequence>.<state name>``: the sequence counts visits in
the branch, so the walk after a crash names every visit as it did before. Within a step, events
are positional: the n-th ``emit`` of a replayed step returns the n-th recorded event instead of
appending a new one, and ``peek`` shows the interpreter the outcome a Task already had (so the
task is not called again) or the time a Wait started (so the deadline does not move). Only
events past the recorded ones are appended; none is appended twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdamaker.engines.workflows.history import HistoryEvent, Journal


class Thread:
    """The chain of ``previousEventId`` in one branch of the execution."""

    __slots__ = ("last_id",)

    def __init__(self, last_id: int) -> None:
        self.last_id = last_id


class Ids:
    """Event ids a quiet journal lends for numbering events synchronously (``lease``): ``next``
    is the next id to hand out, ids below ``end`` may be handed out without an append (``end``
    is the history cap). The borrower hands ids out by moving ``next`` and gives the lease back
    (``settle``) before it awaits anything, so no other numbering can come in between."""

    __slots__ = ("end", "next")

    def __init__(self, next_id: int, end: int) -> None:
        self.next = next_id
        self.end = end


class Step:
    __slots__ = ("journal", "key", "position", "recorded", "thread")

    def __init__(self, journal: Journal, key: str, thread: Thread) -> None:
        self.journal = journal
        self.key = key
        self.thread = thread
        self.recorded = journal.recorded(key)
        self.position = 0

    @property
    def replaying(self) -> bool:
        """True while recorded events remain to be consumed."""
        return self.position < len(self.recorded)

    def peek(self) -> HistoryEvent | None:
        """The next recorded event (replay), without consuming it."""
        if self.position < len(self.recorded):
            return self.recorded[self.position]
        return None

    async def emit(self, event_type: str, details: dict[str, Any]) -> tuple[HistoryEvent, bool]:
        """``(event, replayed)``: the recorded event at this position, or a new appended one."""
        if self.position < len(self.recorded):
            event = self.recorded[self.position]
            self.position += 1
            self.thread.last_id = event.id
            return event, True
        event = await self.journal.append(
            event_type, details, previous=self.thread.last_id, step=self.key
        )
        self.thread.last_id = event.id
        return event, False

    async def note(self, event_type: str, details: dict[str, Any]) -> None:
        """``emit`` for an event whose value the caller does not need: a journal that offers
        ``mark`` (nobody reads its events) only numbers it."""
        mark = getattr(self.journal, "mark", None)
        if mark is not None and self.position >= len(self.recorded):
            marked = mark(self.thread.last_id)
            if marked is not None:
                self.thread.last_id = marked[0]
                return
        await self.emit(event_type, details)
