"""How ``provided.*`` environments fail, as Lambda reports it: timeouts, missing or broken
bootstraps, runtimes that exit, oversized responses; and what a bootstrap gets to run with."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from runtime_api_helpers import ListSink, invoke_request, py_runtime

from lambdamaker.engines.functions.limits import Cgroups
from lambdamaker.engines.functions.provided_env import ProvidedEnvironment
from lambdamaker.engines.functions.spec import FunctionSpec

StartEnv = Callable[[FunctionSpec], ProvidedEnvironment]
MakeSpec = Callable[..., FunctionSpec]


def gone(pid: int, within: float = 10.0) -> bool:
    """The process no longer runs (reaped, or a zombie nobody reaps yet)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.01)
    return False


def error_of(payload: bytes) -> dict[str, str]:
    document = json.loads(payload)
    assert isinstance(document, dict)
    return document


def test_timeout_kills_the_runtime_and_everything_it_started(
    make_spec: MakeSpec, start_env: StartEnv, tmp_path: Path, log_sink: ListSink
) -> None:
    pid_file = tmp_path / "child.pid"
    handle = f"""
import subprocess
child = subprocess.Popen(["sleep", "300"])
open({str(pid_file)!r}, "w").write(str(child.pid))
time.sleep(300)
"""
    spec = make_spec({"bootstrap": py_runtime(handle=handle)}, timeout_s=1)
    env = start_env(spec)
    request = invoke_request(spec, tail_logs=True)
    started = time.monotonic()
    result = env.invoke(request)
    assert 1.0 <= time.monotonic() - started < 5.0
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request.request_id} Error: Task timed out after 1.00 seconds",
    }
    tail = result.log_tail.decode()
    assert f"{request.request_id} Task timed out after 1.00 seconds\n" in tail
    assert "\tStatus: timeout\t" in tail
    assert not env.alive()
    assert env._proc is not None and gone(env._proc.pid)
    assert gone(int(pid_file.read_text()))  # the bootstrap's own child went with it


def test_missing_bootstrap_is_runtime_invalid_entrypoint(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"app.py": ""})
    env = start_env(spec)
    assert env.alive()  # until the first invoke has reported the failure
    request = invoke_request(spec)
    result = env.invoke(request)
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {request.request_id} Error: Couldn't find valid "
        f"bootstrap(s): [{spec.code_dir}/bootstrap]",
    }
    assert result.cold_start
    assert not env.alive()


def test_bootstrap_that_is_not_executable_is_runtime_invalid_entrypoint(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime()}, executable=False)
    env = start_env(spec)
    request = invoke_request(spec)
    error = error_of(env.invoke(request).payload)
    assert error == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {request.request_id} Error: fork/exec "
        f"{spec.code_dir}/bootstrap: permission denied",
    }


def test_runtime_exiting_during_init_is_reported_by_the_first_invoke(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime(init="print('init failed'); sys.exit(3)")})
    env = start_env(spec)
    request = invoke_request(spec, tail_logs=True)
    result = env.invoke(request)
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request.request_id} Error: Runtime exited with error: "
        "exit status 3",
    }
    assert "Error Type: Runtime.ExitError" in result.log_tail.decode()
    assert not env.alive()


def test_runtime_exiting_cleanly_during_init_gives_no_reason(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime(init="sys.exit(0)")})
    env = start_env(spec)
    request = invoke_request(spec)
    assert error_of(env.invoke(request).payload)["errorMessage"] == (
        f"RequestId: {request.request_id} Error: Runtime exited without providing a reason"
    )


def test_runtime_exiting_during_an_invocation_is_runtime_exit_error(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    handle = "if json.loads(event).get('die'): sys.exit(7)"
    spec = make_spec({"bootstrap": py_runtime(handle=handle)})
    env = start_env(spec)
    assert env.invoke(invoke_request(spec)).function_error is None
    request = invoke_request(spec, {"die": True}, tail_logs=True)
    result = env.invoke(request)
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request.request_id} Error: Runtime exited with error: "
        "exit status 7",
    }
    assert "Runtime exited with error: exit status 7\nRuntime.ExitError\n" in (
        result.log_tail.decode()
    )
    assert not env.alive()


def test_runtime_killed_by_a_signal_names_the_signal(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime(handle="os.kill(os.getpid(), 9)")})
    env = start_env(spec)
    request = invoke_request(spec)
    assert error_of(env.invoke(request).payload)["errorMessage"] == (
        f"RequestId: {request.request_id} Error: Runtime exited with error: signal: killed"
    )


