"""Scaling, throttling, provisioned concurrency and keep-alive (on a fake clock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from envs_helpers import FakeClock, ListSink, body, call

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.keepalive import FixedKeepAlive
from lambdamaker.errors import TooManyRequestsError

SLOW_APP = """
import os, time
def handler(event, context):
    time.sleep(event.get("hold", 0))
    return os.getpid()
"""


class Meter:
    def __init__(self) -> None:
        self.invocations: list[tuple[str, bool]] = []
        self.throttles: list[tuple[str, str, str]] = []

    def record_invocation(self, spec, result) -> None:  # type: ignore[no-untyped-def]
        self.invocations.append((spec.function_name, result.cold_start))

    def record_throttle(self, function_arn: str, version: str, reason: str) -> None:
        self.throttles.append((function_arn, version, reason))


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def meter() -> Meter:
    return Meter()


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory, sink: ListSink, clock: FakeClock, meter: Meter
) -> Iterator[FunctionEngine]:  # type: ignore[no-untyped-def]
    eng = FunctionEngine(
        work_dir=tmp_path_factory.mktemp("pool-engine"),
        logs=sink,
        meter=meter,
        clock=clock,
        account_concurrency=3,
        keepalive=FixedKeepAlive(600),
    )
    yield eng
    eng.close()


def hold(engine: FunctionEngine, spec, n: int, seconds: float = 1.0) -> list[threading.Thread]:  # type: ignore[no-untyped-def]
    """Start ``n`` invocations that stay busy for ``seconds``; return when all are in flight."""
    threads = [
        threading.Thread(target=call, args=(engine, spec, {"hold": seconds})) for _ in range(n)
    ]
    base = engine.pool.inflight(spec.function_arn)
    for t in threads:
        t.start()
    while engine.pool.inflight(spec.function_arn) < base + n:
        time.sleep(0.001)  # let the environment run
    return threads


def test_reserved_concurrency_throttles_with_its_reason(
    engine: FunctionEngine, make_fn, meter: Meter
) -> None:
    spec = make_fn({"app.py": SLOW_APP})
    engine.set_reserved_concurrency(spec.function_arn, 1)
    try:
        threads = hold(engine, spec, 1)
        with pytest.raises(TooManyRequestsError) as info:
            call(engine, spec, {})
        for t in threads:
            t.join()
        assert info.value.status == 429
        assert info.value.code == "TooManyRequestsException"
        assert info.value.fields["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert (spec.function_arn, "$LATEST", info.value.fields["Reason"]) in meter.throttles
        assert isinstance(body(call(engine, spec, {})), int)  # free again
        engine.set_reserved_concurrency(spec.function_arn, 0)
        with pytest.raises(TooManyRequestsError):
            call(engine, spec, {})
    finally:
        engine.set_reserved_concurrency(spec.function_arn, None)


def test_unreserved_functions_share_the_account_limit_minus_reservations(
    engine: FunctionEngine, make_fn
) -> None:
    reserved = make_fn({"app.py": SLOW_APP})
    one, two = make_fn({"app.py": SLOW_APP}), make_fn({"app.py": SLOW_APP})
    engine.set_reserved_concurrency(reserved.function_arn, 1)  # account 3 -> 2 unreserved
    try:
        threads = hold(engine, one, 1) + hold(engine, two, 1)
        with pytest.raises(TooManyRequestsError) as info:
            call(engine, one, {})
        assert info.value.fields["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert isinstance(body(call(engine, reserved, {})), int)  # its reservation is its own
        for t in threads:
            t.join()
    finally:
        engine.set_reserved_concurrency(reserved.function_arn, None)


def test_scales_out_one_environment_per_concurrent_invocation(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": SLOW_APP})
    threads = hold(engine, spec, 3, 0.5)
    for t in threads:
        t.join()
    assert len(engine.environments(spec)) == 3
    assert engine.pool.idle_count(spec) == 3


def test_keepalive_releases_idle_environments_on_the_clock(
    engine: FunctionEngine, make_fn, clock: FakeClock
) -> None:
    spec = make_fn({"app.py": SLOW_APP})
    pid = body(call(engine, spec, {}))
    clock.advance(599)
    engine.tick()
    assert body(call(engine, spec, {})) == pid  # warm, and idle again from now
    clock.advance(599)
    engine.tick()
    assert len(engine.environments(spec)) == 1
    clock.advance(2)
    engine.tick()
    assert engine.environments(spec) == []
    again = call(engine, spec, {})
    assert again.cold_start and body(again) != pid


def test_provisioned_concurrency_keeps_n_initialized_environments(
    engine: FunctionEngine, make_fn, clock: FakeClock, sink: ListSink
) -> None:
    spec = make_fn({"app.py": SLOW_APP}, version="1")
    engine.set_provisioned(spec, 2)
    assert engine.provisioned_status(spec) == (2, 0)
    engine.tick()
    assert engine.provisioned_status(spec) == (2, 2)
    envs = engine.environments(spec)
    assert all(e.initialization_type == "provisioned-concurrency" for e in envs)  # type: ignore[attr-defined]
    result = call(engine, spec, {})
    assert not result.cold_start and result.init_duration_ms is None
    clock.advance(3600)  # keep-alive does not apply to them
    engine.tick()
    assert engine.provisioned_status(spec) == (2, 2)
    victim = envs[0]
    import os
    import signal

    os.kill(victim.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    while victim.alive():
        time.sleep(0.001)  # let the environment run
    engine.tick()
    assert engine.provisioned_status(spec) == (2, 2)
    assert victim not in engine.environments(spec)
    engine.set_provisioned(spec, 0)
    engine.tick()
    assert engine.provisioned_status(spec) == (0, 0)
    assert engine.environments(spec) == []


def test_an_environment_that_died_while_idle_is_replaced_transparently(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": SLOW_APP})
    pid = body(call(engine, spec, {}))
    import os
    import signal

    os.kill(pid, signal.SIGKILL)
    while engine.environments(spec)[0].alive():
        time.sleep(0.001)  # let the environment run
    result = call(engine, spec, {})
    assert result.function_error is None and body(result) != pid


def test_a_configuration_change_gets_fresh_environments(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn(
        {"app.py": "import os\ndef handler(e, c):\n    return os.environ.get('MODE')\n"},
        environment={"MODE": "a"},
    )
    assert body(call(engine, spec)) == "a"
    changed = replace(spec, environment={"MODE": "b"})
    assert body(call(engine, changed)) == "b"
    assert len(engine.environments(changed)) == 1


def test_invocations_are_metered(engine: FunctionEngine, make_fn, meter: Meter) -> None:
    spec = make_fn({"app.py": SLOW_APP})
    call(engine, spec, {})
    call(engine, spec, {})
    mine = [cold for name, cold in meter.invocations if name == spec.function_name]
    assert mine == [True, False]


class PrewarmAfter:
    """A keep-alive policy (the protocol's contract, no learning): release after ``keep`` s
    idle, then have an environment ready ``gap`` s after the release."""

    def __init__(self, keep: float, gap: float) -> None:
        self.keep, self.gap = keep, gap

    def on_invocation(self, key: str, now: float) -> None:
        pass

    def release_at(self, key: str, idle_since: float) -> float:
        return idle_since + self.keep

    def prewarm_at(self, key: str, now: float) -> float | None:
        return now + self.gap

    def forget(self, key: str) -> None:
        pass


def test_a_policy_can_prewarm_an_environment_before_the_next_call(
    tmp_path, make_fn, sink: ListSink
) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    engine = FunctionEngine(
        work_dir=tmp_path, logs=sink, clock=clock, keepalive=PrewarmAfter(60, 300)
    )
    try:
        spec = make_fn({"app.py": SLOW_APP})
        first = body(call(engine, spec, {}))
        clock.advance(61)
        engine.tick()
        assert engine.environments(spec) == []
        clock.advance(299)
        engine.tick()
        assert engine.environments(spec) == []
        clock.advance(1)
        engine.tick()
        assert len(engine.environments(spec)) == 1
        warm = call(engine, spec, {})
        assert not warm.cold_start and warm.init_duration_ms is None and body(warm) != first
        report = next(m for m in sink.messages(warm.log_stream) if m.startswith("REPORT"))
        assert "Init Duration" not in report
    finally:
        engine.close()
