"""Dead-letter queues through boto3: redrive after maxReceiveCount, the source-queue listing,
and message move tasks back to the source (or to another queue)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture()
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


def _arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn


def _pair(sqs: Any, max_receives: int = 2) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:10]
    dlq = sqs.create_queue(QueueName=f"dlq-{tag}")["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": _arn(sqs, dlq), "maxReceiveCount": max_receives})
    src = sqs.create_queue(QueueName=f"src-{tag}", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return src, dlq


def _fail_until_dead(sqs: Any, src: str, receives: int) -> None:
    # VisibilityTimeout=0 gives the message back at once: a failed processing attempt.
    for _ in range(receives):
        assert len(sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)["Messages"]) == 1
    assert "Messages" not in sqs.receive_message(QueueUrl=src)


def test_message_is_dead_lettered_after_max_receives(sqs: Any) -> None:
    src, dlq = _pair(sqs, max_receives=3)
    sent = sqs.send_message(QueueUrl=src, MessageBody="poison")
    _fail_until_dead(sqs, src, 3)
    [dead] = sqs.receive_message(QueueUrl=dlq, MessageSystemAttributeNames=["All"])["Messages"]
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == _arn(sqs, src)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]


def test_move_task_returns_dead_letters_to_their_source(sqs: Any) -> None:
    src, dlq = _pair(sqs)
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=src, MessageBody=body)
    for _ in range(2):
        got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        assert len(got["Messages"]) == 2
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    handle = sqs.start_message_move_task(SourceArn=_arn(sqs, dlq))["TaskHandle"]
    [task] = sqs.list_message_move_tasks(SourceArn=_arn(sqs, dlq))["Results"]
    assert task["Status"] == "COMPLETED"
    assert task["ApproximateNumberOfMessagesMoved"] == 2
    back = sqs.receive_message(
        QueueUrl=src, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert sorted(m["Body"] for m in back) == ["a", "b"]
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in back)
    with pytest.raises(ClientError) as exc:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_move_task_to_an_explicit_destination(sqs: Any) -> None:
    src, dlq = _pair(sqs, max_receives=1)
    other = sqs.create_queue(QueueName=f"other-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    sqs.send_message(QueueUrl=src, MessageBody="x")
    _fail_until_dead(sqs, src, 1)
    sqs.start_message_move_task(SourceArn=_arn(sqs, dlq), DestinationArn=_arn(sqs, other))
    assert sqs.receive_message(QueueUrl=other)["Messages"][0]["Body"] == "x"


def test_move_task_needs_a_dead_letter_queue_that_exists(sqs: Any) -> None:
    plain = sqs.create_queue(QueueName=f"plain-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    with pytest.raises(ClientError) as exc:
        sqs.start_message_move_task(SourceArn=_arn(sqs, plain))
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValue"
    with pytest.raises(ClientError) as exc:
        sqs.start_message_move_task(SourceArn="arn:aws:sqs:us-east-1:000000000000:missing")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
