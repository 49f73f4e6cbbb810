"""next_fire / previous_fire on AWS's documented cron examples, rate anchoring and at()."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lambdamaker.engines.events.schedule import next_fire, parse_schedule_expression, previous_fire


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ticks(expression: str, after: datetime, count: int, tz: str = "UTC") -> list[datetime]:
    out = []
    for _ in range(count):
        tick = next_fire(expression, after, tz)
        assert tick is not None
        out.append(tick)
        after = tick
    return out


# 2026-03-01 is a Sunday.
START = utc(2026, 3, 1, 0, 0)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 10 * * ? *)", [utc(2026, 3, 1, 10), utc(2026, 3, 2, 10), utc(2026, 3, 3, 10)]),
        ("cron(15 12 * * ? *)", [utc(2026, 3, 1, 12, 15), utc(2026, 3, 2, 12, 15)]),
        # Weekdays at 18:00: Monday 2 March onwards, Friday 6 then Monday 9.
        (
            "cron(0 18 ? * MON-FRI *)",
            [utc(2026, 3, d, 18) for d in (2, 3, 4, 5, 6, 9)],
        ),
        ("cron(0 8 1 * ? *)", [utc(2026, 3, 1, 8), utc(2026, 4, 1, 8), utc(2026, 5, 1, 8)]),
        (
            "cron(0/15 * * * ? *)",
            [
                utc(2026, 3, 1, 0, 15),
                utc(2026, 3, 1, 0, 30),
                utc(2026, 3, 1, 0, 45),
                utc(2026, 3, 1, 1),
            ],
        ),
        # Every 10 minutes on weekdays: nothing on Sunday 1 March.
        ("cron(0/10 * ? * MON-FRI *)", [utc(2026, 3, 2, 0, 0), utc(2026, 3, 2, 0, 10)]),
        # Every 5 minutes 08:00-17:55 on weekdays.
        ("cron(0/5 8-17 ? * MON-FRI *)", [utc(2026, 3, 2, 8, 0), utc(2026, 3, 2, 8, 5)]),
        # First Monday of the month at 09:00.
        ("cron(0 9 ? * 2#1 *)", [utc(2026, 3, 2, 9), utc(2026, 4, 6, 9), utc(2026, 5, 4, 9)]),
        # Last day of the month.
        ("cron(0 0 L * ? *)", [utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 31)]),
        # Last weekday: 31 May 2026 is a Sunday, so Friday 29 May.
        ("cron(0 0 LW * ? *)", [utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 29)]),
        # Nearest weekday to the 15th: Sun 15 March -> Mon 16; Wed 15 April; Fri 15 May.
        ("cron(0 0 15W * ? *)", [utc(2026, 3, 16), utc(2026, 4, 15), utc(2026, 5, 15)]),
        # Last Friday of the month.
        ("cron(0 0 ? * 6L *)", [utc(2026, 3, 27), utc(2026, 4, 24), utc(2026, 5, 29)]),
        # Second Tuesday (3#2).
        ("cron(0 12 ? * 3#2 *)", [utc(2026, 3, 10, 12), utc(2026, 4, 14, 12)]),
        # A bare L in day-of-week is Saturday.
        ("cron(0 0 ? * L *)", [utc(2026, 3, 7), utc(2026, 3, 14)]),
        # Wrap-around hour range 22-2.
        (
            "cron(0 22-2 * * ? *)",
            [utc(2026, 3, 1, 1), utc(2026, 3, 1, 2), utc(2026, 3, 1, 22), utc(2026, 3, 1, 23)],
        ),
        # Every 29 February from 2028.
        ("cron(0 0 29 2 ? *)", [utc(2028, 2, 29), utc(2032, 2, 29)]),
        ("cron(0 0 1 JAN ? 2027,2030)", [utc(2027, 1, 1), utc(2030, 1, 1)]),
    ],
)
def test_cron_ticks_follow_aws_semantics(expression, expected):
    assert ticks(expression, START, len(expected)) == expected


def test_next_fire_is_strictly_after_the_given_moment():
    assert next_fire("cron(0 10 * * ? *)", utc(2026, 3, 1, 10)) == utc(2026, 3, 2, 10)
    assert next_fire("cron(0 10 * * ? *)", utc(2026, 3, 1, 9, 59, 59, 999999)) == utc(
        2026, 3, 1, 10
    )


def test_exhausted_and_impossible_cron_schedules_return_none():
    assert next_fire("cron(0 0 1 1 ? 2025)", START) is None
    assert next_fire("cron(0 0 30 2 ? *)", START) is None
    assert next_fire("cron(59 23 31 12 ? 2199)", utc(2199, 12, 31, 23, 59)) is None


def test_nth_weekday_that_a_month_lacks_is_skipped():
    # Fifth Sunday (1#5): March 2026 has one (29th); April 2026 does not; May has the 31st.
    assert ticks("cron(0 0 ? * 1#5 *)", START, 2) == [utc(2026, 3, 29), utc(2026, 5, 31)]


def test_a_far_future_year_is_reached_by_jumping_not_scanning():
    assert next_fire("cron(0 0 1 1 ? 2199)", START) == utc(2199, 1, 1)
    assert previous_fire("cron(0 0 1 1 ? 1971)", START) == utc(1971, 1, 1)


def test_results_are_utc_and_inputs_in_other_offsets_are_honoured():
    after = datetime(2026, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))  # 09:00 UTC
    tick = next_fire("cron(0 10 * * ? *)", after)
    assert tick == utc(2026, 3, 1, 10) and tick.tzinfo is UTC


def test_naive_datetimes_are_a_caller_bug():
    with pytest.raises(TypeError):
        next_fire("cron(0 10 * * ? *)", datetime(2026, 3, 1))


@pytest.mark.parametrize(
    ("expression", "at", "expected"),
    [
        ("cron(0 10 * * ? *)", utc(2026, 3, 1, 10), utc(2026, 3, 1, 10)),
        ("cron(0 10 * * ? *)", utc(2026, 3, 1, 9, 59), utc(2026, 2, 28, 10)),
        ("cron(0/5 8-17 ? * MON-FRI *)", utc(2026, 3, 1, 12), utc(2026, 2, 27, 17, 55)),
        ("cron(0 0 LW * ? *)", START, utc(2026, 2, 27)),
        ("cron(0 9 ? * 2#1 *)", START, utc(2026, 2, 2, 9)),
        ("cron(* * * * ? *)", utc(2026, 3, 1, 0, 0, 30), utc(2026, 3, 1, 0, 0)),
    ],
)
def test_previous_fire_is_the_last_tick_at_or_before(expression, at, expected):
    assert previous_fire(expression, at) == expected


def test_previous_fire_respects_the_floor():
    assert previous_fire("cron(0 10 * * ? *)", START, floor=utc(2026, 2, 28, 10)) is None
    assert previous_fire("cron(0 10 * * ? *)", START, floor=utc(2026, 2, 28, 9)) == utc(
        2026, 2, 28, 10
    )


def test_rate_ticks_are_anchored_at_the_start_time():
    anchor = utc(2026, 3, 1, 9, 2, 17)
    assert next_fire("rate(5 minutes)", utc(2026, 3, 1, 9), anchor=anchor) == anchor
    assert next_fire("rate(5 minutes)", anchor, anchor=anchor) == utc(2026, 3, 1, 9, 7, 17)
    assert next_fire("rate(5 minutes)", utc(2026, 3, 1, 10), anchor=anchor) == utc(
        2026, 3, 1, 10, 2, 17
    )
    assert previous_fire("rate(5 minutes)", utc(2026, 3, 1, 10), anchor=anchor) == utc(
        2026, 3, 1, 9, 57, 17
    )
    assert previous_fire("rate(5 minutes)", utc(2026, 3, 1, 9), anchor=anchor) is None


def test_rate_without_an_anchor_is_aligned_to_the_epoch():
    assert next_fire("rate(1 hour)", utc(2026, 3, 1, 9, 30)) == utc(2026, 3, 1, 10)
    assert next_fire("rate(2 days)", utc(2026, 3, 1, 9, 30)) == utc(2026, 3, 2)


def test_rate_days_are_24_hours_across_daylight_saving():
    anchor = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # 04:00 EST
    tick = next_fire("rate(1 day)", anchor, "America/New_York", anchor=anchor)
    assert tick == utc(2026, 3, 8, 9)  # 05:00 EDT: the wall clock moves, the period does not


def test_at_fires_once_in_its_zone_then_never():
    at = "at(2026-03-05T10:00:00)"
    assert next_fire(at, START) == utc(2026, 3, 5, 10)
    assert next_fire(at, START, "Europe/Berlin") == utc(2026, 3, 5, 9)
    assert next_fire(at, utc(2026, 3, 5, 10)) is None
    assert previous_fire(at, utc(2026, 3, 5, 10)) == utc(2026, 3, 5, 10)
    assert previous_fire(at, utc(2026, 3, 5, 9, 59)) is None


def test_preparsed_schedules_are_accepted():
    schedule = parse_schedule_expression("cron(0 10 * * ? *)")
    assert next_fire(schedule, START) == utc(2026, 3, 1, 10)
