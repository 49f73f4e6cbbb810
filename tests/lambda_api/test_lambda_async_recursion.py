"""Recursive loop detection through boto3: a function that invokes itself asynchronously
forever runs 16 times; the 17th event goes to its OnFailure destination."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import ROLE, make_zip

from lambdamaker.services.lambda_.lineage import MAX_CHAIN, function_hash, next_trace
from lambdamaker.testing import ServerProcess
from queue_support import create_queue, drain

LOOP = """
import json, os
import boto3

lam = boto3.client("lambda")
sqs = boto3.client("sqs")

def handler(event, context):
    sqs.send_message(
        QueueUrl=event["runs"],
        MessageBody=json.dumps({"n": event["n"], "trace": os.environ.get("_X_AMZN_TRACE_ID")}),
    )
    lam.invoke(
        FunctionName=context.function_name,
        InvocationType=event.get("type", "Event"),
        Payload=json.dumps({**event, "n": event["n"] + 1}),
    )
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("recursion") / "data").start()
    yield server
    server.stop()


def create(lam: Any, code: str) -> str:
    name = f"loop-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def test_a_function_invoking_itself_forever_stops_after_sixteen(server: ServerProcess) -> None:
    lam, sqs = server.client("lambda"), server.client("sqs")
    name = create(lam, LOOP)
    runs_url, _ = create_queue(sqs)
    stopped_url, stopped_arn = create_queue(sqs)
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": stopped_arn}},
    )
    lam.invoke(
        FunctionName=name,
        InvocationType="Event",
        Payload=json.dumps({"n": 1, "runs": runs_url}),
    )
    [record] = drain(sqs, stopped_url, 1)
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"]["n"] == MAX_CHAIN + 1

    runs = drain(sqs, runs_url, MAX_CHAIN, timeout=10)
    assert sorted(r["n"] for r in runs) == list(range(1, MAX_CHAIN + 1))
    roots = {r["trace"].split(";")[0] for r in runs}
    assert len(roots) == 1  # one chain, one X-Ray root
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    last = max(runs, key=lambda r: r["n"])
    assert f"Lineage={function_hash(arn)}:{MAX_CHAIN}" in last["trace"]
    assert drain(sqs, runs_url, 1, timeout=2) == []


def test_a_synchronous_invoke_deep_in_a_chain_is_refused(server: ServerProcess) -> None:
    lam = server.client("lambda")
    name = create(lam, "def handler(event, context):\n    return 1\n")
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    header: str | None = None
    for _ in range(MAX_CHAIN):
        header = next_trace(header, arn).header

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = header

    lam.meta.events.register("before-sign.lambda.Invoke", add_header)
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert exc.value.response["Error"]["Code"] == "RecursiveInvocationException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_lineage_counts_each_function_of_a_chain_apart() -> None:
    a, b = "arn:aws:lambda:us-east-1:000000000000:function:a", "arn:aws:lambda:x:1:function:b"
    first = next_trace(None, a)
    assert first.count == 1 and first.header.startswith("Root=1-")
    second = next_trace(first.header, b)
    third = next_trace(second.header, a)
    assert (second.count, third.count) == (1, 2)
    assert third.header.split(";")[0] == first.header.split(";")[0]
    assert next_trace("garbage", a).count == 1
    # botocore percent-encodes "|" when it sends the header back.
    assert next_trace(third.header.replace("|", "%7C"), b).count == 2


BOUNDED = LOOP.replace(
    "def handler(event, context):\n",
    "def handler(event, context):\n    if event['n'] > event['stop']:\n        return\n",
)


def test_recursion_config_allow_lets_a_chain_go_past_sixteen(server: ServerProcess) -> None:
    lam, sqs = server.client("lambda"), server.client("sqs")
    name = create(lam, BOUNDED)
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    out = lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    assert out["RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    runs_url, _ = create_queue(sqs)
    stop = MAX_CHAIN + 4
    lam.invoke(
        FunctionName=name,
        InvocationType="Event",
        Payload=json.dumps({"n": 1, "stop": stop, "runs": runs_url}),
    )
    runs = drain(sqs, runs_url, stop)
    assert sorted(r["n"] for r in runs) == list(range(1, stop + 1))


def test_recursion_config_is_checked(server: ServerProcess) -> None:
    lam = server.client("lambda")
    name = create(lam, "def handler(event, context):\n    return 1\n")
    for params in (
        {"FunctionName": f"{name}:$LATEST", "RecursiveLoop": "Allow"},  # the model's pattern
        {"FunctionName": name, "RecursiveLoop": "Sometimes"},  # the model's enum
    ):
        with pytest.raises(ClientError) as exc:
            lam.put_function_recursion_config(**params)
        assert exc.value.response["Error"]["Code"] == "ValidationException", params
    with pytest.raises(ClientError) as exc:
        lam.get_function_recursion_config(FunctionName="no-such-function")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
