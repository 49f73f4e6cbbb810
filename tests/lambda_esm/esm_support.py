"""Helpers for the event source mapping tests: functions from zip bytes, queues, draining."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
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


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def create_function(lam: Any, code: str, prefix: str = "esm") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def create_queue(sqs: Any, name: str | None = None, **attributes: str) -> tuple[str, str]:
    """(url, arn) of a new queue."""
    name = name or f"q-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def source_with_sink(sqs: Any, fifo: bool = False, **attributes: str) -> tuple[str, str, str]:
    """(source url, source arn, sink url): the sink is where SINK_HANDLER reports events."""
    base = f"q-{uuid.uuid4().hex[:8]}"
    sink_url, _ = create_queue(sqs, base + "-sink")
    if fifo:
        attributes = {"FifoQueue": "true", **attributes}
    url, arn = create_queue(sqs, base + (".fifo" if fifo else ""), **attributes)
    return url, arn, sink_url


def drain(sqs: Any, url: str, until: int, timeout: float = 30) -> list[dict[str, Any]]:
    """Bodies (parsed JSON) received from ``url`` until ``until`` arrived or ``timeout``."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < until and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


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
