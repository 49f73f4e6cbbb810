"""What every runtime owes the Lambda contract, whatever runs the function's code.

Python environments (``python_env``) and ``provided.*`` environments (``provided_env``) differ
in how they run code, not in what a function sees: the reserved environment variables, the
platform's error documents, the exit messages and the size of a log tail are Lambda's, and live
here once. https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
"""

from __future__ import annotations

import json
import signal

from lambdamaker.engines.functions.spec import FunctionSpec

TAIL_BYTES = 4096
"""``LogType=Tail`` returns the last 4 KB of an invocation's log."""
INIT_TIMEOUT_S = 10.0
"""Lambda gives init 10 s (on-demand) before it fails the cold start."""
WATCHDOG_INTERVAL_S = 0.05
"""How often the RSS watchdog samples memory where no cgroup enforces MemorySize."""

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

_SIGNAL_NAMES = {
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGINT: "interrupt",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction",
    signal.SIGFPE: "floating point exception",
}


def error_document(error_type: str, message: str) -> bytes:
    """The JSON Lambda itself writes for platform errors: compact, ``errorType`` first."""
    return json.dumps(
        {"errorType": error_type, "errorMessage": message}, separators=(",", ":")
    ).encode()


def exit_message(returncode: int | None, *, core_dumped: bool = False) -> str:
    """Lambda's words for a runtime process that ended (``returncode`` as ``Popen`` has it:
    negative for a signal; None when it was killed without a status)."""
    if returncode is None:
        return "Runtime exited with error: signal: killed"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
            name = _SIGNAL_NAMES.get(sig, sig.name)
        except ValueError:
            name = f"signal {-returncode}"
        core = " (core dumped)" if core_dumped else ""
        return f"Runtime exited with error: signal: {name}{core}"
    if returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {returncode}"


def lambda_environment(
    spec: FunctionSpec,
    *,
    base: dict[str, str],
    log_group: str,
    log_stream: str,
    initialization_type: str,
    extra: dict[str, str],
) -> dict[str, str]:
    """A function's process environment: ``base`` (PATH, LANG... which functions may
    override), then the function's own variables, then Lambda's reserved ones, which win, then
    the runtime's ``extra`` reserved ones and the role's credentials."""
    env = dict(base)
    if spec.endpoint_url:
        env["AWS_ENDPOINT_URL"] = spec.endpoint_url
    env.update(spec.environment)
    env.update(
        {
            "_HANDLER": spec.handler,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
            "LAMBDA_TASK_ROOT": spec.code_dir,
        }
    )
    env.update(extra)
    for name in CREDENTIAL_VARIABLES:
        env.pop(name, None)
    if spec.credentials is not None:
        key, secret, token = spec.credentials
        env["AWS_ACCESS_KEY_ID"] = key
        env["AWS_SECRET_ACCESS_KEY"] = secret
        if token:
            env["AWS_SESSION_TOKEN"] = token
    return env
