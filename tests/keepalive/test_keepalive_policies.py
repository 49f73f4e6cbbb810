"""Keep-alive policies on a fake clock: times are plain seconds passed in, nothing sleeps."""

from __future__ import annotations

import random

import pytest

from lambdamaker.engines.functions.keepalive import (
    FixedKeepAlive,
    HybridHistogramKeepAlive,
    KeepAliveWindows,
)
from lambdamaker.engines.functions.keepalive_policy import KeepAlivePolicy
from lambdamaker.errors import ConfigError

KEY = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST:sha"
MINUTE = 60.0
HOUR = 3600.0


def feed(policy: KeepAlivePolicy, times: list[float], key: str = KEY) -> None:
    for t in times:
        policy.on_invocation(key, t)


def every(period: float, count: int, start: float = 1000.0) -> list[float]:
    return [start + i * period for i in range(count)]


def test_both_policies_satisfy_the_protocol() -> None:
    policies: list[KeepAlivePolicy] = [FixedKeepAlive(), HybridHistogramKeepAlive()]
    assert len(policies) == 2


def test_fixed_policy_releases_a_fixed_time_after_idle_and_never_prewarms() -> None:
    policy = FixedKeepAlive(idle_timeout_s=600)
    feed(policy, every(10 * MINUTE, 50))
    assert policy.release_at(KEY, 5000.0) == 5600.0
    assert policy.release_at("other", 7.5) == 607.5
    assert policy.prewarm_at(KEY, 5000.0) is None


def test_fixed_policy_default_is_ten_minutes_like_lambda() -> None:
    assert FixedKeepAlive().release_at(KEY, 0.0) == 600.0


def test_hybrid_with_a_periodic_function_unloads_then_prewarms_before_the_next_call() -> None:
    policy = HybridHistogramKeepAlive()
    times = every(10 * MINUTE, 30)
    feed(policy, times)
    last = times[-1]

    w = policy.windows(KEY)
    assert w.mode == "histogram"
    # ITs of exactly 600 s fall in bin [600, 660): pre-warm at 600 * 0.9, keep until 660 * 1.1.
    assert w.prewarm_s == pytest.approx(540.0)
    assert w.release_after_s == pytest.approx(726.0)

    # Right after the call the environment is unloaded ...
    idle_since = last + 0.2
    assert policy.release_at(KEY, idle_since) == idle_since
    # ... brought back shortly before the next expected call (at last + 600) ...
    prewarm = policy.prewarm_at(KEY, idle_since)
    assert prewarm is not None
    assert last + 8 * MINUTE < prewarm < last + 10 * MINUTE
    # ... and released soon after that call's expected time if it does not come.
    release = policy.release_at(KEY, prewarm)
    assert last + 10 * MINUTE < release < last + 13 * MINUTE


def test_hybrid_releases_far_earlier_than_the_fixed_policy_for_a_periodic_function() -> None:
    hybrid, fixed = HybridHistogramKeepAlive(), FixedKeepAlive()
    times = every(10 * MINUTE, 30)
    feed(hybrid, times)
    feed(fixed, times)
    idle_since = times[-1] + 0.2
    assert hybrid.release_at(KEY, idle_since) < fixed.release_at(KEY, idle_since)


def test_hybrid_keeps_an_environment_that_a_pool_prewarmed_slightly_early() -> None:
    policy = HybridHistogramKeepAlive()
    times = every(10 * MINUTE, 30)
    feed(policy, times)
    prewarm = policy.prewarm_at(KEY, times[-1] + 1)
    assert prewarm is not None
    # Ready three seconds early (the pool started it early to hide its init time): still kept
    # until the end of the keep-alive window, not released and pre-warmed again in a loop.
    assert policy.release_at(KEY, prewarm - 3) == pytest.approx(times[-1] + 726.0)


def test_hybrid_does_not_prewarm_once_the_keep_alive_window_is_over() -> None:
    policy = HybridHistogramKeepAlive()
    times = every(10 * MINUTE, 30)
    feed(policy, times)
    assert policy.prewarm_at(KEY, times[-1] + 727.0) is None


def test_hybrid_with_too_few_samples_behaves_like_the_fixed_policy() -> None:
    hybrid = HybridHistogramKeepAlive(min_samples=10, standard_keep_alive_s=600)
    fixed = FixedKeepAlive(idle_timeout_s=600)
    times = every(10 * MINUTE, 10)  # 9 idle times: one short of the threshold
    for t in times:
        hybrid.on_invocation(KEY, t)
        fixed.on_invocation(KEY, t)
        for idle_since in (t + 0.1, t + 30.0):
            assert hybrid.release_at(KEY, idle_since) == fixed.release_at(KEY, idle_since)
            assert hybrid.prewarm_at(KEY, idle_since) is None
    assert hybrid.windows(KEY).mode == "standard"
    hybrid.on_invocation(KEY, times[-1] + 10 * MINUTE)
    assert hybrid.windows(KEY).mode == "histogram"


