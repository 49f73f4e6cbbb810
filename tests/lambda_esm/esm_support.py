"""Helpers for the event source mapping tests: functions from zip bytes, queues, draining."""

from __future__ import annotations

from function_support import create_function as new_function
from queue_support import create_queue, drain

__all__ = ["create_queue", "drain"]

import time
import uuid
from collections.abc import Callable
from typing import Any

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

SINK_HANDLER = """
import json
import boto3

sqs = boto3.client("sqs")
_sinks = {}


def _sink(source_arn):
    name = source_arn.split(":")[-1].replace(".fifo", "") + "-sink"
    if name not in _sinks:
        _sinks[name] = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return _sinks[name]


def handler(event, context):
    records = event["Records"]
    sqs.send_message(QueueUrl=_sink(records[0]["eventSourceARN"]), MessageBody=json.dumps(event))
    bodies = [r["body"] for r in records]
    if any("raise" in b for b in bodies):
        raise RuntimeError("asked to fail")
    if any("invalid" in b for b in bodies):
        return {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}
    return {
        "batchItemFailures": [
            {"itemIdentifier": r["messageId"]} for r in records if "bad" in r["body"]
        ]
    }
"""

LOOP_HANDLER = """
import json
import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    record = event["Records"][0]
    name = record["eventSourceARN"].split(":")[-1]
    own = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sink = sqs.get_queue_url(QueueName=name + "-sink")["QueueUrl"]
    sqs.send_message(QueueUrl=sink, MessageBody=json.dumps(event))
    sqs.send_message(QueueUrl=own, MessageBody=record["body"])
"""


def create_function(lam: Any, code: str, prefix: str = "esm") -> str:
    """A new function running ``code``; its name."""
    return new_function(lam, code, prefix, Timeout=30).rsplit(":", 1)[1]


def source_with_sink(sqs: Any, fifo: bool = False, **attributes: str) -> tuple[str, str, str]:
    """(source url, source arn, sink url): the sink is where SINK_HANDLER reports events."""
    base = f"q-{uuid.uuid4().hex[:8]}"
    sink_url, _ = create_queue(sqs, base + "-sink")
    if fifo:
        attributes = {"FifoQueue": "true", **attributes}
    url, arn = create_queue(sqs, base + (".fifo" if fifo else ""), **attributes)
    return url, arn, sink_url


def wait_for(check: Callable[[], Any], timeout: float = 30, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) message counts."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
    )


def mapped(lam: Any, function: str, source_arn: str, **settings: Any) -> str:
    """Create a mapping and wait until it is Enabled (or Disabled); returns its UUID."""
    out = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=source_arn, **settings
    )
    wait_for(
        lambda: lam.get_event_source_mapping(UUID=out["UUID"])["State"] in ("Enabled", "Disabled")
    )
    return str(out["UUID"])
