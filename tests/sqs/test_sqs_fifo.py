"""FIFO queues: per-group order with groups blocked while a message is in flight, 5-minute
deduplication (explicit ids and content-based), and FIFO-only parameters refused elsewhere."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture()
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


def _fifo(sqs: Any, **attributes: str) -> str:
    url: str = sqs.create_queue(
        QueueName=f"f-{uuid.uuid4().hex[:12]}.fifo",
        Attributes={"FifoQueue": "true", **attributes},
    )["QueueUrl"]
    return url


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = exc.value.response["Error"]["Code"]
    return code


def test_group_is_delivered_in_order_one_in_flight_batch_at_a_time(sqs: Any) -> None:
    url = _fifo(sqs)
    for i in range(3):
        for group in ("a", "b"):
            sqs.send_message(
                QueueUrl=url,
                MessageBody=f"{group}{i}",
                MessageGroupId=group,
                MessageDeduplicationId=f"{group}{i}",
            )
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in first] == ["a0", "b0"]
    # Both groups have a message in flight: nothing else is delivered.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    rest = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in rest] == ["a1", "a2"]
    assert [m["Attributes"]["MessageGroupId"] for m in rest] == ["a", "a"]
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in rest]
    assert seqs == sorted(seqs)


def test_duplicate_sends_within_five_minutes_store_one_message(sqs: Any) -> None:
    url = _fifo(sqs)
    one = sqs.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d"
    )
    two = sqs.send_message(
        QueueUrl=url, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="d"
    )
    assert one["MessageId"] == two["MessageId"]
    assert one["SequenceNumber"] == two["SequenceNumber"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["x"]


def test_content_based_deduplication_uses_the_body(sqs: Any) -> None:
    url = _fifo(sqs, ContentBasedDeduplication="true")
    ids = {
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")["MessageId"]
        for body in ("same", "same", "other")
    }
    assert len(ids) == 2


def test_fifo_parameters_are_checked(sqs: Any) -> None:
    url = _fifo(sqs)
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert _code(exc) == "MissingParameter"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert _code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.send_message(
            QueueUrl=url,
            MessageBody="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
            DelaySeconds=5,
        )
    assert _code(exc) == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName="no-suffix", Attributes={"FifoQueue": "true"})
    assert _code(exc) == "InvalidParameterValue"


def test_fifo_batch_keeps_order_and_dedups(sqs: Any) -> None:
    url = _fifo(sqs)
    out = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {
                "Id": str(i),
                "MessageBody": f"m{i}",
                "MessageGroupId": "g",
                "MessageDeduplicationId": f"d{i % 3}",
            }
            for i in range(5)
        ],
    )
    assert len(out["Successful"]) == 5
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["m0", "m1", "m2"]
