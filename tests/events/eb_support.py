"""Helpers for the EventBridge delivery tests: queues, receiving, a recording function."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from typing import Any

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

RECORDER = """
import json, os, boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["OUT_QUEUE"], MessageBody=json.dumps(event))
"""


def new_queue(sqs: Any, fifo: bool = False) -> tuple[str, str]:
    name = f"eb-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive(sqs: Any, url: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Up to ``count`` messages (deleted once read), waiting at most ``timeout`` seconds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        got += batch
    return got


def bodies(messages: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(m["Body"]) for m in messages]


def rule_with_target(events: Any, target: dict[str, Any], bus: str = "default",
                     pattern: str | None = None) -> tuple[str, str]:  # fmt: skip
    """A new rule matching ``source: [<unique>]`` with ``target``; (rule name, source)."""
    source = f"test.{uuid.uuid4().hex[:10]}"
    name = f"r-{uuid.uuid4().hex[:10]}"
    events.put_rule(
        Name=name, EventBusName=bus, EventPattern=pattern or json.dumps({"source": [source]})
    )
    events.put_targets(Rule=name, EventBusName=bus, Targets=[target])
    return name, source


def put(events: Any, source: str, detail: dict[str, Any], bus: str = "default") -> str:
    out = events.put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": "Test",
                "Detail": json.dumps(detail),
                "EventBusName": bus,
            }
        ]
    )
    assert out["FailedEntryCount"] == 0, out
    event_id: str = out["Entries"][0]["EventId"]
    return event_id


class Call:
    """Calls a provider's operations in-process, after the model's checks (as the gateway
    does): ``Call(platform, "events")("PutRule", Name=...)``."""

    def __init__(self, platform: Any, service: str) -> None:
        from lambdamaker.gateway.protocol import ServiceProtocol

        self.platform = platform
        self.service = service
        self.protocol = ServiceProtocol.for_service(service)

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        from lambdamaker.services.base import RequestContext

        method = self.platform.providers[self.service].operation(operation)
        assert method is not None, operation
        self.protocol.validate(self.protocol.service_model.operation_model(operation), params)
        ctx = RequestContext(
            request_id=f"req-{operation}",
            service=self.service,
            operation=operation,
            region="us-east-1",
            account_id="000000000000",
            endpoint_url="http://127.0.0.1:1",
        )
        result = method(ctx, params)
        if inspect.iscoroutine(result):  # an operation the gateway awaits (ReceiveMessage)
            result = asyncio.run(result)
        out: dict[str, Any] = result
        return out
