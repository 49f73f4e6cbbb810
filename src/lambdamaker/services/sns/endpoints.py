"""The subscribed endpoints: how one message reaches one subscription, and its dead-letter queue.

SQS and Lambda deliveries are writes into the caller's open transaction (``services.deliver``:
an SQS enqueue, or an Event invocation as ``Invoke(InvocationType=Event)`` queues it), so the
transaction that records the delivery as done also commits the delivery itself. http/https is
a POST outside any transaction.

What a dead-letter queue receives is what the subscription would have received as an SQS
subscriber: the notification JSON (``Type: Notification``, signed) as the body, or with
``RawMessageDelivery`` the message itself with its attributes as SQS message attributes; a FIFO
dead-letter queue gets the message group (and deduplication id) a FIFO subscriber would.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Row

from lambdamaker.errors import ServiceError
from lambdamaker.services.deliver import deliver
from lambdamaker.services.sns import http_delivery
from lambdamaker.services.sns.envelopes import (
    Published,
    lambda_event,
    message_for,
    notification,
    sqs_attributes,
)
from lambdamaker.services.sns.signing import Signer

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

GONE_CODES = frozenset(
    {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "ResourceNotFoundException"}
)
"""Errors that mean the endpoint no longer exists: SNS's client-side errors."""


def is_gone(exc: BaseException) -> bool:
    return isinstance(exc, ServiceError) and exc.code in GONE_CODES


def error_text(exc: BaseException) -> str:
    if isinstance(exc, ServiceError):
        return f"{exc.code}: {exc.message}"
    return str(exc) or type(exc).__name__


def dead_letter_arn(sub: Row[Any]) -> str | None:
    """The subscription's RedrivePolicy target (validated when set)."""
    text = json.loads(sub.attributes).get("RedrivePolicy")
    if not text:
        return None
    arn = json.loads(text).get("deadLetterTargetArn")
    return arn if isinstance(arn, str) and arn else None


def _raw(sub: Row[Any]) -> bool:
    return bool(json.loads(sub.attributes).get("RawMessageDelivery") == "true")


def _content_dedup_id(published: Published) -> str:
    """A FIFO topic's message without a deduplication id has content-based deduplication on
    (Publish refuses it otherwise): SHA-256 of the message, as SNS and SQS compute it. A FIFO
    queue then drops a repeat within its 5-minute window, so SNS's own deduplication holds."""
    if published.fifo:
        return hashlib.sha256(published.message.encode()).hexdigest()
    return published.message_id


class Endpoints:
    def __init__(self, platform: Platform, signer: Signer) -> None:
        self.platform = platform
        self.signer = signer

    def endpoint_url(self) -> str:
        return self.platform.local_endpoint()

    # --- http/https -----------------------------------------------------------------------

    def post(self, published: Published, sub: Row[Any]) -> None:
        """POST the notification; raises ``HttpDeliveryError`` unless the endpoint answers 2xx."""
        raw = _raw(sub)
        if raw:
            body = message_for(published, sub.protocol)
        else:
            body = json.dumps(
                notification(published, sub.protocol, sub.arn, self.endpoint_url(), self.signer)
            )
        headers = http_delivery.notification_headers(
            published.message_id, published.topic_arn, sub.arn
        )
        if raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        http_delivery.post(sub.endpoint, body, headers)

    # --- SQS and Lambda, on the caller's transaction --------------------------------------

    def _enqueue(
        self, conn: Connection, queue_arn: str, published: Published, sub: Row[Any]
    ) -> None:
        protocol = sub.protocol if sub.protocol in ("sqs", "http", "https") else "sqs"
        if _raw(sub):
            body = message_for(published, protocol)
            attributes = sqs_attributes(published)
        else:
            body = json.dumps(
                notification(published, protocol, sub.arn, self.endpoint_url(), self.signer)
            )
            attributes = {}
        group_id = dedup_id = None
        if queue_arn.endswith(".fifo"):
            group_id = published.group_id or published.topic_arn.rsplit(":", 1)[-1]
            dedup_id = published.dedup_id or _content_dedup_id(published)
        deliver(
            self.platform,
            conn,
            queue_arn,
            body,
            attributes=attributes,
            group_id=group_id,
            dedup_id=dedup_id,
        )

    def to_sqs(self, conn: Connection, published: Published, sub: Row[Any]) -> None:
        self._enqueue(conn, sub.endpoint, published, sub)

    def to_dead_letter(
        self, conn: Connection, queue_arn: str, published: Published, sub: Row[Any]
    ) -> None:
        self._enqueue(conn, queue_arn, published, sub)

    def to_lambda(self, conn: Connection, published: Published, sub: Row[Any]) -> None:
        """An Event invocation with the ``aws:sns`` event; ``ResourceNotFoundException`` when
        the function is gone. The event carries the publisher's trace header, so a loop
        through the topic is counted by Lambda's recursive loop detection."""
        event = lambda_event(published, sub.arn, self.endpoint_url(), self.signer)
        deliver(self.platform, conn, sub.endpoint, json.dumps(event), trace=published.trace)
