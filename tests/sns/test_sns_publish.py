"""Publish and PublishBatch over HTTP with boto3: validation as SNS does it, MessageIds and
FIFO sequence numbers, and the durable record of accepted messages across ``kill -9``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess


@pytest.fixture(scope="module")
def sns(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sns")


@pytest.fixture()
def topic(sns: Any) -> str:
    arn: str = sns.create_topic(Name=f"pub-{uuid.uuid4().hex[:12]}")["TopicArn"]
    return arn


@pytest.fixture()
def fifo_topic(sns: Any) -> str:
    arn: str = sns.create_topic(
        Name=f"pub-{uuid.uuid4().hex[:12]}.fifo", Attributes={"FifoTopic": "true"}
    )["TopicArn"]
    return arn


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_publish_returns_a_message_id(sns: Any, topic: str) -> None:
    out = sns.publish(
        TopicArn=topic,
        Message="hello",
        Subject="Greeting",
        MessageAttributes={
            "store": {"DataType": "String", "StringValue": "example_corp"},
            "price": {"DataType": "Number", "StringValue": "10.5"},
            "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    uuid.UUID(out["MessageId"])
    assert "SequenceNumber" not in out
    target = sns.publish(
        TargetArn=topic, Message=json.dumps({"default": "x"}), MessageStructure="json"
    )
    assert target["MessageId"] != out["MessageId"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"Message": ""}, ("InvalidParameter", "Invalid parameter: Empty message")),
        ({"Message": "x" * 262_145}, ("InvalidParameter", "Invalid parameter: Message too long")),
        ({"Message": "x", "Subject": "a\nb"}, ("InvalidParameter", "Invalid parameter: Subject")),
        (
            {"Message": "not json", "MessageStructure": "json"},
            (
                "InvalidParameter",
                "Invalid parameter: Message Structure - JSON message body failed to parse",
            ),
        ),
        (
            {"Message": '{"sqs": "x"}', "MessageStructure": "json"},
            (
                "InvalidParameter",
                "Invalid parameter: Message Structure - No default entry in JSON message body",
            ),
        ),
        (
            {"Message": "x", "MessageAttributes": {"a": {"DataType": "Int", "StringValue": "1"}}},
            (
                "ParameterValueInvalid",
                "The message attribute 'a' has an invalid message attribute type, the set of "
                "supported type prefixes is Binary, Number, and String.",
            ),
        ),
        (
            {
                "Message": "x",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "abc"}},
            },
            ("ParameterValueInvalid", "Could not cast message attribute 'n' value to number."),
        ),
        (
            {"Message": "x", "MessageDeduplicationId": "d"},
            (
                "InvalidParameter",
                "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                "MessageDeduplicationId parameter that is not valid for this topic type",
            ),
        ),
    ],
)
def test_bad_publishes_are_refused(
    sns: Any, topic: str, kwargs: dict[str, Any], expected: tuple[str, str]
) -> None:
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=topic, **kwargs)
    code, status, message = error_of(exc)
    assert (code, message) == expected
    assert status == 400


def test_publish_to_a_missing_topic_is_not_found(sns: Any, topic: str) -> None:
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=topic + "-gone", Message="x")
    assert error_of(exc) == ("NotFound", 404, "Topic does not exist")
    with pytest.raises(ClientError) as exc:
        sns.publish(Message="x")
    assert error_of(exc)[0] == "InvalidParameter"


def test_fifo_publishes_need_a_group_and_a_deduplication_id(sns: Any, fifo_topic: str) -> None:
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=fifo_topic, Message="x", MessageDeduplicationId="d")
    assert "MessageGroupId parameter is required" in error_of(exc)[2]
    with pytest.raises(ClientError) as exc:
        sns.publish(TopicArn=fifo_topic, Message="x", MessageGroupId="g")
    assert "ContentBasedDeduplication" in error_of(exc)[2]
    first = sns.publish(
        TopicArn=fifo_topic, Message="x", MessageGroupId="g", MessageDeduplicationId="1"
    )
    second = sns.publish(
        TopicArn=fifo_topic, Message="y", MessageGroupId="g", MessageDeduplicationId="2"
    )
    assert len(first["SequenceNumber"]) == 20
    assert int(second["SequenceNumber"]) > int(first["SequenceNumber"])
    sns.set_topic_attributes(
        TopicArn=fifo_topic, AttributeName="ContentBasedDeduplication", AttributeValue="true"
    )
    sns.publish(TopicArn=fifo_topic, Message="z", MessageGroupId="g")


def test_publish_batch_reports_each_entry(sns: Any, topic: str) -> None:
    out = sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "ok-1", "Message": "one"},
            {"Id": "bad", "Message": ""},
            {"Id": "ok_2", "Message": "two"},
        ],
    )
    assert [s["Id"] for s in out["Successful"]] == ["ok-1", "ok_2"]
    assert out["Failed"] == [
        {
            "Id": "bad",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Empty message",
            "SenderFault": True,
        }
    ]


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "EmptyBatchRequest"),
        ([{"Id": str(i), "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}], "BatchEntryIdsNotDistinct"),
        ([{"Id": "no spaces", "Message": "m"}], "InvalidBatchEntryId"),
        (
            [{"Id": str(i), "Message": "x" * 100_000} for i in range(3)],
            "BatchRequestTooLong",
        ),
    ],
)
def test_bad_batches_are_refused_whole(
    sns: Any, topic: str, entries: list[dict[str, str]], code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert error_of(exc)[:2] == (code, 400)


def test_accepted_messages_and_subscriptions_survive_a_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        sns = server.client("sns")
        arn = sns.create_topic(Name="crash")["TopicArn"]
        account, region = arn.split(":")[4], arn.split(":")[3]
        queue = f"arn:aws:sqs:{region}:{account}:q"
        policy = json.dumps({"kind": ["a"]})
        sub = sns.subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"FilterPolicy": policy}
        )["SubscriptionArn"]
        ids = [sns.publish(TopicArn=arn, Message=f"m{i}")["MessageId"] for i in range(5)]
        server.kill()
        server.start()
        sns = server.client("sns")
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        assert attrs["FilterPolicy"] == policy
        assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]
    finally:
        server.stop()
    store = Store(f"sqlite:///{tmp_path / 'data' / 'lambdamaker.db'}")
    try:
        with store.read() as conn:
            rows = conn.execute(
                sa.text("SELECT message_id, message FROM sns_messages ORDER BY seq")
            ).all()
    finally:
        store.close()
    assert [(r.message_id, r.message) for r in rows] == [(m, f"m{i}") for i, m in enumerate(ids)]
