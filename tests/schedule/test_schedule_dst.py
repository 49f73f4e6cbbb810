"""Cron schedules in IANA zones across daylight-saving transitions (AWS Scheduler's rules:
a nonexistent local time is skipped, a repeated one fires once)."""

from __future__ import annotations

from datetime import UTC, datetime

from lambdamaker.engines.events.schedule import next_fire, previous_fire

NY = "America/New_York"
BERLIN = "Europe/Berlin"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ticks(expression: str, after: datetime, count: int, tz: str) -> list[datetime]:
    out = []
    for _ in range(count):
        tick = next_fire(expression, after, tz)
        assert tick is not None
        out.append(tick)
        after = tick
    return out


def test_daily_local_time_follows_the_offset_change_in_new_york():
    # 10:00 local: EST (UTC-5) until 8 March 2026, EDT (UTC-4) after.
    assert ticks("cron(0 10 * * ? *)", utc(2026, 3, 7), 3, NY) == [
        utc(2026, 3, 7, 15),
        utc(2026, 3, 8, 14),
        utc(2026, 3, 9, 14),
    ]


def test_spring_forward_skips_the_nonexistent_time_in_new_york():
    # 02:30 does not exist on 8 March 2026 in New York: that day's tick is skipped.
    assert ticks("cron(30 2 * * ? *)", utc(2026, 3, 7), 2, NY) == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 9, 6, 30),
    ]


def test_spring_forward_hourly_schedule_loses_one_tick():
    # Hourly at :30 local: 01:30 EST, then 03:30 EDT (02:30 never happens).
    assert ticks("cron(30 * * * ? *)", utc(2026, 3, 8, 6), 2, NY) == [
        utc(2026, 3, 8, 6, 30),
        utc(2026, 3, 8, 7, 30),
    ]


def test_fall_back_fires_a_repeated_time_once_in_new_york():
    # 01:30 happens twice on 1 November 2026 (EDT then EST): it fires at the first only.
    assert ticks("cron(30 1 * * ? *)", utc(2026, 10, 31, 12), 2, NY) == [
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
    ]


def test_fall_back_quarter_hourly_schedule_does_not_repeat_the_hour():
    got = ticks("cron(0/15 * * * ? *)", utc(2026, 11, 1, 5, 30), 4, NY)
    # 01:45 EDT, then 02:00 EST: the second pass through 01:00-01:59 is silent.
    assert got == [
        utc(2026, 11, 1, 5, 45),
        utc(2026, 11, 1, 7),
        utc(2026, 11, 1, 7, 15),
        utc(2026, 11, 1, 7, 30),
    ]


def test_asking_from_inside_the_repeated_hour_moves_past_it():
    # 06:20 UTC is 01:20 EST, the second 01:20; 01:30 EST must not fire again.
    assert next_fire("cron(30 1 * * ? *)", utc(2026, 11, 1, 6, 20), NY) == utc(2026, 11, 2, 6, 30)
    assert next_fire("cron(0/15 * * * ? *)", utc(2026, 11, 1, 6, 20), NY) == utc(2026, 11, 1, 7)


def test_berlin_spring_forward_skips_0230_and_shifts_the_offset():
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    assert ticks("cron(30 2 * * ? *)", utc(2026, 3, 28), 2, BERLIN) == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 30, 0, 30),
    ]
    assert ticks("cron(0 9 ? * MON-FRI *)", utc(2026, 3, 27), 2, BERLIN) == [
        utc(2026, 3, 27, 8),
        utc(2026, 3, 30, 7),
    ]


def test_berlin_fall_back_fires_0230_once():
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    assert ticks("cron(30 2 * * ? *)", utc(2026, 10, 24), 2, BERLIN) == [
        utc(2026, 10, 24, 0, 30),
        utc(2026, 10, 25, 0, 30),
    ]
    assert next_fire("cron(30 2 * * ? *)", utc(2026, 10, 25, 0, 30), BERLIN) == utc(
        2026, 10, 26, 1, 30
    )


def test_previous_fire_across_the_repeated_hour_finds_the_first_occurrence():
    assert previous_fire("cron(30 1 * * ? *)", utc(2026, 11, 1, 7), NY) == utc(2026, 11, 1, 5, 30)
    assert previous_fire("cron(30 2 * * ? *)", utc(2026, 3, 9), NY) == utc(2026, 3, 7, 7, 30)


def test_at_in_a_spring_forward_gap_is_shifted_forward():
    # 02:30 on 8 March 2026 does not exist in New York; it reads as 03:30 EDT.
    assert next_fire("at(2026-03-08T02:30:00)", utc(2026, 3, 1), NY) == utc(2026, 3, 8, 7, 30)
