"""When a schedule fires: ticks from ``engines.events.schedule_cursor`` plus Scheduler's flexible
time window, as a pure function of (timing, cursor, now).

Flexible time window: a tick ``t`` fires at ``t + offset(t)``, where the offset lies in
``[0, MaximumWindowInMinutes)`` and is a hash of (schedule ARN, tick). It is deterministic, so
a restart computes the same instant, and it differs between ticks, as AWS spreads invocations.

Missed-tick policy (the engine's, extended to windows; W is the window, 0 when OFF):

- Ticks at or before ``now - W`` are certainly due. Of those after the cursor only the most
  recent fires, once; older ones are dropped (after a day's outage, ``rate(5 minutes)`` fires
  one catch-up tick, not 288). A missed one-time ``at()`` schedule fires once, late.
- Otherwise the first tick after the cursor fires once its own fire time has come.
- Ticks therefore fire in tick order, and in normal operation (the loop awake) none is
  dropped: when tick ``t1`` comes due at ``t1 + offset < t1 + W``, the next tick is after
  ``now - W``.

Invariant: ``Decision.cursor`` >= the cursor passed in, and ``Decision.fire``, when set, equals
``Decision.cursor``: storing the cursor with the firing means no tick fires twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from lambdamaker.engines.events.schedule import Schedule, parse_schedule_expression
from lambdamaker.engines.events.schedule_cursor import ScheduleCursor
from lambdamaker.services.scheduler.common import from_us, to_us


@dataclass(frozen=True)
class Timing:
    arn: str
    schedule: Schedule
    tz: str
    anchor_us: int
    start_us: int | None
    end_us: int | None
    window_minutes: int

    def cursor(self) -> ScheduleCursor:
        return ScheduleCursor(
            self.schedule,
            self.tz,
            anchor=from_us(self.anchor_us),
            start=from_us(self.start_us) if self.start_us is not None else None,
            end=from_us(self.end_us) if self.end_us is not None else None,
        )

    def offset_us(self, tick_us: int) -> int:
        if self.window_minutes <= 0:
            return 0
        digest = hashlib.sha256(f"{self.arn}|{tick_us}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % (self.window_minutes * 60_000_000)

    def fire_at(self, tick_us: int) -> int:
        return tick_us + self.offset_us(tick_us)

    def next_due(self, cursor_us: int) -> int | None:
        """When the first tick after ``cursor_us`` fires (None: the schedule is over)."""
        tick = self.cursor().next_after(from_us(cursor_us))
        return None if tick is None else self.fire_at(to_us(tick))


@dataclass(frozen=True)
class Decision:
    fire: int | None  # the tick to fire now (microseconds), if any
    skipped: bool  # older ticks were dropped under the missed-tick policy
    cursor: int  # store this with the firing
    next_due: int | None  # when to look again; None: the schedule is over


def decide(timing: Timing, cursor_us: int, now_us: int) -> Decision:
    cursor = timing.cursor()
    window = timedelta(minutes=timing.window_minutes)
    now = from_us(now_us)
    plan = cursor.plan(from_us(cursor_us), now - window)
    if plan.due is not None:
        fired = to_us(plan.due)
        return Decision(fired, plan.skipped, fired, timing.next_due(fired))
    first = cursor.next_after(from_us(cursor_us))
    if first is None:
        return Decision(None, plan.skipped, cursor_us, None)
    tick = to_us(first)
    if timing.fire_at(tick) <= now_us:
        return Decision(tick, plan.skipped, tick, timing.next_due(tick))
    return Decision(None, plan.skipped, cursor_us, timing.fire_at(tick))


def timing_of(arn: str, document: dict[str, Any], anchor_us: int) -> Timing:
    """The timing of a stored schedule document (dates in microseconds, as stored)."""
    window = document["FlexibleTimeWindow"]
    minutes = window.get("MaximumWindowInMinutes") if window.get("Mode") == "FLEXIBLE" else 0
    start, end = document.get("StartDate"), document.get("EndDate")
    return Timing(
        arn,
        parse_schedule_expression(document["ScheduleExpression"]),
        document.get("ScheduleExpressionTimezone") or "UTC",
        anchor_us,
        int(start) if start is not None else None,
        int(end) if end is not None else None,
        int(minutes or 0),
    )
