"""Async invocation records to every kind of target through boto3: SNS topics as destinations
and dead-letter targets, EventBridge buses as destinations, and the ARN checks Lambda makes
when a destination or a dead-letter target is configured."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import ACCOUNT, REGION, ROLE, make_zip

from lambdamaker.services.events import EventsProvider
from lambdamaker.testing import ServerProcess
from queue_support import create_queue

FAIL = "def handler(event, context):\n    raise ValueError('boom')\n"
ECHO = "def handler(event, context):\n    return {'echo': event}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDAMAKER_ASYNC_RETRY_SCALE", "0.01")
        server = ServerProcess(tmp_path_factory.mktemp("targets") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return server.client("sqs")


@pytest.fixture(scope="module")
def sns(server: ServerProcess) -> Any:
    return server.client("sns")


def create(lam: Any, code: str, **params: Any) -> str:
    name = f"tgt-{uuid.uuid4().hex[:8]}"
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


def topic_into_queue(sns: Any, sqs: Any) -> tuple[str, str]:
    """A topic delivering raw messages to a new queue: (topic ARN, queue URL)."""
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    url, arn = create_queue(sqs)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return topic, url


def receive_one(sqs: Any, url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return dict(got[0])
    raise AssertionError("no message arrived")


def test_success_record_is_published_to_an_sns_destination(lam: Any, sqs: Any, sns: Any) -> None:
    topic, url = topic_into_queue(sns, sqs)
    name = create(lam, ECHO)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}}
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    record = json.loads(receive_one(sqs, url)["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"echo": {"n": 1}}


def test_failed_event_is_published_to_an_sns_dead_letter_topic(
    lam: Any, sqs: Any, sns: Any
) -> None:
    topic, url = topic_into_queue(sns, sqs)
    name = create(lam, FAIL, DeadLetterConfig={"TargetArn": topic})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 2}')
    message = receive_one(sqs, url)
    assert json.loads(message["Body"]) == {"n": 2}
    attributes = message["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == out["ResponseMetadata"]["RequestId"]
    assert attributes["ErrorMessage"]["StringValue"] == "boom"


@pytest.mark.skipif(
    not hasattr(EventsProvider, "put_from"), reason="EventBridge has no in-platform PutEvents yet"
)
def test_failure_record_is_put_on_an_eventbridge_bus(
    server: ServerProcess, lam: Any, sqs: Any
) -> None:
    events = server.client("events")
    url, queue_arn = create_queue(sqs)
    rule = f"r-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    bus = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    name = create(lam, FAIL)
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": bus}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 3}')
    event = json.loads(receive_one(sqs, url)["Body"])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert event["detail"]["requestContext"]["condition"] == "RetriesExhausted"
    assert event["detail"]["requestPayload"] == {"n": 3}
    function_arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert event["resources"] == [f"{function_arn}:$LATEST"]


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:some-queue",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:some-topic",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:some-fn",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:some-fn:live",
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
    ],
)
def test_every_destination_service_is_accepted(lam: Any, arn: str) -> None:
    name = create(lam, ECHO)
    out = lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    assert out["DestinationConfig"]["OnFailure"] == {"Destination": arn}


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn",
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:bad/name",
    ],
)
def test_dead_letter_target_must_be_a_queue_or_a_topic(lam: Any, arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        create(lam, ECHO, DeadLetterConfig={"TargetArn": arn})
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValueException"
    name = create(lam, ECHO)
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": arn})
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValueException"
    lam.update_function_configuration(
        FunctionName=name,
        DeadLetterConfig={"TargetArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"},
    )
