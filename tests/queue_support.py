"""SQS helpers the tests share: a fresh queue, and reading what a queue received."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


def create_queue(sqs: Any, name: str | None = None, **attributes: str) -> tuple[str, str]:
    """(url, arn) of a new queue (a unique name unless given)."""
    name = name or f"q-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def drain(sqs: Any, url: str, until: int, timeout: float = 90) -> list[dict[str, Any]]:
    """Bodies (parsed JSON) received and deleted from ``url`` until ``until`` arrived or
    ``timeout`` passed."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < until and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got
