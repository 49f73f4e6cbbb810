"""SendMessage and SendMessageBatch.

Invariants: every 2xx means committed: a SendMessage is one transaction, and a batch's
successful entries are one transaction together (its failed entries change nothing). Waiters
of the queue are woken after the commit, never before. A FIFO deduplication id seen in the last
5 minutes returns the first message's id and stores nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs.common import Queue, SqsBase, parse_queue_arn
from lambdamaker.services.sqs.errors import invalid_parameter, queue_does_not_exist
from lambdamaker.services.sqs.messages import (
    attributes_md5,
    body_md5,
    check_text,
    dumps,
    normalize_attributes,
)
from lambdamaker.services.sqs.tables import dedup, messages
from lambdamaker.services.sqs.waiters import Waiters

DEDUP_WINDOW_MS = 5 * 60 * 1000
MAX_BATCH = 10
MAX_BATCH_BYTES = 262_144
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_DEDUP_ID = re.compile(r"[!-~]{1,128}")

_INSERT = sa.insert(messages)
_FIND_DEDUP = sa.select(dedup.c.message_id, dedup.c.sequence, dedup.c.expires_ms).where(
    dedup.c.queue_id == sa.bindparam("queue_id"), dedup.c.dedup_id == sa.bindparam("dedup_id")
)


@dataclass
class _Prepared:
    row: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)


def check_batch_ids(entries: list[dict[str, Any]]) -> None:
    """The batch-level checks every *Batch operation makes before looking at any entry."""
    if not entries:
        raise ServiceError(
            "There should be at least one SendMessageBatchRequestEntry in the request.",
            code="EmptyBatchRequest",
        )
    if len(entries) > MAX_BATCH:
        raise ServiceError(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}.",
            code="TooManyEntriesInBatchRequest",
        )
    ids = [str(e.get("Id", "")) for e in entries]
    for entry_id in ids:
        if not _ENTRY_ID.fullmatch(entry_id):
            raise ServiceError(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long.",
                code="InvalidBatchEntryId",
            )
    if len(set(ids)) != len(ids):
        raise ServiceError(
            "Id must be distinct among batch entries.", code="BatchEntryIdsNotDistinct"
        )


class SendOperations(SqsBase):
    waiters: Waiters

    def _prepare(
        self, sender_id: str, queue: Queue, entry: dict[str, Any], trace: str | None = None
    ) -> _Prepared:
        body = entry.get("MessageBody")
        if not body:
            raise invalid_parameter("The request must contain the parameter MessageBody.")
        body = str(body)
        check_text(body)
        attrs, attrs_size = normalize_attributes(entry.get("MessageAttributes") or {})
        system, _ = normalize_attributes(entry.get("MessageSystemAttributes") or {})
        if set(system) - {"AWSTraceHeader"}:
            raise invalid_parameter("Message system attribute name is invalid.")
        given_system = dict(system)
        if trace and "AWSTraceHeader" not in system:
            # The X-Amzn-Trace-Id botocore sends from inside a function becomes the message's
            # AWSTraceHeader, as on AWS (Lambda's recursive loop detection reads it).
            system["AWSTraceHeader"] = {"DataType": "String", "StringValue": trace}
        size = len(body.encode()) + attrs_size
        limit = queue.int_attribute("MaximumMessageSize")
        if size > limit:
            raise invalid_parameter(
                "One or more parameters are invalid. Reason: Message must be shorter than "
                f"{limit} bytes."
            )
        delay = entry.get("DelaySeconds")
        group_id = entry.get("MessageGroupId")
        dedup_id = entry.get("MessageDeduplicationId")
        if queue.fifo:
            if delay is not None and int(delay) != 0:
                raise invalid_parameter(
                    f"Value {delay} for parameter DelaySeconds is invalid. Reason: The request "
                    "include parameter that is not valid for this queue type."
                )
            if not group_id:
                raise ServiceError(
                    "The request must contain the parameter MessageGroupId.",
                    code="MissingParameter",
                )
            if dedup_id is None:
                if queue.attributes.get("ContentBasedDeduplication") != "true":
                    raise invalid_parameter(
                        "The queue should either have ContentBasedDeduplication enabled or "
                        "MessageDeduplicationId provided explicitly"
                    )
                dedup_id = hashlib.sha256(body.encode()).hexdigest()
            elif not _DEDUP_ID.fullmatch(str(dedup_id)):
                raise invalid_parameter(
                    f"Value {dedup_id} for parameter MessageDeduplicationId is invalid."
                )
        elif dedup_id is not None:
            raise invalid_parameter(
                f"Value {dedup_id} for parameter MessageDeduplicationId is invalid. Reason: "
                "The request include parameter that is not valid for this queue type."
            )
        if delay is None:
            delay = queue.int_attribute("DelaySeconds")
        elif not 0 <= int(delay) <= 900:
            raise invalid_parameter(
                f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds "
                "must be >= 0 and <= 900."
            )
        now = self.now_ms()
        message_id = str(uuid.uuid4())
        prepared = _Prepared(
            row={
                "queue_id": queue.id,
                "message_id": message_id,
                "body": body,
                "body_md5": body_md5(body),
                "attributes": dumps(attrs) if attrs else None,
                "attributes_md5": attributes_md5(attrs) if attrs else None,
                "system": dumps(system) if system else None,
                "sender_id": sender_id,
                "sent_ms": now,
                "visible_at_ms": now + int(delay) * 1000,
                "receive_count": 0,
                "first_receive_ms": None,
                "receipt": None,
                "group_id": str(group_id) if group_id else None,
                "dedup_id": str(dedup_id) if dedup_id is not None else None,
            }
        )
        prepared.result = {"MessageId": message_id, "MD5OfMessageBody": prepared.row["body_md5"]}
        if attrs:
            prepared.result["MD5OfMessageAttributes"] = prepared.row["attributes_md5"]
        if given_system:
            prepared.result["MD5OfMessageSystemAttributes"] = attributes_md5(given_system)
        return prepared

    def _store(self, conn: Connection, queue: Queue, batch: list[_Prepared]) -> None:
        """Insert the prepared messages (FIFO: deduplicated) in the open transaction."""
        rows = []
        now = self.now_ms()
        for p in batch:
            if not queue.fifo:
                rows.append(p.row)
                continue
            hit = conn.execute(
                _FIND_DEDUP, {"queue_id": queue.id, "dedup_id": p.row["dedup_id"]}
            ).first()
            if hit is not None and hit.expires_ms > now:
                p.result["MessageId"] = hit.message_id
                p.result["SequenceNumber"] = f"{hit.sequence:020d}"
                continue
            row_id = int(conn.execute(_INSERT, p.row).inserted_primary_key[0])  # type: ignore[index]
            p.result["SequenceNumber"] = f"{row_id:020d}"
            values = {
                "message_id": p.row["message_id"],
                "sequence": row_id,
                "expires_ms": now + DEDUP_WINDOW_MS,
            }
            if hit is not None:
                conn.execute(
                    sa.update(dedup)
                    .where(dedup.c.queue_id == queue.id, dedup.c.dedup_id == p.row["dedup_id"])
                    .values(**values)
                )
            else:
                conn.execute(
                    sa.insert(dedup).values(queue_id=queue.id, dedup_id=p.row["dedup_id"], **values)
                )
        if rows:
            conn.execute(_INSERT, rows)
        if rows or queue.fifo:
            queue_id = queue.id
            self.platform.store.after_commit(conn, lambda: self.waiters.notify(queue_id))

    async def send_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def work(conn: Connection) -> dict[str, Any]:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            prepared = self._prepare(_sender_id(ctx), queue, params, _trace(ctx))
            self._store(conn, queue, [prepared])
            return prepared.result

        return await self.committer.run_async(work)

    async def send_message_batch(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entries: list[dict[str, Any]] = list(params.get("Entries") or [])
        check_batch_ids(entries)
        total = sum(
            len(str(e.get("MessageBody", "")).encode())
            + normalize_size(e.get("MessageAttributes") or {})
            for e in entries
        )
        if total > MAX_BATCH_BYTES:
            raise ServiceError(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent "
                f"{total} bytes.",
                code="BatchRequestTooLong",
            )
        sender = _sender_id(ctx)
        trace = _trace(ctx)

        def work(conn: Connection) -> dict[str, Any]:
            failed: list[dict[str, Any]] = []
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            batch: list[tuple[str, _Prepared]] = []
            for entry in entries:
                try:
                    batch.append((entry["Id"], self._prepare(sender, queue, entry, trace)))
                except ServiceError as exc:
                    failed.append(
                        {
                            "Id": entry["Id"],
                            "SenderFault": True,
                            "Code": exc.code,
                            "Message": exc.message,
                        }
                    )
            self._store(conn, queue, [p for _, p in batch])
            successful = [{"Id": entry_id, **p.result} for entry_id, p in batch]
            return {"Successful": successful, "Failed": failed}

        return await self.committer.run_async(work)

    def enqueue(
        self,
        conn: Connection,
        queue_arn: str,
        body: str,
        *,
        message_attributes: dict[str, Any] | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        sender_id: str = "AIDAIT2UOQQY3AUEKVGXU",
    ) -> dict[str, Any]:
        """Send a message from inside the platform (SNS, S3 notifications, EventBridge, Lambda
        destinations) within the caller's open ``Store.begin()`` transaction, so the caller's
        own commit covers the delivery. Returns SendMessage's output; raises the ServiceError
        SendMessage would (``QueueDoesNotExist`` for an unknown ARN)."""
        parsed = parse_queue_arn(queue_arn)
        queue = self.find_queue(conn, *parsed) if parsed is not None else None
        if queue is None:
            raise queue_does_not_exist()
        entry: dict[str, Any] = {"MessageBody": body}
        if message_attributes:
            entry["MessageAttributes"] = message_attributes
        if group_id is not None:
            entry["MessageGroupId"] = group_id
        if dedup_id is not None:
            entry["MessageDeduplicationId"] = dedup_id
        prepared = self._prepare(sender_id, queue, entry)
        self._store(conn, queue, [prepared])
        return prepared.result


def normalize_size(attributes: dict[str, Any]) -> int:
    """Approximate attribute bytes for the batch-size check (validated later, per entry)."""
    size = 0
    for name, value in attributes.items():
        size += len(str(name).encode()) + len(str(value.get("DataType", "")).encode())
        if value.get("BinaryValue") is not None:
            size += len(bytes(value["BinaryValue"]))
        else:
            size += len(str(value.get("StringValue", "")).encode())
    return size


def _sender_id(ctx: RequestContext) -> str:
    principal = ctx.principal
    if principal is not None and principal.user_id:
        return principal.user_id
    return ctx.account_id


def _trace(ctx: RequestContext) -> str | None:
    return ctx.headers.get("x-amzn-trace-id") or None
