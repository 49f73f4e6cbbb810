"""Async invocation outcomes through boto3: retries of function errors, event-age expiry, and
the records sent to OnSuccess/OnFailure destinations (SQS, Lambda) and dead-letter queues.

The server runs with ``LAMBDAMAKER_ASYNC_RETRY_SCALE=0.01``: retries come after 0.6 s and
1.2 s instead of 1 and 2 minutes, and a 60-second maximum event age lasts 0.6 s.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from lambda_support import ROLE, make_zip

from lambdamaker.testing import ServerProcess
from queue_support import create_queue

FAIL = """
def handler(event, context):
    raise ValueError("boom " + str(event.get("n")))
"""
ECHO = """
def handler(event, context):
    return {"echo": event}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDAMAKER_ASYNC_RETRY_SCALE", "0.01")
        server = ServerProcess(tmp_path_factory.mktemp("async") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


def create(lam: Any, code: str, **params: Any) -> str:
    name = f"async-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        **params,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def receive_one(sqs: Any, url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if got:
            assert len(got) == 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return dict(got[0])
    raise AssertionError("no message arrived")


def invoke_event(lam: Any, name: str, payload: dict[str, Any]) -> str:
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload))
    assert out["StatusCode"] == 202
    return str(out["ResponseMetadata"]["RequestId"])


def on(kind: str, arn: str) -> dict[str, Any]:
    return {kind: {"Destination": arn}}


def test_failing_function_is_retried_twice_then_its_record_goes_to_on_failure(
    lam: Any, sqs: Any
) -> None:
    name = create(lam, FAIL)
    url, arn = create_queue(sqs)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig=on("OnFailure", arn))
    request_id = invoke_event(lam, name, {"n": 1})
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        + ":$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "boom 1"
    assert record["responsePayload"]["errorType"] == "ValueError"


def test_no_retries_with_maximum_retry_attempts_zero(lam: Any, sqs: Any) -> None:
    name = create(lam, FAIL)
    url, arn = create_queue(sqs)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0, DestinationConfig=on("OnFailure", arn)
    )
    invoke_event(lam, name, {"n": 2})
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["condition"] == "RetriesExhausted"


def test_success_goes_to_on_success_with_the_response(lam: Any, sqs: Any) -> None:
    name = create(lam, ECHO)
    url, arn = create_queue(sqs)
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig=on("OnSuccess", arn))
    invoke_event(lam, name, {"n": 3})
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": {"n": 3}}


def test_event_older_than_its_maximum_age_goes_to_on_failure(lam: Any, sqs: Any) -> None:
    name = create(lam, ECHO)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    url, arn = create_queue(sqs)
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=60, DestinationConfig=on("OnFailure", arn)
    )
    invoke_event(lam, name, {"n": 4})  # throttled until it is too old (0.6 s here)
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"n": 4}
    assert "responseContext" not in record


def test_failure_without_on_failure_goes_to_the_dead_letter_queue(lam: Any, sqs: Any) -> None:
    url, arn = create_queue(sqs)
    name = create(lam, FAIL, DeadLetterConfig={"TargetArn": arn})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    request_id = invoke_event(lam, name, {"n": 5})
    message = receive_one(sqs, url)
    assert json.loads(message["Body"]) == {"n": 5}
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == request_id
    assert attributes["ErrorCode"]["DataType"] == "Number"
    assert attributes["ErrorMessage"]["StringValue"] == "boom 5"


def test_a_lambda_destination_receives_the_record_as_an_event(lam: Any, sqs: Any) -> None:
    url, arn = create_queue(sqs)
    downstream = create(lam, ECHO)
    lam.put_function_event_invoke_config(
        FunctionName=downstream, DestinationConfig=on("OnSuccess", arn)
    )
    downstream_arn = lam.get_function(FunctionName=downstream)["Configuration"]["FunctionArn"]
    upstream = create(lam, FAIL)
    lam.put_function_event_invoke_config(
        FunctionName=upstream,
        MaximumRetryAttempts=0,
        DestinationConfig=on("OnFailure", downstream_arn),
    )
    request_id = invoke_event(lam, upstream, {"n": 6})
    record = json.loads(receive_one(sqs, url)["Body"])
    forwarded = record["requestPayload"]
    assert forwarded["requestContext"]["requestId"] == request_id
    assert forwarded["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"] == {"echo": forwarded}