def test_runtime_init_error_body_that_is_not_json_is_wrapped(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    init = """call("POST", "init/error", b"config missing",
     {"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigInvalid"})
sys.exit(1)"""
    spec = make_spec({"bootstrap": py_runtime(init=init)})
    env = start_env(spec)
    result = env.invoke(invoke_request(spec))
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Runtime.ConfigInvalid",
        "errorMessage": "config missing",
    }
    assert not env.alive()


def test_response_over_6_mb_is_function_response_size_too_large(
    make_spec: MakeSpec, start_env: StartEnv, log_sink: ListSink
) -> None:
    handle = """
status, _ = call("POST", "invocation/" + rid + "/response", b"x" * (6 * 1024 * 1024 + 200))
print("runtime got", status.status, flush=True)
continue"""
    spec = make_spec({"bootstrap": py_runtime(handle=handle)})
    env = start_env(spec)
    result = env.invoke(invoke_request(spec))
    assert result.function_error == "Unhandled"
    assert error_of(result.payload) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size (6291656 bytes) exceeded maximum allowed payload "
        "size (6291556 bytes).",
    }
    assert env.alive()  # the runtime got its 413 and carries on
    assert env.invoke(invoke_request(spec)).function_error == "Unhandled"
    assert "runtime got 413\n" in log_sink.messages()


def test_bootstrap_from_a_layer_runs_with_layer_bin_and_lib_on_the_paths(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    handle = """
result = json.dumps({
    "greeting": __import__("subprocess").run(["greet"], capture_output=True, text=True).stdout,
    "env": dict(os.environ),
}).encode()"""
    layer = {"bootstrap": py_runtime(handle=handle), "bin/greet": "#!/bin/sh\necho hello\n"}
    spec = make_spec({"app.txt": "code"}, layers=[layer])
    os.chmod(Path(spec.layer_dirs[0]) / "bin/greet", 0o755)
    env = start_env(spec)
    body = json.loads(env.invoke(invoke_request(spec)).payload)
    assert body["greeting"] == "hello\n"
    environ = body["env"]
    layer_dir = spec.layer_dirs[0]
    assert f"{layer_dir}/bin" in environ["PATH"].split(":")
    assert f"{layer_dir}/lib" in environ["LD_LIBRARY_PATH"].split(":")
    assert environ["LAMBDAMAKER_OPT_DIR"] == layer_dir


def test_bootstrap_environment_has_lambdas_variables_and_nothing_of_the_platforms(
    make_spec: MakeSpec, start_env: StartEnv, monkeypatch: object
) -> None:
    handle = "result = json.dumps(dict(os.environ)).encode()"
    spec = make_spec(
        {"bootstrap": py_runtime(handle=handle)},
        function_name="envfn",
        memory_mb=256,
        handler="my.handler",
        environment={
            "MY_SETTING": "on",
            "AWS_LAMBDA_FUNCTION_NAME": "spoofed",
            "TZ": "Europe/Oslo",
        },
        endpoint_url="http://127.0.0.1:4599",
        credentials=("AKIDEXAMPLE", "secret", "token"),
        log_group="/custom/group",
    )
    env = start_env(spec)
    environ = json.loads(env.invoke(invoke_request(spec)).payload)
    api = environ.pop("AWS_LAMBDA_RUNTIME_API")
    assert api.startswith("127.0.0.1:")
    assert environ["_HANDLER"] == "my.handler"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "envfn"  # reserved: the function can't spoof it
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/custom/group"
    assert environ["AWS_LAMBDA_LOG_STREAM_NAME"] == env.log_stream
    assert environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environ["LAMBDA_TASK_ROOT"] == spec.code_dir
    assert environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4599"
    assert environ["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert environ["AWS_SECRET_ACCESS_KEY"] == "secret"
    assert environ["AWS_SESSION_TOKEN"] == "token"
    assert environ["MY_SETTING"] == "on"
    assert environ["TZ"] == "Europe/Oslo"  # not reserved: functions may override it
    assert "PYTEST_CURRENT_TEST" not in environ and "HOME" not in environ
    assert "AWS_EXECUTION_ENV" not in environ  # Lambda leaves it unset for OS-only runtimes
    assert Path(environ["TMPDIR"]).is_dir()
    assert env.log_stream.split("/")[3] == f"[$LATEST]{env.env_id}"


def test_stop_kills_the_runtime_and_removes_its_files(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime()})
    env = start_env(spec)
    assert env.invoke(invoke_request(spec)).function_error is None
    assert env._proc is not None
    pid = env._proc.pid
    env.stop()
    env.stop()  # idempotent
    assert not env.alive()
    assert gone(pid)
    assert not env._dir.exists()


def test_runtime_that_dies_while_idle_is_no_longer_alive(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime()})
    env = start_env(spec)
    assert env._proc is not None
    os.kill(env._proc.pid, 9)
    assert gone(env._proc.pid)
    deadline = time.monotonic() + 10
    while env.alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not env.alive()


