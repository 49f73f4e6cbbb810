"""SQS messages through boto3: send (single and batch), MD5s, receive with attributes, delete,
visibility changes, long polling woken by a send, and bad input."""

from __future__ import annotations

import hashlib
import struct
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture()
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


@pytest.fixture()
def queue(sqs: Any) -> str:
    url: str = sqs.create_queue(QueueName=f"m-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return url


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = exc.value.response["Error"]["Code"]
    return code


def _expected_attributes_md5(attributes: dict[str, dict[str, Any]]) -> str:
    """The digest as the SQS developer guide specifies it, written independently of ours."""
    buf = b""
    for name in sorted(attributes):
        attr = attributes[name]
        data_type = attr["DataType"].encode()
        buf += struct.pack("!I", len(name.encode())) + name.encode()
        buf += struct.pack("!I", len(data_type)) + data_type
        if "BinaryValue" in attr:
            value = attr["BinaryValue"]
            buf += b"\x02" + struct.pack("!I", len(value)) + value
        else:
            value = attr["StringValue"].encode()
            buf += b"\x01" + struct.pack("!I", len(value)) + value
    return hashlib.md5(buf).hexdigest()


ATTRS: dict[str, dict[str, Any]] = {
    "colour": {"DataType": "String", "StringValue": "blue"},
    "count": {"DataType": "Number", "StringValue": "42"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    "custom": {"DataType": "String.custom", "StringValue": "ünïcode"},
}


def test_send_returns_the_md5s_aws_documents(sqs: Any, queue: str) -> None:
    body = "hello ✓"
    out = sqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=ATTRS)
    assert out["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert out["MD5OfMessageAttributes"] == _expected_attributes_md5(ATTRS)
    uuid.UUID(out["MessageId"])


def test_received_message_carries_body_attributes_and_system_attributes(
    sqs: Any, queue: str
) -> None:
    before = int(time.time() * 1000)
    sent = sqs.send_message(QueueUrl=queue, MessageBody="payload", MessageAttributes=ATTRS)
    out = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )
    [msg] = out["Messages"]
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["Body"] == "payload"
    assert msg["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert msg["MessageAttributes"] == ATTRS
    assert msg["MD5OfMessageAttributes"] == _expected_attributes_md5(ATTRS)
    assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(msg["Attributes"]["SentTimestamp"]) >= before - 1000
    assert int(msg["Attributes"]["ApproximateFirstReceiveTimestamp"]) >= int(
        msg["Attributes"]["SentTimestamp"]
    )
    assert msg["Attributes"]["SenderId"]


def test_message_attribute_names_filter_by_name_and_prefix(sqs: Any, queue: str) -> None:
    attrs: dict[str, dict[str, Any]] = {
        **ATTRS,
        "meta.a": {"DataType": "String", "StringValue": "1"},
        "meta.b": {"DataType": "String", "StringValue": "2"},
        "metadata": {"DataType": "String", "StringValue": "3"},
    }
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attrs)
    msg = sqs.receive_message(
        QueueUrl=queue, MessageAttributeNames=["colour", "meta.*"], VisibilityTimeout=0
    )["Messages"][0]
    wanted = {k: attrs[k] for k in ("colour", "meta.a", "meta.b")}
    assert msg["MessageAttributes"] == wanted
    assert msg["MD5OfMessageAttributes"] == _expected_attributes_md5(wanted)
    bare = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    assert "MessageAttributes" not in bare and "Attributes" not in bare


def test_received_message_is_hidden_until_deleted(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="once")
    [msg] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_change_visibility_to_zero_makes_it_receivable_again(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="again")
    first = sqs.receive_message(QueueUrl=queue)["Messages"][0]
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    second = sqs.receive_message(
        QueueUrl=queue, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )
    [msg] = second["Messages"]
    assert msg["MessageId"] == first["MessageId"]
    assert msg["Attributes"] == {"ApproximateReceiveCount": "2"}
    # The first receipt is stale now: deleting with it succeeds and deletes nothing.
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])
    with pytest.raises(ClientError) as exc:
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
        )
    assert _code(exc) == "InvalidParameterValue"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])


