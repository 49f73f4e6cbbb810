"""What the Kinesis operation groups share: the clock, stream and shard lookup, errors, ARNs.

A stream is named by ``StreamName`` or ``StreamARN`` (``arn:aws:kinesis:<region>:<account>:
stream/<name>``); either resolves to the same row. Streams are ACTIVE as soon as CreateStream
returns (AWS passes through CREATING for a few seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.kinesis.hashing import sequence_number, shard_id
from lambdamaker.services.kinesis.tables import shards, streams
from lambdamaker.store.group_commit import GroupCommitter

_BY_NAME = sa.select(streams).where(
    streams.c.account == sa.bindparam("account"), streams.c.name == sa.bindparam("name")
)
_SHARDS = (
    sa.select(shards)
    .where(shards.c.stream_id == sa.bindparam("stream_id"))
    .order_by(shards.c.shard_index)
)


@dataclass
class Stream:
    id: int
    account: str
    name: str
    mode: str
    retention_hours: int
    next_shard_index: int
    created_ms: int


@dataclass
class Shard:
    index: int
    hash_start: int
    hash_end: int
    parent_index: int | None
    adjacent_parent_index: int | None
    next_seq: int
    ending_seq: int | None

    @property
    def open(self) -> bool:
        return self.ending_seq is None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ShardId": shard_id(self.index)}
        if self.parent_index is not None:
            out["ParentShardId"] = shard_id(self.parent_index)
        if self.adjacent_parent_index is not None:
            out["AdjacentParentShardId"] = shard_id(self.adjacent_parent_index)
        out["HashKeyRange"] = {
            "StartingHashKey": str(self.hash_start),
            "EndingHashKey": str(self.hash_end),
        }
        seq_range = {"StartingSequenceNumber": sequence_number(self.index, 0)}
        if self.ending_seq is not None:
            seq_range["EndingSequenceNumber"] = sequence_number(self.index, self.ending_seq)
        out["SequenceNumberRange"] = seq_range
        return out


def invalid_argument(message: str) -> ServiceError:
    return ServiceError(message, code="InvalidArgumentException")


def stream_not_found(name: str, account: str) -> ServiceError:
    return ServiceError(
        f"Stream {name} under account {account} not found.", code="ResourceNotFoundException"
    )


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class KinesisBase(Provider):
    service = "kinesis"
    committer: GroupCommitter
    """Puts share transactions (and fsyncs) across concurrent requests."""

    clock: Callable[[], float] = staticmethod(time.time)
    """Seconds since the epoch; tests replace it on the instance to move time."""

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def stream_arn(self, stream: Stream) -> str:
        return (
            f"arn:aws:kinesis:{self.platform.config.region}:{stream.account}:stream/{stream.name}"
        )

    @staticmethod
    def stream_name(ctx: RequestContext, params: dict[str, Any]) -> tuple[str, str]:
        """(account, name) that ``StreamName`` or ``StreamARN`` designate."""
        name = params.get("StreamName")
        arn = params.get("StreamARN")
        if arn:
            parts = str(arn).split(":", 5)
            if len(parts) != 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
                raise invalid_argument(f"Invalid StreamARN: {arn}")
            arn_name = parts[5].removeprefix("stream/")
            if name and name != arn_name:
                raise invalid_argument("StreamName and StreamARN do not match.")
            return parts[4], arn_name
        if not name:
            raise ServiceError(
                "Either StreamName or StreamARN should be provided.", code="ValidationException"
            )
        return ctx.account_id, str(name)

    @staticmethod
    def find_stream(conn: Connection, account: str, name: str) -> Stream | None:
        row = conn.execute(_BY_NAME, {"account": account, "name": name}).first()
        if row is None:
            return None
        return Stream(
            id=row.id,
            account=row.account,
            name=row.name,
            mode=row.mode,
            retention_hours=row.retention_hours,
            next_shard_index=row.next_shard_index,
            created_ms=row.created_ms,
        )

    def stream_of(self, conn: Connection, ctx: RequestContext, params: dict[str, Any]) -> Stream:
        account, name = self.stream_name(ctx, params)
        stream = self.find_stream(conn, account, name)
        if stream is None:
            raise stream_not_found(name, account)
        return stream

    @staticmethod
    def shards_of(conn: Connection, stream_id: int) -> list[Shard]:
        return [
            Shard(
                index=row.shard_index,
                hash_start=int(row.hash_start),
                hash_end=int(row.hash_end),
                parent_index=row.parent_index,
                adjacent_parent_index=row.adjacent_parent_index,
                next_seq=row.next_seq,
                ending_seq=row.ending_seq,
            )
            for row in conn.execute(_SHARDS, {"stream_id": stream_id})
        ]

    def summary(self, stream: Stream) -> dict[str, Any]:
        return {
            "StreamName": stream.name,
            "StreamARN": self.stream_arn(stream),
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": stream.mode},
            "StreamCreationTimestamp": to_datetime(stream.created_ms),
        }
