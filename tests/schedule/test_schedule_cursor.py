"""The tick planner: missed-tick policy, bounds, and never firing one tick twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lambdamaker.engines.events.schedule_cursor import ScheduleCursor


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


CREATED = utc(2026, 3, 2, 8, 3)


def test_nothing_is_due_before_the_first_tick():
    plan = ScheduleCursor("cron(0/15 * * * ? *)").plan(CREATED, utc(2026, 3, 2, 8, 10))
    assert plan.due is None and not plan.skipped
    assert plan.cursor == CREATED
    assert plan.wake_at == utc(2026, 3, 2, 8, 15)


def test_an_on_time_tick_fires_and_moves_the_cursor():
    plan = ScheduleCursor("cron(0/15 * * * ? *)").plan(CREATED, utc(2026, 3, 2, 8, 15, 0, 400))
    assert plan.due == utc(2026, 3, 2, 8, 15) and not plan.skipped
    assert plan.cursor == plan.due
    assert plan.wake_at == utc(2026, 3, 2, 8, 30)


def test_after_an_outage_only_the_most_recent_missed_tick_fires():
    cursor = ScheduleCursor("cron(0/15 * * * ? *)")
    plan = cursor.plan(utc(2026, 3, 2, 8, 15), utc(2026, 3, 3, 11, 7))
    assert plan.due == utc(2026, 3, 3, 11, 0)
    assert plan.skipped
    assert plan.wake_at == utc(2026, 3, 3, 11, 15)


def test_a_committed_cursor_never_yields_the_same_tick_twice():
    cursor = ScheduleCursor("cron(0/15 * * * ? *)")
    first = cursor.plan(CREATED, utc(2026, 3, 2, 8, 20))
    # A restart re-plans from the committed cursor at the same or a later moment.
    again = cursor.plan(first.cursor, utc(2026, 3, 2, 8, 20))
    later = cursor.plan(first.cursor, utc(2026, 3, 2, 8, 29, 59))
    assert first.due == utc(2026, 3, 2, 8, 15)
    assert again.due is None and later.due is None


def test_a_loop_on_a_fake_clock_fires_each_tick_exactly_once():
    cursor_def = ScheduleCursor("cron(0/5 8-17 ? * MON-FRI *)")
    cursor, fired = CREATED, []
    now = CREATED
    while now < utc(2026, 3, 2, 9, 1):
        plan = cursor_def.plan(cursor, now)
        if plan.due is not None:
            fired.append(plan.due)
        cursor = plan.cursor
        now += timedelta(seconds=50)
    expected = [utc(2026, 3, 2, 8, m) for m in range(5, 60, 5)] + [utc(2026, 3, 2, 9, 0)]
    assert fired == expected


def test_max_lateness_drops_a_stale_tick_but_still_advances():
    cursor = ScheduleCursor("cron(0 10 * * ? *)", max_lateness=timedelta(minutes=5))
    late = cursor.plan(utc(2026, 3, 1, 10), utc(2026, 3, 2, 10, 30))
    assert late.due is None and late.skipped
    assert late.cursor == utc(2026, 3, 2, 10)
    fresh = cursor.plan(utc(2026, 3, 1, 10), utc(2026, 3, 2, 10, 4))
    assert fresh.due == utc(2026, 3, 2, 10) and not fresh.skipped


def test_rate_schedules_fire_at_creation_then_every_period():
    cursor = ScheduleCursor("rate(5 minutes)", anchor=CREATED)
    # A new rate schedule's cursor sits just before its anchor, so the first tick is immediate.
    start = CREATED - timedelta(microseconds=1)
    first = cursor.plan(start, CREATED)
    assert first.due == CREATED
    assert first.wake_at == CREATED + timedelta(minutes=5)
    missed = cursor.plan(first.cursor, CREATED + timedelta(minutes=23))
    assert missed.due == CREATED + timedelta(minutes=20) and missed.skipped


def test_start_and_end_dates_bound_the_ticks():
    cursor = ScheduleCursor(
        "cron(0 * * * ? *)", start=utc(2026, 3, 2, 10, 30), end=utc(2026, 3, 2, 12)
    )
    assert cursor.plan(CREATED, utc(2026, 3, 2, 10, 45)).due is None
    assert cursor.plan(CREATED, utc(2026, 3, 2, 10, 45)).wake_at == utc(2026, 3, 2, 11)
    last = cursor.plan(utc(2026, 3, 2, 11), utc(2026, 3, 2, 15))
    assert last.due == utc(2026, 3, 2, 12) and not last.skipped
    assert last.wake_at is None
    assert cursor.plan(last.cursor, utc(2026, 3, 3)).due is None


def test_rate_schedule_anchors_at_its_start_date():
    cursor = ScheduleCursor("rate(1 hour)", start=utc(2026, 3, 2, 10, 30))
    plan = cursor.plan(CREATED, utc(2026, 3, 2, 10, 30))
    assert plan.due == utc(2026, 3, 2, 10, 30)
    assert plan.wake_at == utc(2026, 3, 2, 11, 30)


def test_a_missed_one_time_schedule_fires_once_late_then_is_over():
    cursor = ScheduleCursor("at(2026-03-02T09:00:00)", tz="Europe/Berlin")
    created = utc(2026, 3, 2, 7)
    assert cursor.plan(created, utc(2026, 3, 2, 7, 59)).wake_at == utc(2026, 3, 2, 8)
    plan = cursor.plan(created, utc(2026, 3, 2, 9, 30))
    assert plan.due == utc(2026, 3, 2, 8) and not plan.skipped
    assert plan.wake_at is None
    assert cursor.plan(plan.cursor, utc(2026, 3, 5)).due is None


def test_planning_across_a_fall_back_hour_fires_the_repeated_time_once():
    cursor_def = ScheduleCursor("cron(30 1 * * ? *)", tz="America/New_York")
    cursor, fired = utc(2026, 11, 1, 4), []
    for minutes in range(0, 4 * 60, 10):
        plan = cursor_def.plan(cursor, utc(2026, 11, 1, 4) + timedelta(minutes=minutes))
        if plan.due is not None:
            fired.append(plan.due)
        cursor = plan.cursor
    assert fired == [utc(2026, 11, 1, 5, 30)]