def test_batches_send_receive_change_and_delete(sqs: Any, queue: str) -> None:
    entries = [{"Id": f"e{i}", "MessageBody": f"body {i}"} for i in range(10)]
    sent = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert sorted(e["Id"] for e in sent["Successful"]) == sorted(e["Id"] for e in entries)
    assert sent["Failed"] == []
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == sorted(e["MessageBody"] for e in entries)
    changed = sqs.change_message_visibility_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "a", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "b", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 60},
        ],
    )
    assert [e["Id"] for e in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Id"] == "b" and changed["Failed"][0]["SenderFault"]
    deleted = sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
    )
    assert len(deleted["Successful"]) == 10
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_batch_reports_bad_entries_and_commits_the_good_ones(sqs: Any, queue: str) -> None:
    out = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "good", "MessageBody": "fine"},
            {"Id": "bad", "MessageBody": "nul \x00 char"},
        ],
    )
    assert [e["Id"] for e in out["Successful"]] == ["good"]
    assert out["Failed"][0]["Id"] == "bad"
    assert out["Failed"][0]["Code"] == "InvalidMessageContents" or out["Failed"][0]["Code"]
    [msg] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert msg["Body"] == "fine"


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            [{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        (
            [{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        ([{"Id": "bad id!", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        (
            [{"Id": f"e{i}", "MessageBody": "x" * 100_000} for i in range(3)],
            "AWS.SimpleQueueService.BatchRequestTooLong",
        ),
    ],
)
def test_malformed_batches_are_refused_whole(
    sqs: Any, queue: str, entries: list[dict[str, Any]], code: str
) -> None:
    with pytest.raises(ClientError) as exc:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert _code(exc) == code
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_oversized_and_invalid_messages_are_refused(sqs: Any, queue: str) -> None:
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=queue, MessageBody="x" * 262_145)
    assert _code(exc) == "InvalidParameterValue"
    sqs.send_message(QueueUrl=queue, MessageBody="x" * 262_144)
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=queue, MessageBody="bell \x07")
    assert _code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(
            QueueUrl=queue,
            MessageBody="x",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "twelve"}},
        )
    assert _code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=queue, MessageBody="x", MessageDeduplicationId="d")
    assert _code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=11)
    assert _code(exc) == "InvalidParameterValue"


def test_long_poll_returns_when_a_message_is_sent(sqs: Any, queue: str) -> None:
    results: list[dict[str, Any]] = []
    poller = threading.Thread(
        target=lambda: results.append(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20))
    )
    started = time.monotonic()
    poller.start()
    # Give the poll a moment to park; correctness does not depend on it (a send before the
    # poll starts is found by its first look).
    time.sleep(0.3)
    sqs.send_message(QueueUrl=queue, MessageBody="wake up")
    poller.join(timeout=30)
    assert results[0]["Messages"][0]["Body"] == "wake up"
    assert time.monotonic() - started < 10


def test_long_poll_with_nothing_to_receive_returns_empty_after_the_wait(
    sqs: Any, queue: str
) -> None:
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
    assert time.monotonic() - started >= 0.9


def test_deprecated_attribute_names_accept_message_system_attributes(sqs: Any, queue: str) -> None:
    # Older boto3 code asks for message system attributes through AttributeNames, whose model
    # enum lists only queue attributes; SQS answers them (the protocol layer checks no enums).
    sqs.send_message(QueueUrl=queue, MessageBody="old style")
    out = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])
    assert out["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "1"


def test_unknown_queue_attribute_name_is_invalid_attribute_name(sqs: Any, queue: str) -> None:
    with pytest.raises(ClientError) as exc:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["NoSuchAttribute"])
    assert _code(exc) == "InvalidAttributeName"
