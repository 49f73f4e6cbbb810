"""The unmodified ``awslambdaric`` package from PyPI (AWS's own Python runtime client, with its
libcurl-based C extension) as a ``provided.al2023`` bootstrap."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest
from runtime_api_helpers import ListSink, b64_json, invoke_request

from lambdamaker.engines.functions.provided_env import ProvidedEnvironment
from lambdamaker.engines.functions.spec import FunctionSpec

pytest.importorskip("awslambdaric", reason="awslambdaric is not installed in this interpreter")

BOOTSTRAP = f"""#!/bin/sh
exec {sys.executable} -m awslambdaric "$_HANDLER"
"""

APP = """
import os, sys
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print("event", event)
    print("to stderr", file=sys.stderr)
    if event.get("fail"):
        raise ValueError("bad input: " + str(event["fail"]))
    cc = context.client_context
    return {
        "calls": calls,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_custom": cc.custom if cc else None,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "region": os.environ.get("AWS_REGION"),
        "cwd": os.getcwd(),
    }
"""


@pytest.fixture()
def spec(make_spec: Callable[..., FunctionSpec]) -> FunctionSpec:
    return make_spec(
        {"bootstrap": BOOTSTRAP, "app.py": APP}, handler="app.handler", function_name="ric"
    )


def test_handler_result_and_context_fields(
    spec: FunctionSpec, start_env: Callable[[FunctionSpec], ProvidedEnvironment]
) -> None:
    env = start_env(spec)
    request = invoke_request(
        spec,
        {"x": 1},
        invoked_function_arn=spec.function_arn + ":live",
        client_context=b64_json({"custom": {"tenant": "t1"}, "client": {}, "env": {}}),
        identity={"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"},
        trace_id="Root=1-65f00000-0123456789abcdef01234567;Parent=1234567890abcdef;Sampled=1",
    )
    result = env.invoke(request)
    assert result.function_error is None
    body = json.loads(result.payload)
    assert body["aws_request_id"] == request.request_id
    assert body["function_name"] == "ric"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == spec.function_arn + ":live"
    assert body["memory_limit_in_mb"] == "128"  # awslambdaric reads it from the env var
    assert body["log_group_name"] == "/aws/lambda/ric"
    assert body["log_stream_name"] == env.log_stream
    assert 0 < body["remaining_ms"] <= 3000
    assert body["client_custom"] == {"tenant": "t1"}
    assert body["cognito_identity_id"] == "us-east-1:abc"
    assert body["cognito_identity_pool_id"] == "us-east-1:pool"
    assert body["trace"] == request.trace_id
    assert body["region"] == "us-east-1"
    assert body["cwd"] == spec.code_dir


def test_globals_persist_and_only_the_first_invoke_is_a_cold_start(
    spec: FunctionSpec, start_env: Callable[[FunctionSpec], ProvidedEnvironment]
) -> None:
    env = start_env(spec)
    first = env.invoke(invoke_request(spec))
    second = env.invoke(invoke_request(spec))
    assert json.loads(first.payload)["calls"] == 1
    assert json.loads(second.payload)["calls"] == 2
    assert first.cold_start and first.init_duration_ms is not None
    assert first.init_duration_ms > 0
    assert not second.cold_start and second.init_duration_ms is None
    assert env.alive()


def test_handler_exception_is_unhandled_with_awslambdarics_error_document(
    spec: FunctionSpec, start_env: Callable[[FunctionSpec], ProvidedEnvironment]
) -> None:
    env = start_env(spec)
    request = invoke_request(spec, {"fail": 42})
    result = env.invoke(request)
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: 42"
    assert error["requestId"] == request.request_id
    assert any("raise ValueError" in frame for frame in error["stackTrace"])
    # Lambda keeps the environment after a handler error: the next invoke is warm.
    assert env.alive()
    after = env.invoke(invoke_request(spec))
    assert after.function_error is None
    assert json.loads(after.payload)["calls"] == 2


def test_logs_have_start_output_end_and_report_lines(
    spec: FunctionSpec,
    start_env: Callable[[FunctionSpec], ProvidedEnvironment],
    log_sink: ListSink,
) -> None:
    env = start_env(spec)
    request = invoke_request(spec, {"x": 1}, tail_logs=True)
    result = env.invoke(request)
    tail = result.log_tail.decode()
    lines = tail.splitlines()
    assert lines[0] == f"START RequestId: {request.request_id} Version: $LATEST"
    assert "event {'x': 1}" in lines
    assert "to stderr" in lines
    assert lines[-2] == f"END RequestId: {request.request_id}"
    report = lines[-1].split("\t")
    assert report[0] == f"REPORT RequestId: {request.request_id}"
    assert report[1].startswith("Duration: ") and report[1].endswith(" ms")
    assert report[2].startswith("Billed Duration: ")
    assert report[3] == "Memory Size: 128 MB"
    assert report[4].startswith("Max Memory Used: ")
    assert report[5].startswith("Init Duration: ")
    assert result.max_memory_used_mb > 0
    # The same lines went to the log group and stream of this environment.
    groups = {(g, s) for g, s, _, _ in log_sink.events}
    assert groups == {("/aws/lambda/ric", env.log_stream)}
    assert f"END RequestId: {request.request_id}\n" in log_sink.messages()
    warm = env.invoke(invoke_request(spec, tail_logs=True))
    assert "Init Duration" not in warm.log_tail.decode()


def test_import_error_is_reported_by_the_first_invoke_and_the_environment_dies(
    make_spec: Callable[..., FunctionSpec],
    start_env: Callable[[FunctionSpec], ProvidedEnvironment],
) -> None:
    spec = make_spec({"bootstrap": BOOTSTRAP}, handler="missing_module.handler")
    env = start_env(spec)
    assert env.alive()  # until the failure has been reported
    result = env.invoke(invoke_request(spec))
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in error["errorMessage"]
    assert not env.alive()
