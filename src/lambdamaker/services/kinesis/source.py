"""``KinesisSource``: a Kinesis stream as the event source mappings' stream poller reads it
(``lambda_.mappings.model.StreamSource``).

Invariants:

- Every read is its own short read transaction on the kinesis tables; nothing is written.
  Once the stream is bound, a read is one statement straight to the driver
  (``store.raw.RawStatement``) whose retention cutoff is a subquery on the stream row, so the
  same statement checks that the stream still exists and applies its retention (as the
  two-statement read does in one snapshot); an empty answer says nothing more, and
  ``exists()`` tells a deleted stream from an idle one. (Not ``Store.point_reader``: shard
  workers are threads that come and go, and a point reader lives until the store closes.)
- The source is bound to the stream row that exists when it is first read: a stream deleted
  (even if re-created with the same name) makes ``exists()`` False for good, so a mapping never
  reads another stream's records.
- Records older than the stream's retention period are never returned (as GetRecords).
- ``record`` is the record exactly as Lambda puts it in ``event["Records"]``; its
  ``invokeIdentityArn`` is ``identity_arn``, which the poller sets to the function's role.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lambdamaker.services.kinesis.hashing import (
    parse_sequence_number,
    parse_shard_id,
    sequence_number,
    shard_id,
)
from lambdamaker.services.kinesis.tables import records, shards, streams
from lambdamaker.services.lambda_.mappings.model import ShardInfo, StreamRecord
from lambdamaker.store.raw import RawStatement

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

HOUR_MS = 3600 * 1000

_STREAM = sa.select(streams.c.id, streams.c.retention_hours).where(
    streams.c.account == sa.bindparam("account"), streams.c.name == sa.bindparam("name")
)
_STREAM_BY_ID = sa.select(streams.c.retention_hours).where(streams.c.id == sa.bindparam("sid"))
_SHARDS = (
    sa.select(
        shards.c.shard_index,
        shards.c.parent_index,
        shards.c.adjacent_parent_index,
        shards.c.next_seq,
        shards.c.ending_seq,
    )
    .where(shards.c.stream_id == sa.bindparam("sid"))
    .order_by(shards.c.shard_index)
)
_NEXT_SEQ = sa.select(shards.c.next_seq).where(
    shards.c.stream_id == sa.bindparam("sid"), shards.c.shard_index == sa.bindparam("idx")
)
_FIRST_AT = sa.select(sa.func.min(records.c.seq)).where(
    records.c.stream_id == sa.bindparam("sid"),
    records.c.shard_index == sa.bindparam("idx"),
    records.c.arrival_ms >= sa.bindparam("ts"),
)
_READ = (
    sa.select(records.c.seq, records.c.partition_key, records.c.data, records.c.arrival_ms)
    .where(
        records.c.stream_id == sa.bindparam("sid"),
        records.c.shard_index == sa.bindparam("idx"),
        records.c.seq > sa.bindparam("after"),
        records.c.arrival_ms >= sa.bindparam("cutoff"),
    )
    .order_by(records.c.seq)
    .limit(sa.bindparam("limit"))
)
_RETENTION_MS = (
    sa.select(streams.c.retention_hours * HOUR_MS)
    .where(streams.c.id == sa.bindparam("sid"))
    .scalar_subquery()
)
_READ_BOUND = RawStatement(
    sa.select(records.c.seq, records.c.partition_key, records.c.data, records.c.arrival_ms)
    .where(
        records.c.stream_id == sa.bindparam("sid"),
        records.c.shard_index == sa.bindparam("idx"),
        records.c.seq > sa.bindparam("after"),
        # NULL (no record) once the stream row is gone; retention_hours is NOT NULL.
        records.c.arrival_ms >= sa.bindparam("now") - _RETENTION_MS,
    )
    .order_by(records.c.seq)
    .limit(sa.bindparam("limit"))
)
"""``_READ`` for a bound stream, with its existence and retention in the same statement."""


class KinesisSource:
    def __init__(self, platform: Platform, stream_arn: str) -> None:
        parts = stream_arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
            raise ValueError(f"not a Kinesis stream ARN: {stream_arn}")
        self.platform = platform
        self.stream_arn = stream_arn
        self.region = parts[3]
        self.account = parts[4]
        self.name = parts[5].removeprefix("stream/")
        self.identity_arn = ""
        """The mapped function's execution role (``invokeIdentityArn``), set by the poller."""
        self._stream_id: int | None = None
        self._gone = False

    # --- helpers ---------------------------------------------------------------------------

    def _now_ms(self) -> int:
        provider: Any = self.platform.providers.get("kinesis")
        clock = getattr(provider, "clock", None)
        return int((clock() if clock is not None else time.time()) * 1000)

    def _sid(self, conn: sa.Connection) -> int | None:
        """The bound stream's row id, binding it on first use; None once it is gone."""
        bound = self._bind(conn)
        return None if bound is None else bound[0]

    def _bind(self, conn: sa.Connection) -> tuple[int, int] | None:
        """The bound stream's row id and retention hours (one statement once bound: a read
        pays for the existence check and the retention together); None once it is gone."""
        if self._gone:
            return None
        if self._stream_id is None:
            row = conn.execute(_STREAM, {"account": self.account, "name": self.name}).first()
            if row is None:
                return None
            self._stream_id = int(row.id)
            return self._stream_id, int(row.retention_hours or 24)
        retention = conn.execute(_STREAM_BY_ID, {"sid": self._stream_id}).first()
        if retention is None:
            self._gone = True
            return None
        return self._stream_id, int(retention.retention_hours or 24)

    # --- StreamSource ----------------------------------------------------------------------

    def exists(self) -> bool:
        with self.platform.store.read() as conn:
            return self._sid(conn) is not None

    def shards(self) -> list[ShardInfo]:
        with self.platform.store.read() as conn:
            sid = self._sid(conn)
            if sid is None:
                return []
            rows = conn.execute(_SHARDS, {"sid": sid}).all()
        return [
            ShardInfo(
                shard_id=shard_id(row.shard_index),
                parent_ids=tuple(
                    shard_id(i)
                    for i in (row.parent_index, row.adjacent_parent_index)
                    if i is not None
                ),
                closed=row.ending_seq is not None,
            )
            for row in rows
        ]

    def start_position(self, shard: str, position: str, timestamp_ms: int | None) -> str | None:
        index = parse_shard_id(shard)
        if position == "TRIM_HORIZON" or index is None:
            return None
        with self.platform.store.read() as conn:
            sid = self._sid(conn)
            if sid is None:
                return None
            next_seq = conn.execute(_NEXT_SEQ, {"sid": sid, "idx": index}).scalar()
            if next_seq is None:
                return None
            last = int(next_seq) - 1  # the counter of the shard's newest record (0: none yet)
            if position == "AT_TIMESTAMP" and timestamp_ms is not None:
                first = conn.execute(
                    _FIRST_AT, {"sid": sid, "idx": index, "ts": timestamp_ms}
                ).scalar()
                last = last if first is None else int(first) - 1
        return sequence_number(index, last) if last >= 1 else None

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]:
        index = parse_shard_id(shard)
        if index is None:
            return []
        after_counter = 0 if after is None else self.order(after)
        if self._stream_id is not None and not self._gone:
            params = {
                "sid": self._stream_id,
                "idx": index,
                "after": after_counter,
                "now": self._now_ms(),
                "limit": limit,
            }
            with self.platform.store.read() as conn:
                rows = _READ_BOUND.execute(conn, params).fetchall()
            return self._records(shard, index, rows)
        with self.platform.store.read() as conn:
            bound = self._bind(conn)
            if bound is None:
                return []
            sid, retention = bound
            cutoff = self._now_ms() - retention * HOUR_MS
            rows = conn.execute(
                _READ,
                {
                    "sid": sid,
                    "idx": index,
                    "after": after_counter,
                    "cutoff": cutoff,
                    "limit": limit,
                },
            ).all()
        return self._records(shard, index, rows)

    def _records(self, shard: str, index: int, rows: Iterable[Any]) -> list[StreamRecord]:
        # Per record only what differs between records (this loop runs for every record a
        # mapping delivers): sequence numbers from the shard's base, base64 straight from
        # binascii, the rows unpacked as tuples, and StreamRecord built positionally.
        first = int(sequence_number(index, 0))
        identity, region, arn = self.identity_arn, self.region, self.stream_arn
        prefix = f"{shard}:"
        b64 = binascii.b2a_base64
        out = []
        for counter, key, blob, arrival_ms in rows:
            seq = str(first + counter)
            data = blob if type(blob) is bytes else bytes(blob)
            out.append(
                StreamRecord(
                    seq,
                    int(arrival_ms),
                    {
                        "kinesis": {
                            "kinesisSchemaVersion": "1.0",
                            "partitionKey": key,
                            "sequenceNumber": seq,
                            "data": b64(data, newline=False).decode("ascii"),
                            "approximateArrivalTimestamp": arrival_ms / 1000,
                        },
                        "eventSource": "aws:kinesis",
                        "eventVersion": "1.0",
                        "eventID": prefix + seq,
                        "eventName": "aws:kinesis:record",
                        "invokeIdentityArn": identity,
                        "awsRegion": region,
                        "eventSourceARN": arn,
                    },
                    key,
                    len(data) + (len(key) if key.isascii() else len(key.encode())),
                )
            )
        return out

    def order(self, sequence_number: str) -> int:
        parsed = parse_sequence_number(sequence_number)
        return 0 if parsed is None else parsed[1]
