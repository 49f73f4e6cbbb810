"""Schedule expressions: ``rate()``, ``cron()`` and ``at()``, and when they fire next.

EventBridge rules take ``rate(...)`` and ``cron(...)`` (always UTC); EventBridge Scheduler adds
``at(yyyy-mm-ddThh:mm:ss)`` and evaluates every expression in ``ScheduleExpressionTimezone``.

Invariants:

- Every function takes and returns timezone-aware datetimes; results are in UTC. A naive
  ``after`` is a caller bug (``TypeError``), not a user error.
- The tick set of a schedule is fixed: ``next_fire(s, x)`` is the least tick strictly after
  ``x`` and ``previous_fire(s, x)`` the greatest tick at or before ``x``. Both are monotonic,
  which is what lets ``schedule_cursor`` never fire one tick twice.
- Cron ticks are wall-clock minutes in the schedule's zone. As AWS Scheduler documents for
  daylight saving time: a wall time that does not exist (spring forward) is skipped; one that
  occurs twice (fall back) fires once, at its first occurrence.
- Rate ticks are ``anchor + k * period`` for k >= 0, in absolute time: ``rate(1 day)`` is 24
  hours even across a 23- or 25-hour day (AWS Scheduler does the same). The anchor is the
  schedule's StartDate or creation time; without one, the Unix epoch.
- ``at()`` has one tick: its wall time in the zone (a nonexistent wall time is shifted forward
  by the gap, zoneinfo's fold=0 reading).
- Invalid input raises ``ScheduleExpressionError``, a ``ValueError`` whose ``message`` is
  EventBridge's wording; ``scheduler_message`` is Scheduler's. Providers map it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdamaker.engines.events.schedule_cron import (
    MAX_YEAR,
    CronExpression,
    CronSyntaxError,
    parse_cron,
)

EVENTS_MESSAGE = "Parameter ScheduleExpression is not valid."
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ScheduleExpressionError(ValueError):
    """An invalid schedule expression or time zone, worded as AWS words it."""

    def __init__(self, expression: str, reason: str = "", *, message: str = EVENTS_MESSAGE):
        super().__init__(message)
        self.expression = expression
        self.reason = reason  # why, for logs; AWS does not say
        self.message = message

    @property
    def scheduler_message(self) -> str:
        return f"Invalid Schedule Expression {self.expression}"


@dataclass(frozen=True)
class RateSchedule:
    value: int
    unit: str  # "minute", "hour" or "day"

    @property
    def period(self) -> timedelta:
        return {
            "minute": timedelta(minutes=1),
            "hour": timedelta(hours=1),
            "day": timedelta(days=1),
        }[self.unit] * self.value


@dataclass(frozen=True)
class CronSchedule:
    cron: CronExpression


@dataclass(frozen=True)
class AtSchedule:
    wall: datetime  # naive wall-clock time in the schedule's zone


Schedule = RateSchedule | CronSchedule | AtSchedule

_RATE = re.compile(r"^rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\(([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\)$")


def parse_schedule_expression(expression: str, *, allow_at: bool = True) -> Schedule:
    """Parse and validate; ``allow_at=False`` for EventBridge rules, which have no ``at()``."""
    return _parse(expression, allow_at)


@lru_cache(maxsize=1024)
def _parse(expression: str, allow_at: bool) -> Schedule:
    if match := _RATE.match(expression):
        value, unit = int(match.group(1)), match.group(2)
        if value < 1:
            raise ScheduleExpressionError(expression, "rate value must be at least 1")
        # AWS: singular unit for 1, plural for anything else (rate(1 minutes) is invalid).
        if (value == 1) == unit.endswith("s"):
            raise ScheduleExpressionError(expression, f"unit {unit!r} does not agree with {value}")
        return RateSchedule(value, unit.rstrip("s"))
    if match := _CRON.match(expression):
        try:
            return CronSchedule(parse_cron(match.group(1)))
        except CronSyntaxError as exc:
            raise ScheduleExpressionError(expression, str(exc)) from None
    if allow_at and (match := _AT.match(expression)):
        try:
            year, month, day, hour, minute, second = (int(g) for g in match.groups())
            wall = datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise ScheduleExpressionError(expression, str(exc)) from None
        return AtSchedule(wall)
    raise ScheduleExpressionError(expression, "not rate(), cron() or at()")


def resolve_timezone(tz: str) -> ZoneInfo:
    """An IANA zone (Scheduler's ScheduleExpressionTimezone), or ScheduleExpressionError."""
    try:
        return _zone(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleExpressionError(
            tz, "unknown time zone", message=f"Invalid ScheduleExpressionTimezone {tz}"
        ) from None


@lru_cache(maxsize=256)
def _zone(tz: str) -> ZoneInfo:
    if not tz or tz.startswith("/") or ".." in tz:
        raise ValueError(tz)
    return ZoneInfo(tz)


def _as_schedule(expression: str | Schedule) -> Schedule:
    return parse_schedule_expression(expression) if isinstance(expression, str) else expression


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TypeError("schedule times must be timezone-aware")
    return moment.astimezone(UTC)


def _wall_to_instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The first occurrence of a naive wall time, or None when the zone skips it."""
    local = wall.replace(tzinfo=zone, fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None  # spring-forward gap: this wall time never happens
    return instant


def next_fire(
    expression: str | Schedule,
    after: datetime,
    tz: str = "UTC",
    *,
    anchor: datetime | None = None,
) -> datetime | None:
    """The first tick strictly after ``after`` (UTC), or None if the schedule is exhausted."""
    schedule = _as_schedule(expression)
    after = _require_aware(after)
    if isinstance(schedule, RateSchedule):
        start = _require_aware(anchor) if anchor is not None else EPOCH
        if after < start:
            return start
        return start + ((after - start) // schedule.period + 1) * schedule.period
    zone = resolve_timezone(tz)
    if isinstance(schedule, AtSchedule):
        instant = schedule.wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        return instant if instant > after else None
    wall = after.astimezone(zone).replace(tzinfo=None)
    while True:
        candidate = schedule.cron.next_wall(wall)
        if candidate is None:
            return None
        wall = candidate
        found = _wall_to_instant(candidate, zone)
        # found <= after: the second pass through a repeated (fall-back) hour already fired.
        if found is not None and found > after:
            return found


def previous_fire(
    expression: str | Schedule,
    at_or_before: datetime,
    tz: str = "UTC",
    *,
    anchor: datetime | None = None,
    floor: datetime | None = None,
) -> datetime | None:
    """The last tick at or before ``at_or_before``, ignoring ticks at or before ``floor``.

    Cron has no closed form backwards, so this widens a window back from ``at_or_before``
    (1 minute, 2, 4, ...) until ``next_fire`` lands inside it, then bisects: O(log span)
    calls to ``next_fire``, never one per tick.
    """
    schedule = _as_schedule(expression)
    end = _require_aware(at_or_before)
    low_limit = _require_aware(floor) if floor is not None else EPOCH - timedelta(minutes=1)
    if isinstance(schedule, RateSchedule):
        start = _require_aware(anchor) if anchor is not None else EPOCH
        if end < start:
            return None
        last = start + ((end - start) // schedule.period) * schedule.period
        return last if last > low_limit else None
    if isinstance(schedule, AtSchedule):
        once = next_fire(schedule, low_limit, tz)
        return once if once is not None and once <= end else None
    width = timedelta(minutes=1)
    while True:
        lo = max(end - width, low_limit)
        tick = next_fire(schedule, lo, tz)
        if tick is not None and tick <= end:
            break
        if lo == low_limit:
            return None
        width *= 2
    # Invariant: next_fire(lo) <= end < next_fire(hi). Ticks are >= 1 minute apart, so once
    # the bracket is narrower than that, next_fire(lo) is the last tick at or before end.
    hi = end
    while hi - lo >= timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        probe = next_fire(schedule, mid, tz)
        if probe is not None and probe <= end:
            lo = mid
        else:
            hi = mid
    return next_fire(schedule, lo, tz)


__all__ = [
    "EVENTS_MESSAGE",
    "MAX_YEAR",
    "AtSchedule",
    "CronSchedule",
    "RateSchedule",
    "Schedule",
    "ScheduleExpressionError",
    "next_fire",
    "parse_schedule_expression",
    "previous_fire",
    "resolve_timezone",
]
