"""Publish and PublishBatch: validation, and the durable record of each accepted message.

An accepted message is stored in ``sns_messages`` with ``delivered = false`` in the same
transaction that answers 2xx; after the commit the delivery dispatcher (``delivery``) is woken
to fan it out.

Validation follows SNS: a message is non-empty and, with its attributes, at most 256 KiB;
``MessageStructure=json`` needs a JSON object with a ``default`` string; attribute types are
``String``, ``Number``, ``Binary`` and ``String.Array`` (optionally with a ``.custom`` suffix);
FIFO topics need ``MessageGroupId`` and a deduplication id unless content-based deduplication
is on, and standard topics refuse both. A batch holds 1-10 entries with distinct ids; an entry
that fails validation is reported in ``Failed`` and the others are published.

The caller's ``X-Amzn-Trace-Id`` (a function's botocore sends its own invocation's) is stored
with each message, so Lambda subscribers continue the caller's chain (recursive loop
detection, ``lambda_.lineage``).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.lineage import HEADER as TRACE_HEADER
from lambdamaker.services.sns import tables as t
from lambdamaker.services.sns.common import SnsBase, check_topic_arn, invalid, load_attributes
from lambdamaker.services.sns.delivery import Delivery

MAX_MESSAGE_BYTES = 262_144
MAX_BATCH = 10
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_ATTRIBUTE_TYPES = ("String", "Number", "Binary")


def _param_invalid(message: str) -> ServiceError:
    return ServiceError(message, code="ParameterValueInvalid", status=400)


def _attributes(raw: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, str]], int]:
    """Validated attributes in the JSON form stored (binary as base64), and their size."""
    out: dict[str, dict[str, str]] = {}
    size = 0
    for name, attr in raw.items():
        data_type = str(attr.get("DataType", ""))
        base = data_type.split(".", 1)[0]
        if base not in _ATTRIBUTE_TYPES:
            raise _param_invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String."
            )
        size += len(name.encode()) + len(data_type.encode())
        if base == "Binary":
            value = attr.get("BinaryValue")
            if not isinstance(value, bytes | bytearray) or not value:
                raise _param_invalid(
                    f"The message attribute '{name}' must contain non-empty message attribute "
                    f"value for message attribute type '{data_type}'."
                )
            out[name] = {"DataType": data_type, "BinaryValue": base64.b64encode(value).decode()}
            size += len(value)
            continue
        text = attr.get("StringValue")
        if not isinstance(text, str) or text == "":
            raise _param_invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{data_type}'."
            )
        if base == "Number":
            try:
                float(text)
            except ValueError:
                raise _param_invalid(
                    f"Could not cast message attribute '{name}' value to number."
                ) from None
        if data_type == "String.Array":
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, list):
                raise _param_invalid(
                    f"The message attribute '{name}' with type 'String.Array' has an invalid "
                    "value: it must be a JSON array."
                )
        out[name] = {"DataType": data_type, "StringValue": text}
        size += len(text.encode())
    return out, size


def _validate(entry: dict[str, Any], topic: Row[Any]) -> dict[str, Any]:
    """One message's row values (without ids), or ``ServiceError``."""
    message = entry.get("Message")
    if not isinstance(message, str) or message == "":
        raise invalid("Empty message")
    attributes, size = _attributes(entry.get("MessageAttributes") or {})
    if len(message.encode()) + size > MAX_MESSAGE_BYTES:
        raise invalid("Message too long")
    subject = entry.get("Subject")
    if subject is not None and (
        not 1 <= len(subject) <= 100 or not all(32 <= ord(c) < 127 for c in subject)
    ):
        raise invalid("Subject")
    structure = entry.get("MessageStructure")
    if structure is not None:
        if structure != "json":
            raise invalid("MessageStructure")
        try:
            parsed = json.loads(message)
        except ValueError:
            raise invalid("Message Structure - JSON message body failed to parse") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("default"), str):
            raise invalid("Message Structure - No default entry in JSON message body")
    group_id, dedup_id = entry.get("MessageGroupId"), entry.get("MessageDeduplicationId")
    if topic.fifo:
        if not group_id:
            raise invalid("The MessageGroupId parameter is required for FIFO topics")
        content_dedup = load_attributes(topic).get("ContentBasedDeduplication") == "true"
        if not dedup_id and not content_dedup:
            raise invalid(
                "The topic should either have ContentBasedDeduplication enabled or "
                "MessageDeduplicationId provided explicitly"
            )
    elif dedup_id is not None:
        raise invalid(
            "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
            "parameter that is not valid for this topic type"
        )
    elif group_id is not None:
        raise invalid(
            "MessageGroupId Reason: The request includes MessageGroupId parameter that is not "
            "valid for this topic type"
        )
    return {
        "topic_arn": topic.arn,
        "message": message,
        "subject": subject,
        "structure": structure,
        "attributes": json.dumps(attributes, sort_keys=True),
        "group_id": group_id,
        "dedup_id": dedup_id,
    }


