"""The pure timing of the scheduler loop: flexible-window offsets and the missed-tick policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lambdamaker.engines.events.schedule import parse_schedule_expression
from lambdamaker.services.scheduler.common import to_us
from lambdamaker.services.scheduler.timing import Timing, decide

T0 = to_us(datetime(2026, 1, 5, tzinfo=UTC))
MINUTE = 60_000_000


def _timing(expression: str, window: int = 0, arn: str = "arn:s") -> Timing:
    return Timing(arn, parse_schedule_expression(expression), "UTC", T0, None, None, window)


def test_offsets_are_deterministic_within_the_window_and_vary_by_tick() -> None:
    timing = _timing("rate(1 hour)", window=20)
    offsets = [timing.offset_us(T0 + k * 60 * MINUTE) for k in range(50)]
    assert offsets == [timing.offset_us(T0 + k * 60 * MINUTE) for k in range(50)]
    assert all(0 <= o < 20 * MINUTE for o in offsets)
    assert len(set(offsets)) > 40
    assert _timing("rate(1 hour)", window=20, arn="arn:other").offset_us(T0) != offsets[0]
    assert _timing("rate(1 hour)").offset_us(T0) == 0


def test_a_tick_fires_only_at_its_offset_and_only_once() -> None:
    timing = _timing("rate(1 hour)", window=30)
    cursor = T0
    tick = T0 + 60 * MINUTE
    fire_at = timing.fire_at(tick)
    before = decide(timing, cursor, fire_at - 1)
    assert (before.fire, before.cursor, before.next_due) == (None, cursor, fire_at)
    at = decide(timing, cursor, fire_at)
    assert (at.fire, at.cursor) == (tick, tick)
    again = decide(timing, at.cursor, fire_at)
    assert again.fire is None and again.next_due is not None and again.next_due > fire_at


def test_after_an_outage_only_the_latest_certainly_due_tick_fires() -> None:
    timing = _timing("rate(5 minutes)")
    now = T0 + 24 * 60 * MINUTE + 30_000_000
    decision = decide(timing, T0, now)
    assert decision.skipped
    assert decision.fire == decision.cursor == T0 + 24 * 60 * MINUTE
    assert decision.next_due == T0 + (24 * 60 + 5) * MINUTE


def test_in_normal_operation_no_tick_is_skipped_even_with_a_wide_window() -> None:
    # A window wider than the period: offsets may reorder fire times, ticks still fire in order.
    timing = _timing("rate(1 minute)", window=15)
    cursor, now, fired = T0, T0, []
    end = T0 + 120 * MINUTE
    while now < end:
        decision = decide(timing, cursor, now)
        if decision.fire is not None:
            assert decision.fire > cursor
            fired.append(decision.fire)
            cursor = decision.cursor
            continue
        assert decision.next_due is not None
        now = max(decision.next_due, now)
    # Every tick, in order, none skipped (a tick whose offset is small waits for its elders).
    assert fired == [T0 + k * MINUTE for k in range(1, len(fired) + 1)]
    assert len(fired) >= 100


def test_one_time_schedule_is_over_after_its_tick() -> None:
    timing = _timing("at(2026-01-05T00:10:00)")
    tick = T0 + 10 * MINUTE
    assert decide(timing, T0, tick - 1).next_due == tick
    fired = decide(timing, T0, tick + 3600 * 1_000_000)
    assert (fired.fire, fired.next_due) == (tick, None)
    assert decide(timing, fired.cursor, tick + 7200 * 1_000_000).fire is None
    assert timedelta(microseconds=tick - T0) == timedelta(minutes=10)