def test_init_slower_than_the_init_limit_carries_on_into_the_first_invoke(
    make_spec: MakeSpec, tmp_path: Path, log_sink: ListSink
) -> None:
    spec = make_spec({"bootstrap": py_runtime(init="time.sleep(0.5)")})
    env = ProvidedEnvironment(spec, logs=log_sink, work_dir=tmp_path / "w", init_timeout_s=0.05)
    try:
        assert env.start() < 500  # returned at the limit, init still running
        assert env.alive()
        result = env.invoke(invoke_request(spec, {"slow": True}))
        assert result.function_error is None
        assert json.loads(result.payload) == {"slow": True}
        assert result.init_duration_ms is not None and result.init_duration_ms >= 500
    finally:
        env.stop()


def test_init_error_posted_while_the_first_invoke_waits_is_its_result(
    make_spec: MakeSpec, tmp_path: Path, log_sink: ListSink
) -> None:
    init = """time.sleep(0.3)
call("POST", "init/error", json.dumps({"errorMessage": "late failure", "errorType": "E"}),
     {"Lambda-Runtime-Function-Error-Type": "Runtime.Late"})
time.sleep(300)"""
    spec = make_spec({"bootstrap": py_runtime(init=init)})
    env = ProvidedEnvironment(spec, logs=log_sink, work_dir=tmp_path / "w", init_timeout_s=0.05)
    try:
        env.start()
        result = env.invoke(invoke_request(spec))
        assert result.function_error == "Unhandled"
        assert error_of(result.payload) == {"errorMessage": "late failure", "errorType": "E"}
        assert not env.alive()
        assert env._proc is not None and gone(env._proc.pid)
    finally:
        env.stop()


MEMORY_HOG = """
if json.loads(event).get("hog"):
    hog = b"x" * (400 << 20)  # written, so resident: 400 MB against a 128 MB function
    time.sleep(5)
"""


def test_memory_past_memory_size_is_runtime_out_of_memory_with_a_cgroup(
    make_spec: MakeSpec, tmp_path: Path, log_sink: ListSink
) -> None:
    cgroups = Cgroups()
    if not cgroups.available:
        pytest.skip(f"no writable memory cgroup here: {cgroups.describe()}")
    spec = make_spec({"bootstrap": py_runtime(handle=MEMORY_HOG)}, memory_mb=128, timeout_s=30)
    env = ProvidedEnvironment(spec, logs=log_sink, work_dir=tmp_path / "w", cgroups=cgroups)
    try:
        env.start()
        assert env._cgroup is not None  # the cgroup, not the watchdog, enforces the limit
        assert env.invoke(invoke_request(spec)).function_error is None
        request = invoke_request(spec, {"hog": True})
        result = env.invoke(request)
        assert result.function_error == "Unhandled"
        assert error_of(result.payload) == {
            "errorType": "Runtime.OutOfMemory",
            "errorMessage": f"RequestId: {request.request_id} Error: Runtime exited with error: "
            "signal: killed",
        }
        assert not env.alive()
    finally:
        env.stop()
        cgroups.close()


def test_memory_past_memory_size_is_runtime_out_of_memory_with_the_watchdog(
    make_spec: MakeSpec, start_env: StartEnv
) -> None:
    spec = make_spec({"bootstrap": py_runtime(handle=MEMORY_HOG)}, memory_mb=128, timeout_s=30)
    env = start_env(spec)  # no cgroups passed: the RSS watchdog
    request = invoke_request(spec, {"hog": True}, tail_logs=True)
    started = time.monotonic()
    result = env.invoke(request)
    assert time.monotonic() - started < 5  # killed by the watchdog, not the sleep ending
    assert error_of(result.payload)["errorType"] == "Runtime.OutOfMemory"
    assert "Error Type: Runtime.OutOfMemory" in result.log_tail.decode()
    assert not env.alive()