def _record(
    conn: Connection, values: dict[str, Any], fifo: bool, trace: str | None
) -> dict[str, str]:
    message_id = str(uuid.uuid4())
    result = conn.execute(
        sa.insert(t.messages).values(
            message_id=message_id, published_at=time.time(), delivered=False, trace=trace, **values
        )
    )
    out = {"MessageId": message_id}
    if fifo:
        seq = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        out["SequenceNumber"] = f"{int(seq):020d}"
    return out


def _trace(ctx: RequestContext) -> str | None:
    """The caller's trace header, if any (bounded: a header is no place for a payload)."""
    value = ctx.headers.get(TRACE_HEADER)
    return value if value and len(value) <= 2048 else None


class PublishOperations(SnsBase):
    delivery: Delivery

    def _publish_topic(
        self, conn: Connection, ctx: RequestContext, params: dict[str, Any]
    ) -> Row[Any]:
        target = params.get("TopicArn") or params.get("TargetArn")
        if params.get("PhoneNumber") is not None and not target:
            raise invalid("PhoneNumber Reason: SMS is not supported")
        if not target:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        return self._topic(conn, ctx, check_topic_arn(target))

    def publish(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            topic = self._publish_topic(conn, ctx, params)
            out = _record(conn, _validate(params, topic), topic.fifo, _trace(ctx))
        self.delivery.notify()
        return out

    def publish_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries: list[dict[str, Any]] = list(params.get("PublishBatchRequestEntries") or [])
        if not entries:
            raise ServiceError(
                "The batch request doesn't contain any entries", code="EmptyBatchRequest"
            )
        if len(entries) > MAX_BATCH:
            raise ServiceError(
                "The batch request contains more entries than permissible",
                code="TooManyEntriesInBatchRequest",
            )
        ids = [e.get("Id", "") for e in entries]
        if len(set(ids)) != len(ids):
            raise ServiceError(
                "Two or more batch entries in the request have the same Id",
                code="BatchEntryIdsNotDistinct",
            )
        for entry_id in ids:
            if not _BATCH_ID.match(entry_id):
                raise ServiceError(
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long.",
                    code="InvalidBatchEntryId",
                )
        total = sum(len(str(e.get("Message", "")).encode()) for e in entries)
        if total > MAX_MESSAGE_BYTES:
            raise ServiceError(
                "The length of all the messages put together is more than the limit",
                code="BatchRequestTooLong",
            )
        successful: list[dict[str, str]] = []
        failed: list[dict[str, Any]] = []
        trace = _trace(ctx)
        with self.platform.store.begin() as conn:
            topic = self._publish_topic(conn, ctx, params)
            for entry in entries:
                try:
                    values = _validate(entry, topic)
                except ServiceError as err:
                    failed.append(
                        {
                            "Id": entry["Id"],
                            "Code": err.code,
                            "Message": err.message,
                            "SenderFault": True,
                        }
                    )
                    continue
                successful.append({"Id": entry["Id"], **_record(conn, values, topic.fifo, trace)})
        if successful:
            self.delivery.notify()
        return {"Successful": successful, "Failed": failed}

    def publish_from(
        self,
        conn: Connection,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: dict[str, dict[str, Any]] | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        trace: str | None = None,
    ) -> dict[str, str]:
        """Publish from inside the platform (S3 notifications, EventBridge targets, Lambda
        destinations) on the caller's open transaction, validated as Publish validates; raises
        ``NotFound`` for an unknown topic. The dispatcher is woken after the commit. ``trace``
        is the X-Ray header of the request that caused this message, if any."""
        row = conn.execute(sa.select(t.topics).where(t.topics.c.arn == check_topic_arn(topic_arn)))
        topic = row.first()
        if topic is None:
            raise ServiceError("Topic does not exist", code="NotFound", status=404)
        entry: dict[str, Any] = {"Message": message, "Subject": subject}
        if attributes:
            entry["MessageAttributes"] = attributes
        if group_id is not None:
            entry["MessageGroupId"] = group_id
        if dedup_id is not None and topic.fifo:
            entry["MessageDeduplicationId"] = dedup_id
        out = _record(conn, _validate(entry, topic), topic.fifo, trace)
        self.platform.store.after_commit(conn, self.delivery.notify)
        return out
