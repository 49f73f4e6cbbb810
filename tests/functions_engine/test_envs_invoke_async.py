"""``FunctionEngine.invoke_async``: the warm path on an event loop, answering as ``invoke`` does."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time

from envs_helpers import ListSink, body, call, request

from lambdamaker.engines.functions.engine import FunctionEngine
from lambdamaker.engines.functions.spec import FunctionSpec, InvokeResult

APP = """
import os, sys, time

def handler(event, context):
    what = event.get("what")
    print("said", what)
    if what == "sleep":
        time.sleep(event.get("seconds", 30))
    if what == "exit":
        sys.exit(3)
    if what == "big":
        return "y" * event["size"]
    if what == "echo":
        return event
    return os.getpid()
"""


def run(
    engine: FunctionEngine, spec: FunctionSpec, payload: object, **fields: object
) -> InvokeResult:
    async def go() -> InvokeResult:
        return await engine.invoke_async(spec, request(spec, payload, **fields))

    return asyncio.run(go())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def _gone(pid: int) -> bool:
    """Whether ``pid`` is dead (or a zombie) within 2 s: a SIGKILL is not instantaneous."""
    deadline = time.monotonic() + 2.0
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_warm_async_invoke_reuses_the_environment_and_logs_like_invoke(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": APP})
    first = call(engine, spec, {})  # cold, in the calling thread
    assert first.cold_start
    result = run(engine, spec, {}, request_id="rid-async", tail_logs=True)
    assert body(result) == body(first)
    assert not result.cold_start and result.init_duration_ms is None
    assert result.function_error is None
    assert result.log_stream == first.log_stream
    messages = sink.messages(result.log_stream)
    start = messages.index("START RequestId: rid-async Version: $LATEST\n")
    assert messages[start + 1] == "said None\n"
    assert messages[start + 2] == "END RequestId: rid-async\n"
    report = messages[start + 3]
    assert re.fullmatch(
        r"REPORT RequestId: rid-async\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t\n",
        report,
    )
    assert result.log_tail.decode().endswith(report)
    assert body(call(engine, spec, {})) == body(first)  # and the sync path gets it back


def test_concurrent_async_invokes_never_share_an_environment(
    engine: FunctionEngine, make_fn
) -> None:
    spec = make_fn({"app.py": APP})
    warm = body(call(engine, spec, {}))

    async def go() -> list[InvokeResult]:
        calls = [
            engine.invoke_async(spec, request(spec, {"what": "sleep", "seconds": 0.3}))
            for _ in range(3)
        ]
        return await asyncio.gather(*calls)

    results = asyncio.run(go())
    pids = {json.loads(r.payload) for r in results}
    assert len(pids) == 3 and warm in pids
    assert sum(r.cold_start for r in results) == 2
    assert engine.pool.inflight(spec.function_arn) == 0


def test_large_payloads_cross_the_async_path_whole(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": APP})
    call(engine, spec, {})
    event = {"what": "echo", "pad": "x" * (3 << 20)}
    assert json.loads(run(engine, spec, event).payload) == event
    big = run(engine, spec, {"what": "big", "size": 5 << 20})
    assert json.loads(big.payload) == "y" * (5 << 20)
    assert not big.cold_start


def test_async_timeout_kills_and_replaces_the_environment(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": APP}, timeout_s=1)
    pid = body(call(engine, spec, {}))
    result = run(engine, spec, {"what": "sleep"}, request_id="rid-async-timeout")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: rid-async-timeout Error: Task timed out after 1.00 seconds",
    }
    assert 1000 <= result.duration_ms < 3000
    assert _gone(pid)
    messages = sink.messages(result.log_stream)
    assert "said sleep\n" in messages
    report = next(m for m in messages if m.startswith("REPORT RequestId: rid-async-timeout"))
    assert "Status: timeout" in report
    again = run(engine, spec, {})
    assert again.cold_start and body(again) != pid
    assert engine.pool.inflight(spec.function_arn) == 0


def test_async_crash_is_a_runtime_exit_error(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": APP})
    pid = body(call(engine, spec, {}))
    result = run(engine, spec, {"what": "exit"}, request_id="rid-async-exit")
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: rid-async-exit Error: Runtime exited with error: exit status 3",
    }
    again = run(engine, spec, {})
    assert again.function_error is None and body(again) != pid


def test_a_cancelled_async_invoke_kills_its_environment(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": APP})
    pid = body(call(engine, spec, {}))

    async def go() -> None:
        task = asyncio.create_task(
            engine.invoke_async(spec, request(spec, {"what": "sleep", "seconds": 5}))
        )
        await asyncio.sleep(0.3)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the invocation was not cancelled")

    asyncio.run(go())
    assert engine.pool.inflight(spec.function_arn) == 0
    assert _gone(pid)  # its late reply can never answer another request
    again = run(engine, spec, {})
    assert again.cold_start and body(again) != pid
