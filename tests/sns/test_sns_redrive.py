"""Subscription dead-letter queues (RedrivePolicy) and durable retries, through boto3.

The retry tests run their own server with ``LAMBDAMAKER_SNS_RETRY_SCALE`` (delays scaled down:
http's 3 retries 20 s apart become 0.2 s apart at 0.01), so nothing waits on AWS's clock.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError
from sns_support import (
    confirmed_http_subscription,
    http_endpoint,
    new_queue,
    receive,
    verify_sns_message,
)

from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess, zip_source

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def sns(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sns")


@pytest.fixture(scope="module")
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


@pytest.fixture(scope="module")
def fast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDAMAKER_SNS_RETRY_SCALE", "0.01")
        server = ServerProcess(tmp_path_factory.mktemp("sns-fast") / "data").start()
    try:
        yield server
    finally:
        server.stop()


def redrive(dlq_arn: str) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn})


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


# --- the attribute ------------------------------------------------------------------------------


def test_redrive_policy_is_set_shown_and_removed(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"rp-{uuid.uuid4().hex[:12]}")["TopicArn"]
    _, arn = new_queue(sqs)
    _, dlq = new_queue(sqs, prefix="dlq")
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RedrivePolicy": redrive(dlq)},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": dlq}
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=""
    )
    assert "RedrivePolicy" not in sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("{not json", "RedrivePolicy: failed to parse JSON."),
        (
            '{"deadLetterTargetArn": "queue-name"}',
            "RedrivePolicy: deadLetterTargetArn is an invalid arn",
        ),
        ("{}", "RedrivePolicy: deadLetterTargetArn is an invalid arn"),
        ("[1]", "RedrivePolicy: deadLetterTargetArn is an invalid arn"),
    ],
)
def test_invalid_redrive_policies_are_refused(sns: Any, sqs: Any, value: str, reason: str) -> None:
    topic = sns.create_topic(Name=f"rpbad-{uuid.uuid4().hex[:12]}")["TopicArn"]
    _, arn = new_queue(sqs)
    with pytest.raises(ClientError) as exc:
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RedrivePolicy": value}
        )
    assert error_of(exc) == (
        "InvalidParameter",
        400,
        f"Invalid parameter: Attributes Reason: {reason}",
    )
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    with pytest.raises(ClientError) as exc:
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=value
        )
    assert error_of(exc) == ("InvalidParameter", 400, f"Invalid parameter: {reason}")


# --- dead-lettering -----------------------------------------------------------------------------


def test_a_deleted_queue_sends_the_message_straight_to_the_dlq(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"gone-{uuid.uuid4().hex[:12]}")["TopicArn"]
    url, arn = new_queue(sqs)
    dlq_url, dlq_arn = new_queue(sqs, prefix="dlq")
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RedrivePolicy": redrive(dlq_arn)},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    sqs.delete_queue(QueueUrl=url)
    message_id = sns.publish(
        TopicArn=topic,
        Message="nowhere to go",
        Subject="Lost",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )["MessageId"]
    [m] = receive(sqs, dlq_url, 1)
    envelope = json.loads(m["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == "Lost"
    assert envelope["Message"] == "nowhere to go"
    assert envelope["UnsubscribeURL"].endswith(f"SubscriptionArn={sub}")
    assert envelope["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    verify_sns_message(envelope)


def test_a_raw_subscription_dead_letters_the_raw_message(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"goneraw-{uuid.uuid4().hex[:12]}")["TopicArn"]
    url, arn = new_queue(sqs)
    dlq_url, dlq_arn = new_queue(sqs, prefix="dlq")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RedrivePolicy": redrive(dlq_arn), "RawMessageDelivery": "true"},
    )
    sqs.delete_queue(QueueUrl=url)
    sns.publish(
        TopicArn=topic,
        Message="raw and lost",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    [m] = receive(sqs, dlq_url, 1)
    assert m["Body"] == "raw and lost"
    assert m["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}


def test_other_subscribers_are_served_while_one_dead_letters(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"mixed-{uuid.uuid4().hex[:12]}")["TopicArn"]
    gone_url, gone_arn = new_queue(sqs)
    ok_url, ok_arn = new_queue(sqs)
    dlq_url, dlq_arn = new_queue(sqs, prefix="dlq")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=gone_arn,
        Attributes={"RedrivePolicy": redrive(dlq_arn), "RawMessageDelivery": "true"},
    )
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=ok_arn, Attributes={"RawMessageDelivery": "true"}
    )
    sqs.delete_queue(QueueUrl=gone_url)
    sns.publish(TopicArn=topic, Message="both ways")
    assert [m["Body"] for m in receive(sqs, ok_url, 1)] == ["both ways"]
    assert [m["Body"] for m in receive(sqs, dlq_url, 1)] == ["both ways"]
    assert not receive(sqs, ok_url, 1, timeout=1)


def test_a_deleted_function_sends_the_message_to_the_dlq(
    sns: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    lam = boto_client("lambda")
    name = f"gone-fn-{uuid.uuid4().hex[:8]}"
    fn_arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(event, context):\n    return None\n")},
    )["FunctionArn"]
    topic = sns.create_topic(Name=f"gonefn-{uuid.uuid4().hex[:12]}")["TopicArn"]
    dlq_url, dlq_arn = new_queue(sqs, prefix="dlq")
    sns.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=fn_arn,
        Attributes={"RedrivePolicy": redrive(dlq_arn)},
    )
    lam.delete_function(FunctionName=name)
    message_id = sns.publish(TopicArn=topic, Message="for a function no more")["MessageId"]
    [m] = receive(sqs, dlq_url, 1)
    envelope = json.loads(m["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["Message"] == "for a function no more"
    verify_sns_message(envelope)


def test_exhausted_http_retries_go_to_the_dlq(fast_server: ServerProcess) -> None:
    sns, sqs = fast_server.client("sns"), fast_server.client("sqs")
    topic = sns.create_topic(Name="web-dlq")["TopicArn"]
    dlq_url, dlq_arn = new_queue(sqs, prefix="dlq")
    with http_endpoint() as endpoint:
        sub = confirmed_http_subscription(sns, topic, endpoint)
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="RedrivePolicy", AttributeValue=redrive(dlq_arn)
        )
        endpoint.failing = True
        message_id = sns.publish(TopicArn=topic, Message="refused four times")["MessageId"]
        [m] = receive(sqs, dlq_url, 1)
        # the first try and SNS's 3 retries, all refused, before the message was dead-lettered
        posts = endpoint.posts("Notification")
        assert len(posts) == 4
        assert {json.loads(body)["MessageId"] for _, body in posts} == {message_id}
    envelope = json.loads(m["Body"])
    assert envelope["MessageId"] == message_id
    assert envelope["Message"] == "refused four times"
    verify_sns_message(envelope)


def test_exhausted_http_retries_without_a_dlq_are_dropped(fast_server: ServerProcess) -> None:
    sns = fast_server.client("sns")
    topic = sns.create_topic(Name="web-drop")["TopicArn"]
    with http_endpoint() as endpoint:
        confirmed_http_subscription(sns, topic, endpoint)
        endpoint.failing = True
        sns.publish(TopicArn=topic, Message="dropped")
        assert len(endpoint.wait_for("Notification", 4)) == 4
        store = Store(f"sqlite:///{fast_server.data_dir / 'lambdamaker.db'}")
        try:
            assert wait_until(lambda: pending_rows(store) == [])
        finally:
            store.close()
        assert len(endpoint.posts("Notification")) == 4


# --- durable retries ----------------------------------------------------------------------------


def pending_rows(store: Store) -> list[tuple[str, int]]:
    with store.read() as conn:
        rows = conn.execute(sa.text("SELECT subscription_arn, attempts FROM sns_deliveries"))
        return [(r[0], int(r[1])) for r in rows]


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


@pytest.mark.slow
def test_a_restart_resumes_a_failing_http_delivery_where_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.25: http's retries come 5 s apart, long enough to kill the server between two of them.
    monkeypatch.setenv("LAMBDAMAKER_SNS_RETRY_SCALE", "0.25")
    server = ServerProcess(tmp_path / "data")
    store = Store(f"sqlite:///{tmp_path / 'data' / 'lambdamaker.db'}")
    with http_endpoint() as endpoint:
        try:
            server.start()
            sns = server.client("sns")
            topic = sns.create_topic(Name="web-restart")["TopicArn"]
            sub = confirmed_http_subscription(sns, topic, endpoint)
            endpoint.failing = True
            message_id = sns.publish(TopicArn=topic, Message="survives a crash")["MessageId"]
            # the first try and one retry fail, and the second failure is on record
            assert wait_until(lambda: pending_rows(store) == [(sub, 2)])
            server.kill()
            assert len(endpoint.posts("Notification")) == 2
            assert pending_rows(store) == [(sub, 2)]

            endpoint.failing = False
            server.start()
            posts = endpoint.wait_for("Notification", 3)
            assert len(posts) == 3
            assert {json.loads(body)["MessageId"] for _, body in posts} == {message_id}
            assert wait_until(lambda: pending_rows(store) == [])
            assert len(endpoint.posts("Notification")) == 3
        finally:
            server.stop()
            store.close()
