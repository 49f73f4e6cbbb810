"""Metering on a real store: per-minute aggregates of invocations and throttles."""

from __future__ import annotations

import threading

import pytest

from lambdamaker.engines.functions.spec import FunctionSpec, InvokeResult
from lambdamaker.observability import Meter
from lambdamaker.observability.metering import MIGRATIONS
from lambdamaker.store import Store

ARN = "arn:aws:lambda:us-east-1:000000000000:function:score"
MINUTE = 60.0
T0 = 1_700_000_040.0  # a minute boundary


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def spec(version: str = "$LATEST", memory_mb: int = 1024, arn: str = ARN) -> FunctionSpec:
    return FunctionSpec(
        function_name=arn.rsplit(":", 1)[1],
        version=version,
        function_arn=arn,
        runtime="python3.11",
        handler="app.handler",
        code_dir="/tmp/code",
        code_sha256="x",
        memory_mb=memory_mb,
    )


def result(
    duration: float = 10.0,
    billed: int = 10,
    *,
    error: str | None = None,
    cold: bool = False,
    init: float | None = None,
    memory_used: int = 50,
) -> InvokeResult:
    return InvokeResult(
        payload=b"{}",
        function_error=error,
        duration_ms=duration,
        billed_duration_ms=billed,
        max_memory_used_mb=memory_used,
        init_duration_ms=init,
        cold_start=cold,
    )


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def meter(store: Store, clock: FakeClock) -> Meter:
    store.migrate(MIGRATIONS)
    return Meter(store, clock=clock)


def test_invocations_of_a_minute_add_up(meter: Meter) -> None:
    meter.record_invocation(spec(), result(12.5, 13, cold=True, init=250.0, memory_used=80))
    meter.record_invocation(spec(), result(3.0, 3, error="Unhandled", memory_used=60))
    meter.record_throttle(ARN, "$LATEST", "ReservedFunctionConcurrentInvocationLimitExceeded")
    (m,) = meter.usage(ARN).minutes
    assert (m.requests, m.errors, m.throttles, m.cold_starts) == (2, 1, 1, 1)
    assert m.duration_ms_sum == pytest.approx(15.5)
    assert m.duration_ms_max == pytest.approx(12.5)
    assert m.billed_ms_sum == 16
    assert m.gb_seconds_sum == pytest.approx(1.0 * 16 / 1000)
    assert m.init_ms_sum == pytest.approx(250.0)
    assert m.max_memory_used_mb == 80
    assert m.minute_ms == int(T0 * 1000)


def test_gb_seconds_use_configured_memory_and_billed_time(meter: Meter) -> None:
    meter.record_invocation(spec(memory_mb=512), result(999.2, 1000))
    assert meter.usage(ARN).total().gb_seconds_sum == pytest.approx(0.5)


def test_usage_is_kept_per_minute_and_per_version(meter: Meter, clock: FakeClock) -> None:
    meter.record_invocation(spec(), result())
    clock.now += MINUTE
    meter.record_invocation(spec(), result())
    meter.record_invocation(spec("3"), result())
    usage = meter.usage(ARN)
    assert [(m.minute_ms, m.version, m.requests) for m in usage.minutes] == [
        (int(T0 * 1000), "$LATEST", 1),
        (int((T0 + MINUTE) * 1000), "$LATEST", 1),
        (int((T0 + MINUTE) * 1000), "3", 1),
    ]
    assert usage.total().requests == 3
    assert meter.usage(ARN, version="3").total().requests == 1
    assert meter.usage(ARN, since=T0 + MINUTE).total().requests == 2
    assert meter.usage(ARN, until=T0 + MINUTE).total().requests == 1


def test_flushes_into_the_same_minute_merge(meter: Meter) -> None:
    meter.record_invocation(spec(), result(5.0, 5))
    meter.flush()
    meter.record_invocation(spec(), result(9.0, 9))
    meter.flush()
    (m,) = meter.usage(ARN).minutes
    assert (m.requests, m.billed_ms_sum, m.duration_ms_max) == (2, 14, 9.0)


def test_usage_of_every_function(meter: Meter) -> None:
    other = ARN.replace("score", "train")
    meter.record_invocation(spec(), result())
    meter.record_invocation(spec(arn=other), result())
    assert {m.function_arn for m in meter.usage().minutes} == {ARN, other}


def test_counts_survive_a_failing_store_until_it_recovers(store: Store) -> None:
    meter = Meter(store)  # no tables yet: the flush fails
    meter.record_invocation(spec(), result())
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        meter.flush()
    meter.record_invocation(spec(), result())
    store.migrate(MIGRATIONS)
    assert meter.usage(ARN).total().requests == 2


def test_background_writer_and_close_persist_concurrent_records(store: Store) -> None:
    store.migrate(MIGRATIONS)
    meter = Meter(store, flush_interval=0.01)
    meter.start()

    def worker() -> None:
        for _ in range(500):
            meter.record_invocation(spec(), result())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    meter.close()
    assert Meter(store).usage(ARN).total().requests == 2000
