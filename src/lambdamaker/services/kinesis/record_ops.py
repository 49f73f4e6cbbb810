"""Data plane: PutRecord, PutRecords, GetShardIterator, GetRecords.

Invariants: every 2xx put is committed; puts go through the group committer, so concurrent puts
share one transaction and one fsync, and a PutRecords is all in one transaction. A put takes the
next counter of its shard inside the write transaction, so a shard's sequence numbers are
unique and increase in commit order. Reads never write: iterators carry the position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.kinesis import iterators
from lambdamaker.services.kinesis.common import (
    KinesisBase,
    Shard,
    Stream,
    invalid_argument,
    stream_not_found,
    to_datetime,
)
from lambdamaker.services.kinesis.hashing import (
    MAX_HASH_KEY,
    hash_key,
    parse_sequence_number,
    parse_shard_id,
    sequence_number,
    shard_id,
)
from lambdamaker.services.kinesis.tables import records, shards, streams

MAX_RECORD_BYTES = 1024 * 1024
MAX_PUT_RECORDS_BYTES = 5 * 1024 * 1024
MAX_GET_RECORDS_BYTES = 10 * 1024 * 1024
HOUR_MS = 3600 * 1000

_INSERT = sa.insert(records)
_BUMP = (
    sa.update(shards)
    .where(shards.c.stream_id == sa.bindparam("sid"), shards.c.shard_index == sa.bindparam("idx"))
    .values(next_seq=sa.bindparam("next"))
)
_READ = (
    sa.select(records.c.seq, records.c.partition_key, records.c.data, records.c.arrival_ms)
    .where(
        records.c.stream_id == sa.bindparam("sid"),
        records.c.shard_index == sa.bindparam("idx"),
        records.c.seq >= sa.bindparam("seq"),
        records.c.arrival_ms >= sa.bindparam("cutoff"),
    )
    .order_by(records.c.seq)
    .limit(sa.bindparam("limit"))
)
_STREAM_BY_ID = sa.select(streams.c.retention_hours).where(streams.c.id == sa.bindparam("sid"))


def _record_hash(entry: dict[str, Any]) -> int:
    explicit = entry.get("ExplicitHashKey")
    if explicit is None:
        return hash_key(str(entry["PartitionKey"]))
    text = str(explicit)
    if not text.isdigit() or int(text) > MAX_HASH_KEY:
        raise invalid_argument(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {text}"
        )
    return int(text)


def _entry_size(entry: dict[str, Any], where: str) -> int:
    """Bytes the entry counts for (data plus partition key), after AWS's own size checks. The
    protocol layer checks no blob lengths, so the model's 1 MiB ``Data`` limit is checked here."""
    data = len(bytes(entry["Data"]))
    if data > MAX_RECORD_BYTES:
        raise ServiceError(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_RECORD_BYTES}",
            code="ValidationException",
        )
    size = data + len(str(entry["PartitionKey"]).encode())
    if size > MAX_RECORD_BYTES:
        raise invalid_argument("Record size exceeds 1 MB limit.")
    return size


