"""Every way a function fails, reported as Lambda reports it; the platform survives all of them."""

from __future__ import annotations

import json
import os
import re
import time

from envs_helpers import ListSink, body, call

from lambdamaker.engines.functions.engine import FunctionEngine

FAILING_APP = """
import os, sys, time

def handler(event, context):
    what = event.get("what")
    print("before", what)
    if what == "raise":
        raise ValueError("boom")
    if what == "object":
        return object()
    if what == "sleep":
        time.sleep(30)
    if what == "exit":
        sys.exit(3)
    if what == "_exit":
        os._exit(4)
    if what == "segv":
        import ctypes
        ctypes.string_at(0)
    if what == "memory":
        hog = [b"x" * (16 << 20) for _ in range(40)]  # 640 MB, written
        return len(hog)
    return os.getpid()
"""


def error(result) -> dict:  # type: ignore[no-untyped-def]
    assert result.function_error == "Unhandled", result.payload
    return json.loads(result.payload)  # type: ignore[no-any-return]


def test_handler_exception_is_unhandled_with_lambdas_document(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": FAILING_APP})
    pid = body(call(engine, spec, {}))
    doc = error(call(engine, spec, {"what": "raise"}, request_id="rid-raise"))
    assert doc["errorMessage"] == "boom"
    assert doc["errorType"] == "ValueError"
    assert doc["requestId"] == "rid-raise"
    assert len(doc["stackTrace"]) == 1
    assert re.fullmatch(
        r'  File ".*/app\.py", line \d+, in handler\n    raise ValueError\("boom"\)\n',
        doc["stackTrace"][0],
    )
    assert body(call(engine, spec, {})) == pid  # the environment stays
    logged = [m for m in sink.messages() if m.startswith("[ERROR] ValueError: boom")]
    assert logged and "Traceback (most recent call last):" in logged[0]


def test_unserializable_result_is_a_marshal_error(engine: FunctionEngine, make_fn) -> None:
    doc = error(call(engine, make_fn({"app.py": FAILING_APP}), {"what": "object"}))
    assert doc["errorType"] == "Runtime.MarshalError"
    assert doc["errorMessage"].startswith("Unable to marshal response: Object of type object")


def test_missing_module_is_an_import_module_error(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": FAILING_APP}, handler="nothere.handler")
    first = call(engine, spec)
    doc = error(first)
    assert doc == {
        "errorMessage": "Unable to import module 'nothere': No module named 'nothere'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    second = call(engine, spec)  # init runs again in a new environment, as on Lambda
    assert error(second) == doc and second.cold_start


def test_missing_function_is_handler_not_found(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": FAILING_APP}, handler="app.nope", snapshot=False)
    doc = error(call(engine, spec))
    assert doc["errorType"] == "Runtime.HandlerNotFound"
    assert doc["errorMessage"] == "Handler 'nope' missing on module 'app'"


def test_malformed_handler_name(engine: FunctionEngine, make_fn) -> None:
    doc = error(call(engine, make_fn({"app.py": FAILING_APP}, handler="nodot")))
    assert doc["errorType"] == "Runtime.MalformedHandlerName"
    assert doc["errorMessage"].startswith("Bad handler 'nodot': not enough values to unpack")


def test_syntax_error_and_init_exception(engine: FunctionEngine, make_fn) -> None:
    doc = error(call(engine, make_fn({"app.py": "def handler(:\n"})))
    assert doc["errorType"] == "Runtime.UserCodeSyntaxError"
    assert doc["errorMessage"].startswith("Syntax error in module 'app'")
    doc = error(call(engine, make_fn({"app.py": "raise KeyError('cfg')\n"})))
    assert doc["errorType"] == "KeyError" and doc["errorMessage"] == "'cfg'"


def test_timeout_kills_and_replaces_the_environment(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": FAILING_APP}, timeout_s=1)
    pid = body(call(engine, spec, {}))
    result = call(engine, spec, {"what": "sleep"}, request_id="rid-timeout")
    doc = error(result)
    assert doc == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: rid-timeout Error: Task timed out after 1.00 seconds",
    }
    assert 1000 <= result.duration_ms < 3000
    assert not _alive(pid)
    messages = sink.messages(result.log_stream)
    assert "before sleep\n" in messages  # printed before the kill, still logged
    assert any(
        re.fullmatch(r"\S+Z rid-timeout Task timed out after 1\.00 seconds\n", m) for m in messages
    )
    report = next(m for m in messages if m.startswith("REPORT RequestId: rid-timeout"))
    assert "Status: timeout" in report
    again = call(engine, spec, {})
    assert again.cold_start and body(again) != pid


def test_exit_is_a_runtime_exit_error(engine: FunctionEngine, make_fn) -> None:
    spec = make_fn({"app.py": FAILING_APP})
    doc = error(call(engine, spec, {"what": "exit"}, request_id="rid-exit"))
    assert doc == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: rid-exit Error: Runtime exited with error: exit status 3",
    }
    doc = error(call(engine, spec, {"what": "_exit"}))
    assert doc["errorMessage"].endswith("Runtime exited with error: exit status 4")
    doc = error(call(engine, spec, {"what": "segv"}))
    assert doc["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: signal: segmentation fault" in doc["errorMessage"]
    assert isinstance(body(call(engine, spec, {})), int)


def test_out_of_memory_is_reported_and_the_platform_survives(
    engine: FunctionEngine, make_fn, sink: ListSink
) -> None:
    spec = make_fn({"app.py": FAILING_APP}, memory_mb=128)
    result = call(engine, spec, {"what": "memory"}, request_id="rid-oom")
    doc = error(result)
    assert doc == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": "RequestId: rid-oom Error: Runtime exited with error: signal: killed",
    }
    assert result.max_memory_used_mb == 128
    report = next(
        m for m in sink.messages(result.log_stream) if m.startswith("REPORT RequestId: rid-oom")
    )
    assert "Status: error\tError Type: Runtime.OutOfMemory" in report
    assert isinstance(body(call(engine, spec, {})), int)
    other = make_fn({"app.py": "def handler(e, c):\n    return 'fine'\n"})
    assert body(call(engine, other)) == "fine"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_exit_during_init_is_reported_on_the_first_invocation(
    engine: FunctionEngine, make_fn
) -> None:
    for snapshot in (True, False):
        spec = make_fn({"app.py": "import sys\nsys.exit(5)\n"}, snapshot=snapshot)
        doc = error(call(engine, spec, request_id="rid-init-exit"))
        assert doc == {
            "errorType": "Runtime.ExitError",
            "errorMessage": "RequestId: rid-init-exit Error: Runtime exited with error: exit status 5",
        }


def test_the_platform_recovers_when_the_zygote_is_killed(engine: FunctionEngine, make_fn) -> None:
    import signal

    spec = make_fn({"app.py": FAILING_APP})
    pid = body(call(engine, spec, {}))
    zygote = engine.backend._zygotes.base()  # type: ignore[attr-defined]
    os.kill(zygote.pid, signal.SIGKILL)
    zygote.popen.wait()
    while _alive(pid):  # its whole tree goes with it (PDEATHSIG)
        time.sleep(0.001)  # let the environment run
    result = call(engine, spec, {})
    assert result.function_error is None and result.cold_start and body(result) != pid


def test_without_cgroups_an_rss_watchdog_enforces_memory(tmp_path, make_fn) -> None:  # type: ignore[no-untyped-def]
    from envs_helpers import ListSink

    from lambdamaker.backends.local import LocalBackend

    sink = ListSink()
    backend = LocalBackend(tmp_path / "local", logs=sink, clock=time.monotonic, cgroups=False)
    engine = FunctionEngine(work_dir=tmp_path, logs=sink, backend=backend, background=False)
    try:
        assert "watchdog" in str(engine.describe()["limits"])
        spec = make_fn({"app.py": FAILING_APP}, memory_mb=128)
        doc = error(call(engine, spec, {"what": "memory"}))
        assert doc["errorType"] == "Runtime.OutOfMemory"
        assert isinstance(body(call(engine, spec, {})), int)
    finally:
        engine.close()
