"""Fixed vs hybrid keep-alive on deterministic synthetic traces: cold starts and wasted
memory-time, the two axes of the paper's evaluation (Shahrad et al., ATC'20, section 5)."""

from __future__ import annotations

import random

import pytest

from lambdamaker.engines.functions.keepalive import (
    FixedKeepAlive,
    HybridHistogramKeepAlive,
    SimulationResult,
    simulate_keepalive,
)

MINUTE = 60.0
HOUR = 3600.0


def periodic(period: float, count: int, jitter: float = 0.0, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    t, times = 0.0, []
    for _ in range(count):
        t += period + rng.uniform(-jitter, jitter)
        times.append(t)
    return times


def both(times: list[float]) -> tuple[SimulationResult, SimulationResult]:
    return (
        simulate_keepalive(FixedKeepAlive(600), times),
        simulate_keepalive(HybridHistogramKeepAlive(), times),
    )


def test_periodic_function_hybrid_wastes_far_less_at_the_same_cold_start_rate() -> None:
    fixed, hybrid = both(periodic(10 * MINUTE, 144))  # a day of a 10-minute timer
    assert fixed.cold_starts == hybrid.cold_starts == 1  # only the very first call
    assert hybrid.prewarms > 100
    assert hybrid.wasted_s < fixed.wasted_s / 4


def test_jittered_periodic_function_hybrid_is_better_on_both_axes() -> None:
    # ±90 s around 10 minutes: the fixed 10-minute keep-alive misses about half the calls.
    fixed, hybrid = both(periodic(10 * MINUTE, 144, jitter=90))
    assert fixed.cold_start_rate > 0.3
    assert hybrid.cold_start_rate < 0.1
    assert hybrid.wasted_s < fixed.wasted_s / 2


def test_rare_periodic_function_only_the_hybrid_policy_avoids_cold_starts() -> None:
    fixed, hybrid = both(periodic(6 * HOUR, 120, jitter=5 * MINUTE))  # a month, every 6 hours
    assert fixed.cold_start_rate == 1.0
    assert hybrid.cold_start_rate < 0.15


def test_frequent_function_stays_warm_under_both_policies() -> None:
    fixed, hybrid = both(periodic(5.0, 2000, jitter=2.0))
    assert fixed.cold_starts == hybrid.cold_starts == 1
    assert hybrid.prewarms == 0


def test_simulation_counts_the_final_keep_alive_as_waste() -> None:
    result = simulate_keepalive(FixedKeepAlive(100), [0.0], duration_s=1.0)
    assert result == SimulationResult(invocations=1, cold_starts=1, wasted_s=100.0, prewarms=0)


def test_simulation_rejects_overlapping_invocations() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        simulate_keepalive(FixedKeepAlive(), [0.0, 0.05], duration_s=0.1)
