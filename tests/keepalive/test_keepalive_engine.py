"""The hybrid policy driving the real engine: real environment processes, a fake clock.

The pool asks the policy through ``KeepAlivePolicy``; these tests check that what the policy
decides is what happens to processes: unloaded after the call, pre-warmed before the next one,
released when the expected call does not come.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.keepalive import HybridHistogramKeepAlive
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeRequest, InvokeResult

PERIOD = 9 * 60.0  # under the 10-minute standard keep-alive, so learning calls are warm
STEP = 30.0  # the engine's ticker runs every second; every 30 fake seconds is enough here


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def monotonic(self) -> float:
        return self.now


class DropLogs:
    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        pass


@pytest.fixture(autouse=True)
def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the functions engine's sandbox and cgroups need root")


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def engine(tmp_path: Path, clock: FakeClock) -> Iterator[FunctionEngine]:
    eng = FunctionEngine(
        work_dir=tmp_path / "engine",
        logs=DropLogs(),
        clock=clock,
        keepalive=HybridHistogramKeepAlive(),
    )
    yield eng
    eng.close()


@pytest.fixture()
def spec(tmp_path: Path) -> FunctionSpec:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return event\n")
    return FunctionSpec(
        function_name="timer",
        version="$LATEST",
        function_arn="arn:aws:lambda:us-east-1:000000000000:function:timer",
        runtime="python3.11",
        handler="app.handler",
        code_dir=str(code),
        code_sha256=uuid.uuid4().hex,
    )


def invoke(engine: FunctionEngine, spec: FunctionSpec) -> InvokeResult:
    request = InvokeRequest(
        request_id=str(uuid.uuid4()), payload=b"{}", invoked_function_arn=spec.function_arn
    )
    result = engine.invoke(spec, request)
    assert result.function_error is None, result.payload
    return result


def run_until(engine: FunctionEngine, clock: FakeClock, until: float) -> None:
    """Advance the fake clock to ``until``, ticking every ``STEP`` seconds on the way."""
    while clock.now + STEP <= until:
        clock.now += STEP
        engine.tick()
    clock.now = until
    engine.tick()


def test_hybrid_policy_unloads_after_the_call_and_prewarms_before_the_next(
    engine: FunctionEngine, spec: FunctionSpec, clock: FakeClock
) -> None:
    results = [invoke(engine, spec)]
    for _ in range(11):  # ten idle times of 9 minutes: the histogram is now representative
        run_until(engine, clock, clock.now + PERIOD)
        results.append(invoke(engine, spec))
    assert results[0].cold_start
    assert not any(r.cold_start for r in results[1:])  # the standard keep-alive held them

    last = clock.now
    run_until(engine, clock, last + STEP)
    assert engine.environments(spec) == []  # unloaded right after the call
    run_until(engine, clock, last + 7 * 60)
    assert engine.environments(spec) == []
    run_until(engine, clock, last + PERIOD - STEP)
    assert len(engine.environments(spec)) == 1  # pre-warmed before the expected call
    run_until(engine, clock, last + PERIOD)
    assert not invoke(engine, spec).cold_start


def test_hybrid_policy_releases_the_prewarmed_environment_when_no_call_comes(
    engine: FunctionEngine, spec: FunctionSpec, clock: FakeClock
) -> None:
    invoke(engine, spec)
    for _ in range(11):
        run_until(engine, clock, clock.now + PERIOD)
        invoke(engine, spec)
    last = clock.now
    run_until(engine, clock, last + PERIOD)
    assert len(engine.environments(spec)) == 1
    # The keep-alive window ends at 10 minutes x 1.1 after the last call: released, and not
    # pre-warmed again.
    run_until(engine, clock, last + 11 * 60 + STEP)
    assert engine.environments(spec) == []
    run_until(engine, clock, last + 3 * 3600)
    assert engine.environments(spec) == []
