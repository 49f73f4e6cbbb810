"""Helpers for the S3 event notification tests: queues to receive on, and configurations."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


def new_queue(sqs: Any, prefix: str = "s3n") -> tuple[str, str]:
    """A fresh queue: (url, arn)."""
    url = sqs.create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive(sqs: Any, url: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Exactly ``count`` message bodies (parsed JSON), deleting them; fails on fewer in time."""
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < count and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(bodies) >= count, f"received {len(bodies)} of {count}: {bodies}"
    return bodies


def assert_empty(sqs: Any, url: str) -> None:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert got.get("Messages", []) == []


def rules(prefix: str | None = None, suffix: str | None = None) -> dict[str, Any]:
    found = []
    if prefix is not None:
        found.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        found.append({"Name": "suffix", "Value": suffix})
    return {"Key": {"FilterRules": found}}


def queue_config(
    arn: str, events: list[str], config_id: str = "to-queue", **filter_: str
) -> dict[str, Any]:
    item: dict[str, Any] = {"Id": config_id, "QueueArn": arn, "Events": events}
    if filter_:
        item["Filter"] = rules(filter_.get("prefix"), filter_.get("suffix"))
    return item


def only_records(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The event records of ``bodies`` (test events dropped), in receive order."""
    return [r for body in bodies if "Records" in body for r in body["Records"]]