class RecordOperations(KinesisBase):
    def _put(
        self,
        conn: Connection,
        ctx: RequestContext,
        params: dict[str, Any],
        entries: list[tuple[dict[str, Any], int]],
    ) -> list[dict[str, Any]]:
        stream = self.stream_of(conn, ctx, params)
        open_shards = [s for s in self.shards_of(conn, stream.id) if s.open]
        now = self.now_ms()
        results: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for entry, key in entries:
            shard = next(s for s in open_shards if s.hash_start <= key <= s.hash_end)
            seq = shard.next_seq
            shard.next_seq += 1
            rows.append(
                {
                    "stream_id": stream.id,
                    "shard_index": shard.index,
                    "seq": seq,
                    "partition_key": str(entry["PartitionKey"]),
                    "data": bytes(entry["Data"]),
                    "arrival_ms": now,
                }
            )
            results.append(
                {
                    "ShardId": shard_id(shard.index),
                    "SequenceNumber": sequence_number(shard.index, seq),
                }
            )
        touched = {row["shard_index"] for row in rows}
        conn.execute(
            _BUMP,
            [
                {"sid": stream.id, "idx": s.index, "next": s.next_seq}
                for s in open_shards
                if s.index in touched
            ],
        )
        conn.execute(_INSERT, rows)
        return results

    async def put_record(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _entry_size(params, "data")
        entry = (params, _record_hash(params))

        def work(conn: Connection) -> dict[str, Any]:
            return self._put(conn, ctx, params, [entry])[0]

        result = await self.committer.run_async(work)
        return {**result, "EncryptionType": "NONE"}

    async def put_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        given: list[dict[str, Any]] = list(params["Records"])
        total = 0
        for i, entry in enumerate(given, 1):
            total += _entry_size(entry, f"records.{i}.member.data")
        if total > MAX_PUT_RECORDS_BYTES:
            raise invalid_argument("Records size exceeds 5 MB limit.")
        entries = [(entry, _record_hash(entry)) for entry in given]

        def work(conn: Connection) -> list[dict[str, Any]]:
            return self._put(conn, ctx, params, entries)

        results = await self.committer.run_async(work)
        return {"FailedRecordCount": 0, "Records": results, "EncryptionType": "NONE"}

    def _shard(self, conn: Connection, stream: Stream, text: str) -> Shard:
        index = parse_shard_id(text)
        for shard in self.shards_of(conn, stream.id):
            if shard.index == index:
                return shard
        raise ServiceError(
            f"Shard {text} in stream {stream.name} under account {stream.account} does not exist",
            code="ResourceNotFoundException",
        )

    def get_shard_iterator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = str(params["ShardIteratorType"])
        now = self.now_ms()
        with self.platform.store.read() as conn:
            stream = self.stream_of(conn, ctx, params)
            shard = self._shard(conn, stream, str(params["ShardId"]))
            if kind == "TRIM_HORIZON":
                position = 1
            elif kind == "LATEST":
                position = shard.next_seq
            elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
                position = self._from_sequence(params, kind, shard)
            else:  # AT_TIMESTAMP
                stamp = params.get("Timestamp")
                if not isinstance(stamp, datetime):
                    raise invalid_argument(
                        "Must specify timestampInMillis parameter for iterator of type "
                        "AT_TIMESTAMP. Current request has no timestamp parameter."
                    )
                first = conn.execute(
                    sa.select(sa.func.min(records.c.seq)).where(
                        records.c.stream_id == stream.id,
                        records.c.shard_index == shard.index,
                        records.c.arrival_ms >= int(stamp.timestamp() * 1000),
                    )
                ).scalar()
                position = shard.next_seq if first is None else int(first)
        token = iterators.encode(
            iterators.Position(stream.id, stream.name, shard.index, position, now)
        )
        return {"ShardIterator": token}

    @staticmethod
    def _from_sequence(params: dict[str, Any], kind: str, shard: Shard) -> int:
        text = params.get("StartingSequenceNumber")
        if not text:
            raise invalid_argument(
                f"The StartingSequenceNumber parameter is required for ShardIteratorType {kind}"
            )
        parsed = parse_sequence_number(str(text))
        if parsed is None:
            raise invalid_argument(
                f"StartingSequenceNumber {text} used in GetShardIterator on "
                f"shard {shard_id(shard.index)} is invalid."
            )
        index, counter = parsed
        if index != shard.index:
            raise invalid_argument(
                f"Invalid StartingSequenceNumber. It encodes {shard_id(index)}, while it was "
                f"used in a call to a shard with {shard_id(shard.index)}"
            )
        return counter if kind == "AT_SEQUENCE_NUMBER" else counter + 1

    def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now_ms()
        position = iterators.decode(str(params["ShardIterator"]), now)
        limit = int(params.get("Limit") or 10000)
        with self.platform.store.read() as conn:
            retention = conn.execute(_STREAM_BY_ID, {"sid": position.stream_id}).scalar()
            if retention is None:
                raise stream_not_found(position.stream_name, ctx.account_id)
            all_shards = self.shards_of(conn, position.stream_id)
            shard = next(s for s in all_shards if s.index == position.shard_index)
            cutoff = now - int(retention) * HOUR_MS
            result = conn.execute(
                _READ,
                {
                    "sid": position.stream_id,
                    "idx": shard.index,
                    "seq": position.next_seq,
                    "cutoff": cutoff,
                    "limit": limit + 1,
                },
            )
            # AWS returns at most 10 MiB per call (always at least one record); the first row
            # not returned tells how far behind the reader is.
            page: list[Any] = []
            ahead: list[Any] = []
            size = 0
            for row in result:
                size += len(row.data) + len(row.partition_key.encode())
                if len(page) >= limit or (page and size > MAX_GET_RECORDS_BYTES):
                    ahead.append(row)
                    break
                page.append(row)
            result.close()
        next_seq = page[-1].seq + 1 if page else position.next_seq
        out: dict[str, Any] = {
            "Records": [
                {
                    "SequenceNumber": sequence_number(shard.index, row.seq),
                    "ApproximateArrivalTimestamp": to_datetime(row.arrival_ms),
                    "Data": row.data,
                    "PartitionKey": row.partition_key,
                }
                for row in page
            ],
            "MillisBehindLatest": max(0, now - ahead[0].arrival_ms) if ahead else 0,
        }
        if shard.ending_seq is not None and next_seq > shard.ending_seq:
            out["ChildShards"] = [
                {
                    "ShardId": shard_id(child.index),
                    "ParentShards": [
                        shard_id(i)
                        for i in (child.parent_index, child.adjacent_parent_index)
                        if i is not None
                    ],
                    "HashKeyRange": child.describe()["HashKeyRange"],
                }
                for child in all_shards
                if shard.index in (child.parent_index, child.adjacent_parent_index)
            ]
        else:
            out["NextShardIterator"] = iterators.encode(
                iterators.Position(
                    position.stream_id, position.stream_name, shard.index, next_seq, now
                )
            )
        return out
