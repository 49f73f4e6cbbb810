"""``DynamoDBStreamSource``: a DynamoDB stream as the event source mapping poller reads it
(``lambda_.mappings.model.StreamSource``).

Each stream has one shard here; it is closed once the stream is disabled (or its table
deleted), and the stream ceases to exist 24 hours later. Records come in Lambda's exact event
shape (``stream_reads.lambda_record``); sequence numbers order by their integer value. Each call
runs in its own short read transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from lambdamaker.services.dynamodb import stream_reads
from lambdamaker.services.dynamodb.streams import format_seq
from lambdamaker.services.lambda_.mappings.model import ShardInfo, StreamRecord

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class DynamoDBStreamSource:
    def __init__(
        self,
        platform: Platform,
        stream_arn: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.platform = platform
        self.stream_arn = stream_arn
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock() * 1000)

    def exists(self) -> bool:
        with self.platform.store.read() as conn:
            return stream_reads.find(conn, self.stream_arn, self._now()) is not None

    def shards(self) -> list[ShardInfo]:
        with self.platform.store.read() as conn:
            stream = stream_reads.find(conn, self.stream_arn, self._now())
        if stream is None:
            return []
        return [ShardInfo(stream.shard_id, (), closed=not stream.enabled)]

    def start_position(self, shard_id: str, position: str, timestamp_ms: int | None) -> str | None:
        now = self._now()
        with self.platform.store.read() as conn:
            stream = stream_reads.find(conn, self.stream_arn, now)
            if stream is None or shard_id != stream.shard_id:
                return None
            oldest = stream_reads.horizon(conn, stream, now)
            if position == "LATEST":
                first = stream.last_seq + 1
            elif position == "AT_TIMESTAMP" and timestamp_ms is not None:
                first = max(oldest, stream_reads.first_at(conn, stream, timestamp_ms))
            else:  # TRIM_HORIZON
                first = oldest
        return None if first <= 1 else format_seq(first - 1)

    def read(self, shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
        now = self._now()
        region = self.platform.config.region
        with self.platform.store.read() as conn:
            stream = stream_reads.find(conn, self.stream_arn, now)
            if stream is None or shard_id != stream.shard_id:
                return []
            start = 1 if after is None else int(after) + 1
            rows = stream_reads.page(conn, stream, start, limit, now)
        out = []
        for row in rows:
            record = stream_reads.lambda_record(stream, row, region)
            out.append(
                StreamRecord(
                    sequence_number=record["dynamodb"]["SequenceNumber"],
                    arrival_ms=row.arrival_ms,
                    record=record,
                    partition_key=json.dumps(record["dynamodb"]["Keys"], sort_keys=True),
                    size=row.size,
                )
            )
        return out

    def order(self, sequence_number: str) -> int:
        return int(sequence_number)
