"""Invoke through boto3 against the real server: sync, async and dry-run invocations, qualifiers
and weighted aliases, layers, ClientContext and log tails, payload limits, errors, and boto3
inside a function talking to this platform."""

from __future__ import annotations

import base64
import json
import math
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import ROLE, make_zip

HANDLERS = """
import json, os, sys

def echo(event, context):
    return {"event": event, "version": context.function_version,
            "arn": context.invoked_function_arn, "request_id": context.aws_request_id}

def fail(event, context):
    raise ValueError("bad input: " + str(event.get("n")))

def chatty(event, context):
    print("hello from the handler")
    return "ok"

def client_context(event, context):
    return context.client_context.custom

def big(event, context):
    return "x" * event["size"]

def layered(event, context):
    import helper
    return helper.VALUE

def env(event, context):
    return {k: os.environ.get(k) for k in ("MODE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION")}

def read_path(event, context):
    try:
        with open(event["path"], "rb") as f:
            return {"read": len(f.read())}
    except OSError as exc:
        return {"error": type(exc).__name__}

def to_s3(event, context):
    import boto3
    s3 = boto3.client("s3")
    s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=json.dumps(event).encode())
    return {"endpoint": os.environ.get("AWS_ENDPOINT_URL")}
"""

ARN = "arn:aws:lambda:us-east-1:000000000000:function"


@pytest.fixture(scope="module")
def lam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("lambda")


@pytest.fixture(scope="module")
def s3(boto_client: Callable[..., Any]) -> Any:
    return boto_client("s3")


@pytest.fixture(scope="module")
def fn(lam: Any) -> Iterator[str]:
    """One function with every test handler; tests switch handlers through qualifiers."""
    name = f"inv-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handlers.echo",
        Code={"ZipFile": make_zip({"handlers.py": HANDLERS})},
        Environment={"Variables": {"MODE": "test"}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    yield name
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            if function["FunctionName"].startswith(name):
                lam.delete_function(FunctionName=function["FunctionName"])


def with_handler(lam: Any, base: str, handler: str, **extra: Any) -> str:
    """A sibling function of ``base``'s code with another handler."""
    name = f"{base}-{handler.split('.')[-1].replace('_', '-')}"
    try:
        lam.get_function(FunctionName=name)
        return name
    except ClientError:
        pass
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip({"handlers.py": HANDLERS})},
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def invoke(lam: Any, name: str, payload: Any = None, **params: Any) -> tuple[dict[str, Any], Any]:
    if payload is not None:
        params["Payload"] = json.dumps(payload).encode()
    out = lam.invoke(FunctionName=name, **params)
    body = out["Payload"].read()
    return out, json.loads(body) if body else None