def test_hybrid_with_a_never_seen_key_uses_the_standard_keep_alive() -> None:
    policy = HybridHistogramKeepAlive(standard_keep_alive_s=300)
    assert policy.release_at("unknown", 10.0) == 310.0
    assert policy.prewarm_at("unknown", 10.0) is None
    assert policy.windows("unknown") == KeepAliveWindows("standard", 0.0, 300.0)


def test_hybrid_with_erratic_arrivals_does_not_prewarm() -> None:
    rng = random.Random(20200715)
    t, times = 0.0, []
    for _ in range(400):
        t += rng.uniform(MINUTE, 4 * HOUR)  # idle times spread over the whole range
        times.append(t)
    policy = HybridHistogramKeepAlive()
    feed(policy, times)
    assert policy.windows(KEY).mode == "standard"
    assert policy.prewarm_at(KEY, t + 1) is None
    assert policy.release_at(KEY, t + 1) == t + 1 + 600.0


def test_hybrid_with_a_frequent_function_keeps_it_without_prewarming() -> None:
    policy = HybridHistogramKeepAlive()
    times = every(2.0, 200)  # every 2 s: all idle times in the first bin
    feed(policy, times)
    w = policy.windows(KEY)
    assert w.mode == "histogram"
    assert w.prewarm_s == 0.0
    assert policy.prewarm_at(KEY, times[-1] + 1) is None
    assert policy.release_at(KEY, times[-1] + 0.5) == pytest.approx(times[-1] + 66.0)


def test_hybrid_forecasts_idle_times_beyond_the_histogram_range() -> None:
    policy = HybridHistogramKeepAlive()
    times = every(6 * HOUR, 20)  # every 6 hours: all idle times out of the 4-hour range
    feed(policy, times)
    w = policy.windows(KEY)
    assert w.mode == "forecast"
    assert w.prewarm_s == pytest.approx(6 * HOUR * 0.85)
    assert w.release_after_s == pytest.approx(6 * HOUR * 1.15)
    last = times[-1]
    assert policy.release_at(KEY, last + 1) == last + 1
    assert policy.prewarm_at(KEY, last + 1) == pytest.approx(last + 6 * HOUR * 0.85)


def test_hybrid_forget_resets_what_it_learned() -> None:
    policy = HybridHistogramKeepAlive()
    times = every(10 * MINUTE, 30)
    feed(policy, times)
    assert policy.windows(KEY).mode == "histogram"
    policy.forget(KEY)
    policy.forget(KEY)  # idempotent
    assert policy.windows(KEY).mode == "standard"
    assert policy.prewarm_at(KEY, times[-1] + 1) is None
    # After forgetting, the first call starts a new history: no idle time from the old one.
    policy.on_invocation(KEY, times[-1] + 10 * HOUR)
    assert policy.windows(KEY).mode == "standard"


def test_hybrid_tracks_each_key_separately() -> None:
    policy = HybridHistogramKeepAlive()
    feed(policy, every(10 * MINUTE, 30), key="a")
    feed(policy, every(6 * HOUR, 20), key="b")
    assert policy.windows("a").mode == "histogram"
    assert policy.windows("b").mode == "forecast"
    assert policy.windows("c").mode == "standard"


def test_hybrid_follows_a_changed_pattern_once_old_idle_times_age_out() -> None:
    policy = HybridHistogramKeepAlive(history=50)
    first = every(10 * MINUTE, 60)
    feed(policy, first)
    assert policy.windows(KEY).prewarm_s == pytest.approx(540.0)
    feed(policy, every(30 * MINUTE, 60, start=first[-1] + 30 * MINUTE))
    assert policy.windows(KEY).prewarm_s == pytest.approx(30 * MINUTE * 0.9)


def test_hybrid_parameters_change_the_windows() -> None:
    policy = HybridHistogramKeepAlive(bin_width_s=30, histogram_margin=0.0)
    feed(policy, every(10 * MINUTE, 30))
    w = policy.windows(KEY)
    assert w.prewarm_s == pytest.approx(600.0)
    assert w.release_after_s == pytest.approx(630.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bin_width_s": 0},
        {"range_s": 10, "bin_width_s": 60},
        {"head_percentile": 99, "tail_percentile": 5},
        {"histogram_margin": 1.0},
        {"oob_threshold": 0},
        {"forecast_alpha": 0},
        {"min_samples": 0},
        {"history": 5, "min_samples": 10},
        {"standard_keep_alive_s": -1},
    ],
)
def test_hybrid_rejects_nonsense_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        HybridHistogramKeepAlive(**kwargs)  # type: ignore[arg-type]


def test_fixed_rejects_a_negative_timeout() -> None:
    with pytest.raises(ConfigError):
        FixedKeepAlive(idle_timeout_s=-1)
