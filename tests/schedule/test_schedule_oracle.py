"""next_fire and previous_fire against a brute-force oracle that walks real UTC minutes.

The oracle shares no code with the engine: each field value below has its own predicate,
and a tick is any UTC minute whose local wall time matches and is the first occurrence
of that wall time (fold == 0), which is AWS Scheduler's daylight-saving rule.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdamaker.engines.events.schedule import next_fire, previous_fire

Pred = Callable[[int], bool]
DayPred = Callable[[date], bool]

MINUTES: dict[str, Pred] = {
    "*": lambda m: True,
    "0": lambda m: m == 0,
    "0/15": lambda m: m % 15 == 0,
    "*/7": lambda m: m % 7 == 0,
    "5-10": lambda m: 5 <= m <= 10,
    "58-2": lambda m: m >= 58 or m <= 2,
    "0,30": lambda m: m in (0, 30),
}
HOURS: dict[str, Pred] = {
    "*": lambda h: True,
    "2": lambda h: h == 2,
    "1-3": lambda h: 1 <= h <= 3,
    "*/5": lambda h: h % 5 == 0,
    "22-1": lambda h: h >= 22 or h <= 1,
}
MONTHS: dict[str, Pred] = {
    "*": lambda m: True,
    "MAR": lambda m: m == 3,
    "3,11": lambda m: m in (3, 11),
    "10-3": lambda m: m >= 10 or m <= 3,
}


def _last(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def _sunday_is_1(d: date) -> int:
    return (d.weekday() + 1) % 7 + 1


def _nearest_weekday(d: date, target: int) -> bool:
    last = _last(d)
    if target > last:
        return False
    wd = date(d.year, d.month, target).weekday()
    if wd == 5:
        want = target - 1 if target > 1 else target + 2
    elif wd == 6:
        want = target + 1 if target < last else target - 2
    else:
        want = target
    return d.day == want


DOMS: dict[str, DayPred] = {
    "*": lambda d: True,
    "1": lambda d: d.day == 1,
    "L": lambda d: d.day == _last(d),
    "LW": lambda d: _nearest_weekday(d, _last(d)),
    "15W": lambda d: _nearest_weekday(d, 15),
    "1W": lambda d: _nearest_weekday(d, 1),
    "31": lambda d: d.day == 31,
    "*/10": lambda d: d.day in (1, 11, 21, 31),
}
DOWS: dict[str, DayPred] = {
    "*": lambda d: True,
    "MON-FRI": lambda d: d.weekday() < 5,
    "1": lambda d: d.weekday() == 6,
    "L": lambda d: d.weekday() == 5,
    "6L": lambda d: d.weekday() == 4 and d.day + 7 > _last(d),
    "2#1": lambda d: d.weekday() == 0 and d.day <= 7,
    "1#5": lambda d: d.weekday() == 6 and d.day >= 29,
    "SAT-SUN": lambda d: _sunday_is_1(d) in (7, 1),
}
ZONES = ["UTC", "America/New_York", "Europe/Berlin"]
WINDOW = timedelta(days=8)


@st.composite
def expressions(draw: st.DrawFn) -> tuple[str, Callable[[datetime], bool]]:
    minute = draw(st.sampled_from(sorted(MINUTES)))
    hour = draw(st.sampled_from(sorted(HOURS)))
    month = draw(st.sampled_from(sorted(MONTHS)))
    if draw(st.booleans()):
        dom, dow = draw(st.sampled_from(sorted(DOMS))), "?"
        day_ok = DOMS[dom]
    else:
        dom, dow = "?", draw(st.sampled_from(sorted(DOWS)))
        day_ok = DOWS[dow]

    def matches(local: datetime) -> bool:
        return (
            MINUTES[minute](local.minute)
            and HOURS[hour](local.hour)
            and MONTHS[month](local.month)
            and day_ok(local.date())
        )

    return f"cron({minute} {hour} {dom} {month} {dow} *)", matches


def _oracle(
    matches: Callable[[datetime], bool], zone: ZoneInfo, after: datetime
) -> datetime | None:
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while t <= after + WINDOW:
        local = t.astimezone(zone)
        if local.fold == 0 and matches(local):
            return t
        t += timedelta(minutes=1)
    return None


# Moments near both transitions of both zones, and ordinary ones.
AFTERS = st.sampled_from(
    [
        datetime(2026, 3, 7, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 28, 22, 0, tzinfo=UTC),
        datetime(2026, 10, 24, 22, 17, tzinfo=UTC),
        datetime(2026, 10, 31, 23, 59, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 50, tzinfo=UTC),
        datetime(2026, 2, 27, 12, 0, tzinfo=UTC),
        datetime(2027, 12, 30, 23, 45, tzinfo=UTC),
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.sampled_from(ZONES), AFTERS, st.integers(0, 3 * 24 * 60))
def test_next_fire_agrees_with_the_minute_walking_oracle(expr, tz, base, offset):
    expression, matches = expr
    after = base + timedelta(minutes=offset)
    expected = _oracle(matches, ZoneInfo(tz), after)
    got = next_fire(expression, after, tz)
    if expected is not None:
        assert got == expected
    else:
        assert got is None or got > after + WINDOW


@settings(max_examples=80, deadline=None)
@given(expressions(), st.sampled_from(ZONES), AFTERS, st.integers(0, 3 * 24 * 60))
def test_previous_fire_is_consistent_with_next_fire(expr, tz, base, offset):
    expression, _ = expr
    at = base + timedelta(minutes=offset)
    prev = previous_fire(expression, at, tz)
    if prev is None:
        first = next_fire(expression, datetime(1970, 1, 1, tzinfo=UTC), tz)
        assert first is None or first > at
        return
    assert prev <= at
    assert next_fire(expression, prev - timedelta(microseconds=1), tz) == prev
    following = next_fire(expression, prev, tz)
    assert following is None or following > at
