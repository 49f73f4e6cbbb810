"""provided.al2023 functions end to end through boto3: a curl shell bootstrap and the unmodified
awslambdaric as a Python bootstrap, created, invoked and failing through the Lambda API; and
concurrency throttling of a busy function with Lambda's Reason."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import ROLE, make_zip

CURL_BOOTSTRAP = """#!/bin/sh
# The loop of the AWS custom-runtime tutorial, with curl.
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "shell runtime got $EVENT"
  case "$EVENT" in
    *fail*) curl -sS -X POST "$API/invocation/$REQUEST_ID/error" \\
              -H "Lambda-Runtime-Function-Error-Type: Shell.Failure" \\
              -d '{"errorMessage":"asked to fail","errorType":"Shell.Failure"}' >/dev/null ;;
    *) curl -sS -X POST "$API/invocation/$REQUEST_ID/response" \\
         -d "{\\"echo\\": $EVENT, \\"function\\": \\"$AWS_LAMBDA_FUNCTION_NAME\\"}" >/dev/null ;;
  esac
done
"""

RIC_APP = """
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("ric failure")
    return {"echo": event, "function": context.function_name, "left": context.get_remaining_time_in_millis() > 0}
"""

SLOW_APP = """
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "done"
"""


@pytest.fixture(scope="module")
def lam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("lambda")


def create(
    lam: Any, runtime: str, files: dict[str, str], modes: dict[str, int], **extra: Any
) -> str:
    name = f"prov-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=extra.pop("Handler", "app.handler"),
        Code={"ZipFile": make_zip(files, modes)},
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def invoke(lam: Any, name: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
    return out, json.loads(out["Payload"].read())


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell bootstrap needs curl")
def test_curl_shell_bootstrap_runs_and_reports_errors(lam: Any) -> None:
    name = create(
        lam, "provided.al2023", {"bootstrap": CURL_BOOTSTRAP}, {"bootstrap": 0o755}, Handler="x"
    )
    out, body = invoke(lam, name, {"n": 1})
    assert out["StatusCode"] == 200 and "FunctionError" not in out
    assert body == {"echo": {"n": 1}, "function": name}
    assert "shell runtime got" in base64.b64decode(out["LogResult"]).decode()
    out, body = invoke(lam, name, {"fail": True})
    assert out["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "asked to fail", "errorType": "Shell.Failure"}


def test_unmodified_awslambdaric_bootstrap_runs_a_python_handler(lam: Any) -> None:
    pytest.importorskip("awslambdaric", reason="awslambdaric is in the [dev] extra")
    bootstrap = f'#!/bin/sh\nexec {sys.executable} -m awslambdaric "$_HANDLER"\n'
    name = create(
        lam,
        "provided.al2023",
        {"bootstrap": bootstrap, "app.py": RIC_APP},
        {"bootstrap": 0o755},
    )
    out, body = invoke(lam, name, {"n": 2})
    assert "FunctionError" not in out
    assert body == {"echo": {"n": 2}, "function": name, "left": True}
    out, body = invoke(lam, name, {"fail": True})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == "ric failure"


def test_busy_function_beyond_its_reservation_is_throttled_with_lambdas_reason(lam: Any) -> None:
    name = create(lam, "python3.12", {"app.py": SLOW_APP}, {}, Timeout=30)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lam.invoke(FunctionName=name, Payload=b"{}")  # warm, so the slow call starts at once
    started = threading.Event()
    results: list[str] = []

    def slow() -> None:
        started.set()
        out = lam.invoke(FunctionName=name, Payload=json.dumps({"sleep": 2}).encode())
        results.append(json.loads(out["Payload"].read()))

    worker = threading.Thread(target=slow)
    worker.start()
    started.wait()
    error: dict[str, Any] = {}
    # The slow call holds the only slot for 2 s; ask until it is taken (bounded by that call).
    while worker.is_alive() and not error:
        try:
            lam.invoke(FunctionName=name, Payload=b"{}")
        except ClientError as exc:
            error = exc.response
    worker.join(30)
    assert results == ["done"]
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


ISOLATION_BOOTSTRAP = """#!/bin/sh
# Reports who it runs as and what it can see, then writes its own mark in /tmp.
set -u
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  OTHERS=$(ls /tmp | grep -c '^mark-' || true)
  echo "$AWS_LAMBDA_FUNCTION_NAME" > "/tmp/mark-$AWS_LAMBDA_FUNCTION_NAME"
  if cat "$CREDENTIALS_FILE" >/dev/null 2>&1; then CREDS=readable; else CREDS=hidden; fi
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" \\
    -d "{\\"uid\\": $(id -u), \\"marks_before\\": $OTHERS, \\"credentials\\": \\"$CREDS\\"}" >/dev/null
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="the bootstrap needs curl")
def test_provided_functions_are_sandboxed_like_python_ones(lam: Any, lm_server: Any) -> None:
    if os.geteuid() != 0:
        pytest.skip(
            "the sandbox (uid per function, private /tmp) needs the platform to run as root"
        )
    env = {"Variables": {"CREDENTIALS_FILE": str(lm_server.credentials_file)}}
    files = {"bootstrap": ISOLATION_BOOTSTRAP}
    first = create(
        lam, "provided.al2023", files, {"bootstrap": 0o755}, Handler="x", Environment=env
    )
    second = create(
        lam, "provided.al2023", files, {"bootstrap": 0o755}, Handler="x", Environment=env
    )
    _, a = invoke(lam, first, {})
    _, b = invoke(lam, second, {})
    assert a["uid"] != 0 and b["uid"] != 0 and a["uid"] != b["uid"]
    # Each function's /tmp is its own: the second sees no mark written by the first.
    assert (a["marks_before"], b["marks_before"]) == (0, 0)
    assert a["credentials"] == b["credentials"] == "hidden"
    _, again = invoke(lam, first, {})
    assert again["marks_before"] == 1  # its own mark, from the previous invocation
