"""Bucket notification configuration: PutBucketNotificationConfiguration and its Get.

Validation follows S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html):
destination ARNs must be well formed for their kind, events must be notification event types,
a filter has at most one ``prefix`` and one ``suffix`` rule, and no two configurations may
overlap (a shared event type with overlapping prefix and suffix filters). A configuration
without an ``Id`` gets a generated one, as S3 does. An empty configuration clears the bucket's.

Then, unless ``SkipDestinationValidation`` is true, every destination must exist: S3 sends each
queue and topic an ``s3:TestEvent`` (which is also how it checks them) and checks that each
function exists. Any failure is ``InvalidArgument`` "Unable to validate the following
destination configurations" naming each failed ARN (``ArgumentName<n>``/``ArgumentValue<n>``),
and changes nothing: the test events, the stored configuration and the cache invalidation
share one transaction. Delivery of object events is ``events``.
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.deliver import arn_service
from lambdamaker.services.s3 import errors
from lambdamaker.services.s3.base import S3Base
from lambdamaker.services.s3.events import send, test_event_body
from lambdamaker.services.s3.tables import buckets

NOTIFICATION_EVENTS = frozenset(
    {
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
    }
)

_PARTITION = r"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?"
_REGION_ACCOUNT = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}"
# (list member, ARN member, ARN pattern)
_KINDS = (
    (
        "TopicConfigurations",
        "TopicArn",
        re.compile(rf"^{_PARTITION}:sns:{_REGION_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?$"),
    ),
    (
        "QueueConfigurations",
        "QueueArn",
        re.compile(rf"^{_PARTITION}:sqs:{_REGION_ACCOUNT}:[A-Za-z0-9_-]{{1,80}}(?:\.fifo)?$"),
    ),
    (
        "LambdaFunctionConfigurations",
        "LambdaFunctionArn",
        re.compile(
            rf"^{_PARTITION}:lambda:{_REGION_ACCOUNT}:function:[A-Za-z0-9_-]{{1,64}}"
            r"(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
        ),
    ),
)


def _filters(config: dict[str, Any]) -> tuple[str, str]:
    """The (prefix, suffix) filter of one configuration, validated."""
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    found: dict[str, str] = {}
    for rule in rules:
        name = str(rule.get("Name", "")).lower()
        if name not in ("prefix", "suffix"):
            raise errors.invalid_argument(
                "filter rule name must be either prefix or suffix", "FilterRule", rule.get("Name")
            )
        if name in found:
            raise errors.invalid_argument(
                f"Cannot specify more than one {name} rule in a filter.",
                "FilterRule",
                rule.get("Name"),
            )
        found[name] = str(rule.get("Value", ""))
    return found.get("prefix", ""), found.get("suffix", "")


def _events_overlap(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.endswith("*") and b.startswith(a[:-1]):
        return True
    return b.endswith("*") and a.startswith(b[:-1])


def _overlap(one: tuple[set[str], str, str], other: tuple[set[str], str, str]) -> bool:
    events_a, prefix_a, suffix_a = one
    events_b, prefix_b, suffix_b = other
    if not any(_events_overlap(a, b) for a in events_a for b in events_b):
        return False
    prefixes = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes and suffixes


def _new_id() -> str:
    return base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")


def validate_notification(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration to store (Ids filled in), or ``InvalidArgument``/``MalformedXML``."""
    stored: dict[str, Any] = {}
    seen: list[tuple[set[str], str, str]] = []
    for list_member, arn_member, pattern in _KINDS:
        entries = []
        for item in config.get(list_member) or []:
            arn = item.get(arn_member)
            events = item.get("Events")
            if not arn or not events:
                raise errors.malformed_xml()
            if not pattern.match(arn):
                raise errors.invalid_argument("The ARN is not well formed", arn_member, arn)
            for event in events:
                if event not in NOTIFICATION_EVENTS:
                    raise errors.invalid_argument(
                        "The event is not supported for notifications", "Event", event
                    )
            prefix, suffix = _filters(item)
            shape = (set(events), prefix, suffix)
            if any(_overlap(shape, other) for other in seen):
                raise errors.invalid_argument(
                    "Configurations overlap. Configurations on the same bucket cannot share a "
                    "common event type.",
                    "Event",
                    ", ".join(events),
                )
            seen.append(shape)
            entry: dict[str, Any] = {"Id": item.get("Id") or _new_id(), arn_member: arn}
            entry["Events"] = list(events)
            if item.get("Filter"):
                entry["Filter"] = item["Filter"]
            entries.append(entry)
        if entries:
            stored[list_member] = entries
    if config.get("EventBridgeConfiguration") is not None:
        stored["EventBridgeConfiguration"] = {}
    return stored


def destinations(stored: dict[str, Any]) -> list[str]:
    """Every distinct destination ARN of a stored configuration, in configuration order."""
    seen: dict[str, None] = {}
    for list_member, arn_member, _ in _KINDS:
        for item in stored.get(list_member) or []:
            seen.setdefault(item[arn_member], None)
    return list(seen)


_MISSING = {
    "sqs": "The destination queue does not exist",
    "sns": "The destination topic does not exist",
    "lambda": "The destination Lambda function does not exist",
}


class NotificationOperations(S3Base):
    def check_destination(
        self, conn: Connection, ctx: RequestContext, bucket: str, arn: str, now_ms: int
    ) -> str | None:
        """Why ``arn`` cannot receive this bucket's events, or None; queues and topics get their
        ``s3:TestEvent`` on ``conn`` as the check."""
        service = arn_service(arn)
        if service is None or service not in self.platform.providers:
            return _MISSING.get(service or "", "The destination does not exist")
        if service in ("sqs", "sns"):
            if arn.endswith(".fifo"):
                return "FIFO destinations are not supported for event notifications"
            try:
                send(self.platform, conn, arn, test_event_body(ctx, bucket, now_ms))
            except ServiceError:
                return _MISSING[service]
            return None
        provider: Any = self.platform.providers["lambda"]
        try:
            name, qualifier = provider.arns.parse_function(arn)
            provider.resolve(conn, name, qualifier)
        except ServiceError:
            return _MISSING["lambda"]
        return None

    def put_bucket_notification_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        bucket = params["Bucket"]
        self.bucket_or_raise(params)
        stored = validate_notification(params.get("NotificationConfiguration") or {})
        value = orjson.dumps(stored).decode() if stored else None
        now_ms = self.now_ms()
        with self.store.begin() as conn:
            updated = conn.execute(
                sa.update(buckets).where(buckets.c.name == bucket).values(notification=value)
            ).rowcount
            if updated == 0:
                raise errors.no_such_bucket(bucket)
            if not params.get("SkipDestinationValidation"):
                failed: dict[str, Any] = {}
                for arn in destinations(stored):
                    problem = self.check_destination(conn, ctx, bucket, arn, now_ms)
                    if problem is not None:
                        n = len(failed) // 2 + 1
                        failed[f"ArgumentName{n}"] = arn
                        failed[f"ArgumentValue{n}"] = problem
                if failed:
                    # Raising rolls back the stored configuration and the test events.
                    raise ServiceError(
                        "Unable to validate the following destination configurations",
                        code="InvalidArgument",
                        status=400,
                        **failed,
                    )
            self.notifier.changed(conn, bucket)
        return {}

    def get_bucket_notification_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        record = self.bucket_or_raise(params)
        if not record.notification:
            return {}
        config: dict[str, Any] = orjson.loads(record.notification)
        return config