def error_of(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def test_sync_invoke_runs_the_handler(lam: Any, fn: str) -> None:
    out, body = invoke(lam, fn, {"n": 1})
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    assert body["event"] == {"n": 1}
    assert body["arn"] == f"{ARN}:{fn}"
    assert body["request_id"] == out["ResponseMetadata"]["RequestId"]


def test_empty_payload_is_an_empty_event(lam: Any, fn: str) -> None:
    _, body = invoke(lam, fn)
    assert body["event"] == {}


def test_dry_run_checks_and_answers_204(lam: Any, fn: str) -> None:
    out = lam.invoke(FunctionName=fn, InvocationType="DryRun")
    assert out["StatusCode"] == 204


def test_handler_exception_is_an_unhandled_function_error(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.fail")
    out, body = invoke(lam, name, {"n": 7})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input: 7"


def test_missing_module_is_reported_as_lambda_reports_it(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "nomodule.handler")
    out, body = invoke(lam, name, {})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "nomodule" in body["errorMessage"]


def test_log_tail_returns_the_last_4_kb_of_the_log(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.chatty")
    out, _ = invoke(lam, name, {}, LogType="Tail")
    log = base64.b64decode(out["LogResult"]).decode()
    assert "hello from the handler" in log
    assert len(base64.b64decode(out["LogResult"])) <= 4096


def test_client_context_reaches_the_handler(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.client_context")
    context = base64.b64encode(json.dumps({"custom": {"tenant": "acme"}}).encode()).decode()
    _, body = invoke(lam, name, {}, ClientContext=context)
    assert body == {"tenant": "acme"}
    too_big = base64.b64encode(b"{" + b" " * 3000 + b"}").decode()
    assert error_of(lambda: lam.invoke(FunctionName=name, ClientContext=too_big))[:2] == (
        "InvalidParameterValueException",
        400,
    )
    assert error_of(lambda: lam.invoke(FunctionName=name, ClientContext="%%%"))[:2] == (
        "InvalidRequestContentException",
        400,
    )


def test_environment_and_lambda_variables_are_set(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.env", Environment={"Variables": {"MODE": "env"}})
    _, body = invoke(lam, name, {})
    assert body == {"MODE": "env", "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_REGION": "us-east-1"}


def test_payload_limits(lam: Any, fn: str) -> None:
    six_mb = b'"' + b"x" * (6 * 1024 * 1024) + b'"'
    code, status, message = error_of(lambda: lam.invoke(FunctionName=fn, Payload=six_mb))
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert "6291456 bytes" in message
    one_mb = b'"' + b"x" * (1024 * 1024) + b'"'
    code, status, message = error_of(
        lambda: lam.invoke(FunctionName=fn, Payload=one_mb, InvocationType="Event")
    )
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert "(limit 1048576 bytes)" in message
    code, status, _ = error_of(lambda: lam.invoke(FunctionName=fn, Payload=b"{not json"))
    assert (code, status) == ("InvalidRequestContentException", 400)


def test_response_over_6_mb_is_a_function_error(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.big")
    out, body = invoke(lam, name, {"size": 6_300_000})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in body["errorMessage"]


def test_unknown_function_version_and_alias_are_not_found(lam: Any, fn: str) -> None:
    code, status, message = error_of(lambda: lam.invoke(FunctionName="no-such-function"))
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message.startswith(f"Function not found: {ARN}:no-such-function")
    assert error_of(lambda: lam.invoke(FunctionName=fn, Qualifier="99"))[2] == (
        f"Function not found: {ARN}:{fn}:99"
    )
    assert error_of(lambda: lam.invoke(FunctionName=fn, Qualifier="nope"))[2] == (
        f"Function not found: {ARN}:{fn}:nope"
    )


def test_qualified_and_weighted_alias_invocations(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.echo", Publish=True)
    lam.update_function_configuration(FunctionName=name, Description="two")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    out, body = invoke(lam, name, {}, Qualifier="1")
    assert (out["ExecutedVersion"], body["version"]) == ("1", "1")
    assert body["arn"] == f"{ARN}:{name}:1"
    lam.create_alias(
        FunctionName=name,
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )
    runs = 400
    executed = [
        lam.invoke(FunctionName=f"{name}:canary", Payload=b"{}")["ExecutedVersion"]
        for _ in range(runs)
    ]
    assert set(executed) == {"1", "2"}
    count = executed.count("2")
    mean, sd = runs * 0.3, math.sqrt(runs * 0.3 * 0.7)
    assert abs(count - mean) < 4.5 * sd, count  # a false alarm about once in 150,000 runs


def test_layers_are_importable_by_the_handler(lam: Any, fn: str) -> None:
    layer = lam.publish_layer_version(
        LayerName=f"{fn}-helpers",
        Content={"ZipFile": make_zip({"python/helper.py": "VALUE = 'from a layer'\n"})},
        CompatibleRuntimes=["python3.12"],
    )
    name = with_handler(lam, fn, "handlers.layered", Layers=[layer["LayerVersionArn"]])
    _, body = invoke(lam, name, {})
    assert body == "from a layer"


def test_boto3_inside_a_function_talks_to_this_platform(lam: Any, s3: Any, fn: str) -> None:
    bucket = f"from-fn-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = with_handler(lam, fn, "handlers.to_s3", Timeout=30)
    out, body = invoke(lam, name, {"bucket": bucket, "key": "sync.json"})
    assert "FunctionError" not in out, body
    assert (
        json.loads(s3.get_object(Bucket=bucket, Key="sync.json")["Body"].read())["key"]
        == "sync.json"
    )


def test_event_invocation_is_accepted_then_runs(lam: Any, s3: Any, fn: str) -> None:
    bucket = f"async-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = with_handler(lam, fn, "handlers.to_s3", Timeout=30)
    out = lam.invoke(
        FunctionName=name,
        InvocationType="Event",
        Payload=json.dumps({"bucket": bucket, "key": "event.json"}).encode(),
    )
    assert out["StatusCode"] == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        if keys:
            break
        time.sleep(0.1)
    assert keys == ["event.json"]


def test_reserved_concurrency_of_zero_throttles(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.chatty")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    try:
        code, status, _ = error_of(lambda: lam.invoke(FunctionName=name, Payload=b"{}"))
        assert (code, status) == ("TooManyRequestsException", 429)
    finally:
        lam.delete_function_concurrency(FunctionName=name)
    assert lam.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_functions_cannot_read_the_platform_data_dir(lam: Any, fn: str, lm_server: Any) -> None:
    name = with_handler(lam, fn, "handlers.read_path")
    _, body = invoke(lam, name, {"path": str(lm_server.credentials_file)})
    assert "error" in body, body
    _, body = invoke(lam, name, {"path": str(lm_server.data_dir / "lambdamaker.db")})
    assert "error" in body, body


def test_the_log_says_which_host_interpreter_runs_the_function(
    lam: Any, fn: str, boto_client: Callable[..., Any]
) -> None:
    import platform

    invoke(lam, fn, {})
    logs = boto_client("logs")
    deadline = time.monotonic() + 10
    notes: list[str] = []
    while time.monotonic() < deadline and not notes:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{fn}")["events"]
        notes = [e["message"] for e in events if e["message"].startswith("[lambdamaker]")]
        time.sleep(0.1)
    assert notes, "no [lambdamaker] line in the log"
    assert f"python3.12 runs on the host's Python {platform.python_version()}" in notes[0]


def test_provisioned_concurrency_becomes_ready(lam: Any, fn: str) -> None:
    name = with_handler(lam, fn, "handlers.chatty")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2
    )
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
        status = got["Status"]
        if status == "READY":
            break
        time.sleep(0.2)
    assert status == "READY"
    assert got["AvailableProvisionedConcurrentExecutions"] == 2
    assert lam.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")["StatusCode"] == 200
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
