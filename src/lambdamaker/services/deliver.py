"""Deliveries between services inside one transaction: ``deliver(platform, conn, arn, body)``.

S3 notifications, SNS subscriptions, EventBridge targets and schedules, and Lambda destinations
all end the same way: a payload is handed to a queue, a topic, a function or an event bus named
by an ARN. This module is that one step, chosen by the ARN's service:

- ``sqs``: a message on the queue (``SqsProvider.enqueue``), with message attributes and, for
  FIFO queues, the group and deduplication ids;
- ``sns``: a published message on the topic, fanned out by SNS's dispatcher;
- ``lambda``: an Event invocation of the function, version or alias (``enqueue_from``);
- ``events``: an event on the bus, with ``source`` and ``detail_type`` (the body is the detail).

Invariants:
- Everything is written on the caller's connection: the delivery commits exactly with the
  caller's own change (the event it completes, the object it stores), so it is never lost and
  never made for a change that rolled back. Wake-ups of the receiving dispatcher are registered
  with ``Store.after_commit``.
- A target that does not exist raises the receiving service's ``ServiceError`` (for example
  ``QueueDoesNotExist`` or ``ResourceNotFoundException``) and writes nothing; the caller decides
  whether that fails its own request or is a failed delivery it logs, retries or dead-letters.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

SERVICES = frozenset({"sqs", "sns", "lambda", "events"})


def arn_service(arn: str) -> str | None:
    """The service of an ``arn:partition:service:...`` ARN, or None for anything else."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return parts[2]


def _provider(platform: Platform, service: str) -> Any:
    provider = platform.providers.get(service)
    if provider is None:
        raise ServiceError(f"{service} is not running on this platform", code="InternalError")
    return provider


def deliver(
    platform: Platform,
    conn: Connection,
    arn: str,
    body: str,
    *,
    attributes: dict[str, dict[str, Any]] | None = None,
    group_id: str | None = None,
    dedup_id: str | None = None,
    subject: str | None = None,
    source: str | None = None,
    detail_type: str | None = None,
    trace: str | None = None,
    resources: list[str] | None = None,
) -> None:
    """Hand ``body`` to the queue, topic, function or bus named by ``arn`` on ``conn``.

    ``attributes`` are message attributes in SQS/SNS's API shape (``DataType`` plus
    ``StringValue`` or ``BinaryValue``); ``group_id``/``dedup_id`` apply to FIFO queues and
    topics; ``subject`` to SNS; ``source``/``detail_type`` to an EventBridge event, whose
    ``detail`` is ``body`` parsed as JSON and whose ``resources`` are ``resources``. ``trace`` is the ``X-Amzn-Trace-Id`` of the request
    that caused the delivery (None without one): a Lambda event and an SNS message carry it on,
    so Lambda's recursive loop detection counts loops through them (``lambda_.lineage``).
    SQS messages and EventBridge events do not carry it yet.
    """
    service = arn_service(arn)
    if service == "sqs":
        _provider(platform, "sqs").enqueue(
            conn,
            arn,
            body,
            message_attributes=attributes,
            group_id=group_id,
            dedup_id=dedup_id,
        )
    elif service == "sns":
        _provider(platform, "sns").publish_from(
            conn,
            arn,
            body,
            subject=subject,
            attributes=attributes,
            group_id=group_id,
            dedup_id=dedup_id,
            trace=trace,
        )
    elif service == "lambda":
        _provider(platform, "lambda").enqueue_from(conn, arn, body.encode(), trace=trace)
    elif service == "events":
        _provider(platform, "events").put_from(
            conn,
            arn,
            source=source or "lambdamaker",
            detail_type=detail_type or "Event",
            detail=json.loads(body),
            resources=resources,
        )
    else:
        raise ServiceError(
            f"Delivery to {arn} is not supported: the target must be an SQS queue, an SNS "
            "topic, a Lambda function or an EventBridge event bus",
            code="InvalidParameterValue",
        )
