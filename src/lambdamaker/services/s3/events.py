"""S3 event notifications: which configurations a change matches, the records, their delivery.

An object change (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject, DeleteObjects)
is described by ``Change``s. ``Notifier.emit`` is called on the connection of the transaction
that commits the change; for every configuration whose events and key filter match, it builds
the event record AWS sends (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)
and hands it to ``services.deliver.deliver`` on that same connection. With
``EventBridgeConfiguration`` every change also goes to the account's default event bus as an
``Object Created``/``Object Deleted`` event of source ``aws.s3``.

Invariants:
- A notification commits exactly with its change: a 2xx means it is durable (it survives a
  ``kill -9``), a rollback sends none. Delivery itself (the SQS message, the SNS fan-out, the
  Lambda Event invocation) is the receiving service's, after the commit.
- A destination that no longer exists is skipped and logged, never a failed write: S3 does not
  fail an upload because a queue was deleted after the configuration was saved.
- A bucket without a configuration costs one dict lookup. Configurations are cached per bucket
  (``NotificationCache``) and dropped when PutBucketNotificationConfiguration or DeleteBucket
  commits; a generation counter stops a reader that loaded the old configuration from caching
  it after the invalidation (the provider is the store's only writer, in one process).
- A notification to a function or topic carries the ``X-Amzn-Trace-Id`` of the request that
  made the change, so a function that writes where it is triggered from is stopped by Lambda's
  recursive loop detection (``lambda_.lineage``) after 16 runs.
- ``sequencer`` is a per-bucket counter in ``s3_sequencers``, advanced in the writing
  transaction: it grows with commit order for every key, fixed-width uppercase hex as S3's.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.deliver import arn_service, deliver
from lambdamaker.services.lambda_.lineage import HEADER as TRACE_HEADER
from lambdamaker.services.s3.records import insert_ignore, select_bucket
from lambdamaker.services.s3.tables import sequencers

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.s3.events")

EVENT_VERSION = "2.1"
SEQUENCER_DIGITS = 18
SNS_SUBJECT = "Amazon S3 Notification"
SOURCE_IP = "127.0.0.1"
"""The gateway does not hand providers the client's address; every event names loopback."""
_KINDS = (
    ("QueueConfigurations", "QueueArn"),
    ("TopicConfigurations", "TopicArn"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
)
_MAX_CACHED = 10_000


@dataclass(frozen=True)
class Change:
    """One object change: ``event`` is S3's event name without ``s3:`` (``ObjectCreated:Put``).
    ``size`` and ``etag`` (unquoted) are set for created objects only, as in S3's records."""

    event: str
    key: str
    size: int | None = None
    etag: str | None = None


@dataclass(frozen=True)
class Target:
    """One configuration entry: its Id, destination, event types and key filter."""

    config_id: str
    arn: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    def matches(self, event: str, key: str, encoded: str) -> bool:
        full = f"s3:{event}"
        if not any(e == full or (e.endswith("*") and full.startswith(e[:-1])) for e in self.events):
            return False
        # S3 documents filter values with special characters as URL-encoded; plain values
        # match the key as stored. Either form matches here.
        return any(k.startswith(self.prefix) and k.endswith(self.suffix) for k in (key, encoded))


@dataclass(frozen=True)
class BucketTargets:
    name: str
    region: str
    account_id: str
    targets: tuple[Target, ...]
    eventbridge: bool = False
    """``EventBridgeConfiguration`` is set: every change also goes to the default bus."""


def targets_of(config: dict[str, Any]) -> tuple[Target, ...]:
    """The stored (validated) configuration as a flat tuple of ``Target``s."""
    found: list[Target] = []
    for list_member, arn_member in _KINDS:
        for item in config.get(list_member) or []:
            rules = ((item.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
            values = {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules}
            found.append(
                Target(
                    item["Id"],
                    item[arn_member],
                    tuple(item["Events"]),
                    values.get("prefix", ""),
                    values.get("suffix", ""),
                )
            )
    return tuple(found)


def encode_key(key: str) -> str:
    """The key as S3 writes it into a record: URL-encoded, spaces as ``+``, ``/`` kept."""
    return quote_plus(key, safe="/")


def iso_ms(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def customer_id(account_id: str) -> str:
    """A stable Amazon-customer-style ID for an account (S3 shows these as principal ids)."""
    digest = base64.b32encode(hashlib.sha256(f"s3-owner:{account_id}".encode()).digest())
    return "A" + digest.decode()[:13]


def principal_id(ctx: RequestContext) -> str:
    """``userIdentity.principalId``: the account's customer id for the root user (and for
    unsigned requests), ``AWS:<user id>`` for an IAM user or role session."""
    principal = ctx.principal
    if principal is None or principal.arn.endswith(":root") or not principal.user_id:
        return customer_id(ctx.account_id)
    return f"AWS:{principal.user_id}"


def event_record(
    ctx: RequestContext,
    bucket: BucketTargets,
    target: Target,
    change: Change,
    sequencer: int,
    time_ms: int,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": encode_key(change.key)}
    if change.size is not None:
        obj["size"] = change.size
    if change.etag is not None:
        obj["eTag"] = change.etag
    obj["sequencer"] = f"{sequencer:0{SEQUENCER_DIGITS}X}"
    return {
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:s3",
        "awsRegion": bucket.region,
        "eventTime": iso_ms(time_ms),
        "eventName": change.event,
        "userIdentity": {"principalId": principal_id(ctx)},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {
            "x-amz-request-id": ctx.request_id,
            "x-amz-id-2": ctx.request_id,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": target.config_id,
            "bucket": {
                "name": bucket.name,
                "ownerIdentity": {"principalId": customer_id(bucket.account_id)},
                "arn": f"arn:aws:s3:::{bucket.name}",
            },
            "object": obj,
        },
    }


def test_event_body(ctx: RequestContext, bucket: str, time_ms: int) -> str:
    """The ``s3:TestEvent`` message S3 sends to queues and topics when a configuration is saved."""
    return orjson.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": iso_ms(time_ms),
            "Bucket": bucket,
            "RequestId": ctx.request_id,
            "HostId": ctx.request_id,
        }
    ).decode()


_EVENTBRIDGE_TYPES = {"ObjectCreated": "Object Created", "ObjectRemoved": "Object Deleted"}
_EVENTBRIDGE_REASONS = {
    "ObjectCreated:Put": "PutObject",
    "ObjectCreated:Post": "POST Object",
    "ObjectCreated:Copy": "CopyObject",
    "ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "ObjectRemoved:Delete": "DeleteObject",
}


def eventbridge_detail(
    ctx: RequestContext, bucket: BucketTargets, change: Change, sequencer: int
) -> dict[str, Any]:
    """The ``detail`` of S3's EventBridge event (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html)."""
    obj: dict[str, Any] = {"key": change.key}
    if change.size is not None:
        obj["size"] = change.size
    if change.etag is not None:
        obj["etag"] = change.etag
    obj["sequencer"] = f"{sequencer:0{SEQUENCER_DIGITS}X}"
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": ctx.request_id,
        "requester": ctx.account_id,
        "source-ip-address": SOURCE_IP,
        "reason": _EVENTBRIDGE_REASONS[change.event],
    }
    if change.event.startswith("ObjectRemoved:"):
        detail["deletion-type"] = "Permanently Deleted"
    return detail


def send(
    platform: Platform, conn: Connection, arn: str, body: str, trace: str | None = None
) -> None:
    """``deliver`` with what S3 adds: SNS messages carry S3's subject; ``trace`` is the
    writing request's trace header."""
    subject = SNS_SUBJECT if arn_service(arn) == "sns" else None
    deliver(platform, conn, arn, body, subject=subject, trace=trace)


def allocate_sequencers(conn: Connection, bucket: str, count: int) -> int:
    """Advance the bucket's sequencer by ``count``; returns the first value handed out. The
    row stays locked until the transaction ends, so values follow commit order."""
    bump = (
        sa.update(sequencers)
        .where(sequencers.c.bucket == bucket)
        .values(value=sequencers.c.value + count)
        .returning(sequencers.c.value)
    )
    for _ in range(2):
        row = conn.execute(bump).first()
        if row is not None:
            return int(row.value) - count + 1
        if insert_ignore(conn, sequencers, {"bucket": bucket, "value": count}).rowcount == 1:
            return 1
    raise RuntimeError("sequencer row vanished while locked")  # pragma: no cover


class NotificationCache:
    """Bucket name -> its targets (an empty tuple when it has none), for one process."""

    def __init__(self) -> None:
        self._entries: dict[str, BucketTargets | None] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def lookup(self, bucket: str) -> tuple[bool, BucketTargets | None]:
        """(cached?, entry); ``None`` entry: the bucket has no configuration (or no bucket)."""
        entries = self._entries
        if bucket in entries:
            return True, entries.get(bucket)
        return False, None

    @property
    def generation(self) -> int:
        return self._generation

    def fill(self, bucket: str, entry: BucketTargets | None, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # invalidated while the caller was loading: what it read may be stale
            if len(self._entries) >= _MAX_CACHED:
                self._entries.clear()
            self._entries[bucket] = entry

    def invalidate(self, bucket: str) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop(bucket, None)


class Notifier:
    """Matches changes against a bucket's configuration and delivers the records."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.cache = NotificationCache()

    def targets(self, conn: Connection, bucket: str) -> BucketTargets | None:
        cached, entry = self.cache.lookup(bucket)
        if cached:
            return entry
        generation = self.cache.generation
        record = select_bucket(conn, bucket)
        entry = None
        if record is not None and record.notification:
            config = orjson.loads(record.notification)
            found = targets_of(config)
            eventbridge = config.get("EventBridgeConfiguration") is not None
            if found or eventbridge:
                entry = BucketTargets(
                    record.name, record.region, record.account_id, found, eventbridge
                )
        self.cache.fill(bucket, entry, generation)
        return entry

    def changed(self, conn: Connection, bucket: str) -> None:
        """The bucket's configuration (or the bucket) changes in ``conn``'s transaction."""
        self.cache.invalidate(bucket)
        self.platform.store.after_commit(conn, lambda: self.cache.invalidate(bucket))

    def emit(
        self,
        conn: Connection,
        ctx: RequestContext | None,
        bucket: str,
        changes: Iterable[Change],
        time_ms: int,
    ) -> None:
        """Deliver the records of ``changes`` to every matching destination, on ``conn``."""
        entry = self.targets(conn, bucket)
        if entry is None or ctx is None:
            return
        matched: list[tuple[Change, list[Target]]] = []
        for change in changes:
            encoded = encode_key(change.key)
            hits = [t for t in entry.targets if t.matches(change.event, change.key, encoded)]
            if hits or entry.eventbridge:
                matched.append((change, hits))
        if not matched:
            return
        sequencer = allocate_sequencers(conn, bucket, len(matched))
        trace = ctx.headers.get(TRACE_HEADER) or None
        for offset, (change, hits) in enumerate(matched):
            if entry.eventbridge:
                self.to_eventbridge(conn, ctx, entry, change, sequencer + offset)
            for target in hits:
                record = event_record(ctx, entry, target, change, sequencer + offset, time_ms)
                body = orjson.dumps({"Records": [record]}).decode()
                try:
                    send(self.platform, conn, target.arn, body, trace)
                except ServiceError as exc:
                    log.warning(
                        "s3: %s event for %s/%s not delivered to %s: %s",
                        change.event,
                        bucket,
                        change.key,
                        target.arn,
                        exc.message,
                    )

    def to_eventbridge(
        self,
        conn: Connection,
        ctx: RequestContext,
        bucket: BucketTargets,
        change: Change,
        sequencer: int,
    ) -> None:
        """Put the change on the default bus of the bucket's account and region."""
        provider: Any = self.platform.providers.get("events")
        bus = f"arn:aws:events:{bucket.region}:{bucket.account_id}:event-bus/default"
        try:
            if provider is None:
                raise ServiceError("EventBridge is not running", code="InternalError")
            provider.put_from(
                conn,
                bus,
                source="aws.s3",
                detail_type=_EVENTBRIDGE_TYPES[change.event.split(":", 1)[0]],
                detail=eventbridge_detail(ctx, bucket, change, sequencer),
                resources=[f"arn:aws:s3:::{bucket.name}"],
            )
        except ServiceError as exc:
            log.warning(
                "s3: %s event for %s/%s not put on %s: %s",
                change.event,
                bucket.name,
                change.key,
                bus,
                exc.message,
            )
