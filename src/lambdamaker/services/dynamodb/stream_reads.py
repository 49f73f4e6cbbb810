"""DynamoDB Streams, the reading side shared by the ``dynamodbstreams`` API and the event
source mapping poller: streams by ARN, the retained range of the shard, records in Lambda's
event shape.

Invariants: a stream disabled more than 24 hours ago is gone (``find`` returns None); a record
older than 24 hours is trimmed (never returned), whether or not it was deleted yet; sequence
numbers are dense, so the retained records are exactly ``horizon .. last_seq``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.dynamodb.stream_tables import ddb_stream_records, ddb_streams
from lambdamaker.services.dynamodb.streams import RETENTION_MS, format_seq, shard_id

_BY_ARN = sa.select(ddb_streams).where(ddb_streams.c.arn == sa.bindparam("arn"))
_BY_ID = sa.select(ddb_streams).where(ddb_streams.c.id == sa.bindparam("id"))
_HORIZON = sa.select(sa.func.min(ddb_stream_records.c.seq)).where(
    ddb_stream_records.c.stream_id == sa.bindparam("sid"),
    ddb_stream_records.c.arrival_ms >= sa.bindparam("cutoff"),
)
_AT_TIME = sa.select(sa.func.min(ddb_stream_records.c.seq)).where(
    ddb_stream_records.c.stream_id == sa.bindparam("sid"),
    ddb_stream_records.c.arrival_ms >= sa.bindparam("at"),
)
_PAGE = (
    sa.select(ddb_stream_records)
    .where(
        ddb_stream_records.c.stream_id == sa.bindparam("sid"),
        ddb_stream_records.c.seq >= sa.bindparam("start"),
        ddb_stream_records.c.arrival_ms >= sa.bindparam("cutoff"),
    )
    .order_by(ddb_stream_records.c.seq)
    .limit(sa.bindparam("limit"))
)


@dataclass(frozen=True)
class Stream:
    id: int
    account: str
    table_name: str
    arn: str
    label: str
    view_type: str
    key_schema: list[dict[str, str]]
    created_ms: int
    disabled_ms: int | None
    last_seq: int

    @property
    def shard_id(self) -> str:
        return shard_id(self.created_ms, self.id)

    @property
    def enabled(self) -> bool:
        return self.disabled_ms is None


def _stream(row: Any, now_ms: int) -> Stream | None:
    if row is None or (row.disabled_ms is not None and now_ms - row.disabled_ms > RETENTION_MS):
        return None
    return Stream(
        row.id,
        row.account,
        row.table_name,
        row.arn,
        row.label,
        row.view_type,
        json.loads(row.key_schema),
        row.created_ms,
        row.disabled_ms,
        row.last_seq,
    )


def find(conn: Connection, arn: str, now_ms: int) -> Stream | None:
    return _stream(conn.execute(_BY_ARN, {"arn": arn}).first(), now_ms)


def find_id(conn: Connection, stream_id: int, now_ms: int) -> Stream | None:
    return _stream(conn.execute(_BY_ID, {"id": stream_id}).first(), now_ms)


def horizon(conn: Connection, stream: Stream, now_ms: int) -> int:
    """The oldest retained sequence counter (``last_seq + 1`` when none is retained)."""
    first = conn.execute(_HORIZON, {"sid": stream.id, "cutoff": now_ms - RETENTION_MS}).scalar()
    return stream.last_seq + 1 if first is None else int(first)


def first_at(conn: Connection, stream: Stream, at_ms: int) -> int:
    """The counter of the first record that arrived at or after ``at_ms``."""
    first = conn.execute(_AT_TIME, {"sid": stream.id, "at": at_ms}).scalar()
    return stream.last_seq + 1 if first is None else int(first)


def page(conn: Connection, stream: Stream, start: int, limit: int, now_ms: int) -> list[Any]:
    """Up to ``limit`` retained record rows from counter ``start`` on, in order."""
    params = {"sid": stream.id, "start": start, "cutoff": now_ms - RETENTION_MS, "limit": limit}
    return list(conn.execute(_PAGE, params))


def lambda_record(stream: Stream, row: Any, region: str) -> dict[str, Any]:
    """A record exactly as Lambda puts it in ``event["Records"]`` (binaries in base64,
    ApproximateCreationDateTime in epoch seconds)."""
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": row.arrival_ms // 1000,
        "Keys": json.loads(row.keys),
    }
    if row.new_image is not None:
        body["NewImage"] = json.loads(row.new_image)
    if row.old_image is not None:
        body["OldImage"] = json.loads(row.old_image)
    body["SequenceNumber"] = format_seq(row.seq)
    body["SizeBytes"] = row.size
    body["StreamViewType"] = stream.view_type
    record: dict[str, Any] = {
        "eventID": row.event_id,
        "eventName": row.event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
        "eventSourceARN": stream.arn,
    }
    if row.identity is not None:
        record["userIdentity"] = json.loads(row.identity)
    return record
