"""Tick planning for a scheduler loop: which tick to fire now, and what to persist.

The caller persists one value per schedule, the *cursor*: the last tick it fired (or, for a
new schedule, the moment it was created, so ticks before creation never fire). Each time the
loop wakes it calls ``ScheduleCursor.plan(cursor, now)`` and, in the same transaction as
recording the firing (enqueueing the target's event), stores ``plan.cursor``; then it sleeps
until ``plan.wake_at``.

Initial cursor: the creation time (ticks at or before it never fire). A rate schedule without
a StartDate starts immediately on AWS Scheduler: anchor it at the creation time and store the
creation time minus one microsecond, so its first tick is the creation moment itself.

Missed-tick policy (AWS EventBridge does not backfill, and neither do we):

- Of all ticks in ``(cursor, now]``, only the most recent fires, once. Older missed ticks are
  dropped (``plan.skipped`` says some were). After an outage of a day, a ``rate(5 minutes)``
  schedule fires one catch-up tick, not 288.
- With ``max_lateness`` set, that most recent tick is dropped too when it is more than
  ``max_lateness`` old; the cursor still moves past it.
- A one-time ``at()`` schedule that was missed therefore fires once, late (unless too late).

Invariants:

- ``plan.cursor >= cursor``, and ``plan.due``, when set, equals ``plan.cursor``: every tick
  the loop may fire is strictly after the stored cursor, so as long as the cursor is committed
  with the firing, no tick fires twice, across restarts or concurrent planners.
- ``plan`` is a pure function of its arguments: no clock is read here.
- Ticks before ``start`` (Scheduler's StartDate) or after ``end`` (EndDate) never fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lambdamaker.engines.events.schedule import (
    Schedule,
    next_fire,
    parse_schedule_expression,
    previous_fire,
)

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class TickPlan:
    due: datetime | None  # the tick to fire now, if any
    skipped: bool  # some tick in (cursor, now] was dropped under the policy
    cursor: datetime  # store this together with the firing (always safe to store)
    wake_at: datetime | None  # the next tick after the new cursor; None: schedule is over


@dataclass(frozen=True)
class ScheduleCursor:
    """One schedule's timing: expression, zone and bounds (no state; the cursor is external)."""

    expression: str | Schedule
    tz: str = "UTC"
    anchor: datetime | None = None  # rate schedules: first tick (defaults to ``start``)
    start: datetime | None = None
    end: datetime | None = None
    max_lateness: timedelta | None = None

    def _schedule(self) -> Schedule:
        if isinstance(self.expression, str):
            return parse_schedule_expression(self.expression)
        return self.expression

    def _anchor(self) -> datetime | None:
        return self.anchor if self.anchor is not None else self.start

    def _floor(self, cursor: datetime) -> datetime:
        # Ticks must be > floor: after the cursor, and at or after start.
        if self.start is not None and self.start - _TICK > cursor:
            return self.start - _TICK
        return cursor

    def next_after(self, cursor: datetime) -> datetime | None:
        """The first tick after ``cursor`` within the bounds (the loop's next wake-up)."""
        tick = next_fire(self._schedule(), self._floor(cursor), self.tz, anchor=self._anchor())
        if tick is None or (self.end is not None and tick > self.end):
            return None
        return tick

    def plan(self, cursor: datetime, now: datetime) -> TickPlan:
        schedule = self._schedule()
        floor = self._floor(cursor)
        horizon = now if self.end is None or now < self.end else self.end
        latest = None
        if horizon > floor:
            latest = previous_fire(schedule, horizon, self.tz, anchor=self._anchor(), floor=floor)
        if latest is None:
            return TickPlan(None, False, cursor, self.next_after(cursor))
        first = next_fire(schedule, floor, self.tz, anchor=self._anchor())
        skipped = first is not None and first < latest
        too_late = self.max_lateness is not None and now - latest > self.max_lateness
        due = None if too_late else latest
        return TickPlan(due, skipped or too_late, latest, self.next_after(latest))
