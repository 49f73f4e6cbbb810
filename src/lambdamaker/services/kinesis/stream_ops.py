"""Stream control plane: Create/Delete/Describe(Summary)/ListStreams, ListShards, retention and
UpdateShardCount.

Invariants: every change is one write transaction; a stream is ACTIVE once CreateStream or
UpdateShardCount returns (no CREATING/UPDATING phase). UpdateShardCount closes every open shard
(its ``ending_seq`` becomes its last counter) and opens the target number of children that split
the hash range evenly; a child's parent is the closed shard holding its starting hash key and
its adjacent parent the next closed shard its range overlaps, if any.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.kinesis.common import (
    KinesisBase,
    Shard,
    Stream,
    invalid_argument,
)
from lambdamaker.services.kinesis.hashing import even_ranges, key_text, parse_shard_id
from lambdamaker.services.kinesis.tables import records, shards, streams
from lambdamaker.services.kinesis.tag_ops import check_tags
from lambdamaker.services.tokens import decode_token, encode_token

ON_DEMAND_SHARDS = 4
MAX_SHARDS = 500
"""AWS's default shard quota per account in the big regions; here per stream."""
MIN_RETENTION, MAX_RETENTION = 24, 8760


def _untoken(token: str, count: int) -> list[Any]:
    data = decode_token(token, count)
    if data is None:
        raise invalid_argument(f"Invalid NextToken: {token}")
    return data


def _open_shards(
    conn: Connection,
    stream: Stream,
    ranges: list[tuple[int, int]],
    parents: list[tuple[int | None, int | None]],
    now: int,
) -> None:
    conn.execute(
        sa.insert(shards),
        [
            {
                "stream_id": stream.id,
                "shard_index": stream.next_shard_index + i,
                "hash_start": key_text(start),
                "hash_end": key_text(end),
                "parent_index": parent,
                "adjacent_parent_index": adjacent,
                "next_seq": 1,
                "ending_seq": None,
                "created_ms": now,
            }
            for i, ((start, end), (parent, adjacent)) in enumerate(
                zip(ranges, parents, strict=True)
            )
        ],
    )
    conn.execute(
        sa.update(streams)
        .where(streams.c.id == stream.id)
        .values(next_shard_index=stream.next_shard_index + len(ranges))
    )


class StreamOperations(KinesisBase):
    def create_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params["StreamName"])
        mode = (params.get("StreamModeDetails") or {}).get("StreamMode", "PROVISIONED")
        count = params.get("ShardCount")
        if mode == "ON_DEMAND":
            if count is not None:
                raise ServiceError(
                    "ShardCount is not supported for streams in ON_DEMAND mode.",
                    code="ValidationException",
                )
            count = ON_DEMAND_SHARDS
        elif count is None:
            raise invalid_argument("ShardCount is required for streams in PROVISIONED mode.")
        count = int(count)
        if count > MAX_SHARDS:
            raise ServiceError(
                f"This request would exceed the shard limit for the account {ctx.account_id} "
                f"in {self.platform.config.region}. Current limit of shards is {MAX_SHARDS}.",
                code="LimitExceededException",
            )
        now = self.now_ms()
        with self.platform.store.begin() as conn:
            if self.find_stream(conn, ctx.account_id, name) is not None:
                raise ServiceError(
                    f"Stream {name} under account {ctx.account_id} already exists.",
                    code="ResourceInUseException",
                )
            inserted = conn.execute(
                sa.insert(streams).values(
                    account=ctx.account_id,
                    name=name,
                    mode=mode,
                    retention_hours=MIN_RETENTION,
                    next_shard_index=0,
                    created_ms=now,
                    tags=json.dumps(check_tags({}, dict(params.get("Tags") or {}))),
                )
            ).inserted_primary_key
            assert inserted is not None
            stream = Stream(int(inserted[0]), ctx.account_id, name, mode, MIN_RETENTION, 0, now)
            _open_shards(conn, stream, even_ranges(count), [(None, None)] * count, now)
        return {}

    def delete_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            stream = self.stream_of(conn, ctx, params)
            conn.execute(sa.delete(records).where(records.c.stream_id == stream.id))
            conn.execute(sa.delete(shards).where(shards.c.stream_id == stream.id))
            conn.execute(sa.delete(streams).where(streams.c.id == stream.id))
        return {}

    def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("Limit") or 100)
        start = params.get("ExclusiveStartShardId")
        with self.platform.store.read() as conn:
            stream = self.stream_of(conn, ctx, params)
            all_shards = self.shards_of(conn, stream.id)
        if start:
            after = parse_shard_id(str(start))
            all_shards = [s for s in all_shards if after is None or s.index > after]
        page = all_shards[:limit]
        summary = self.summary(stream)
        return {
            "StreamDescription": {
                **{k: v for k, v in summary.items() if k != "StreamCreationTimestamp"},
                "Shards": [s.describe() for s in page],
                "HasMoreShards": len(all_shards) > limit,
                "RetentionPeriodHours": stream.retention_hours,
                "StreamCreationTimestamp": summary["StreamCreationTimestamp"],
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
            }
        }

    def describe_stream_summary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            stream = self.stream_of(conn, ctx, params)
            open_count = sum(1 for s in self.shards_of(conn, stream.id) if s.open)
        return {
            "StreamDescriptionSummary": {
                **self.summary(stream),
                "RetentionPeriodHours": stream.retention_hours,
                "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
                "EncryptionType": "NONE",
                "OpenShardCount": open_count,
                "ConsumerCount": 0,
            }
        }

    def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("Limit") or 100)
        after = params.get("ExclusiveStartStreamName")
        if params.get("NextToken"):
            after = str(_untoken(str(params["NextToken"]), 1)[0])
        query = sa.select(streams).where(streams.c.account == ctx.account_id)
        if after:
            query = query.where(streams.c.name > after)
        query = query.order_by(streams.c.name).limit(limit + 1)
        with self.platform.store.read() as conn:
            rows = conn.execute(query).all()
        page = rows[:limit]
        found = [
            Stream(
                r.id, r.account, r.name, r.mode, r.retention_hours, r.next_shard_index, r.created_ms
            )
            for r in page
        ]
        out: dict[str, Any] = {
            "StreamNames": [s.name for s in found],
            "HasMoreStreams": len(rows) > limit,
            "StreamSummaries": [self.summary(s) for s in found],
        }
        if len(rows) > limit:
            out["NextToken"] = encode_token(found[-1].name)
        return out

    def list_shards(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("MaxResults") or 1000)
        after: int | None = None
        token = params.get("NextToken")
        if token:
            if params.get("StreamName") or params.get("StreamARN"):
                raise invalid_argument("NextToken and StreamName cannot be provided together.")
            account, name, after = _untoken(str(token), 3)
            params = {"StreamARN": f"arn:aws:kinesis:x:{account}:stream/{name}"}
        elif params.get("ExclusiveStartShardId"):
            after = parse_shard_id(str(params["ExclusiveStartShardId"]))
        shard_filter = params.get("ShardFilter") or {}
        with self.platform.store.read() as conn:
            stream = self.stream_of(conn, ctx, params)
            found = self.shards_of(conn, stream.id)
        kind = shard_filter.get("Type")
        if kind == "AT_LATEST":
            found = [s for s in found if s.open]
        elif kind == "AFTER_SHARD_ID":
            start = parse_shard_id(str(shard_filter.get("ShardId", "")))
            found = [s for s in found if start is None or s.index > start]
        if after is not None:
            found = [s for s in found if s.index > int(after)]
        page = found[:limit]
        out: dict[str, Any] = {"Shards": [s.describe() for s in page]}
        if len(found) > limit:
            out["NextToken"] = encode_token(stream.account, stream.name, page[-1].index)
        return out

    def _set_retention(self, ctx: RequestContext, params: dict[str, Any], increase: bool) -> None:
        hours = int(params["RetentionPeriodHours"])
        if hours < MIN_RETENTION:
            raise invalid_argument(
                f"Minimum allowed retention period is {MIN_RETENTION} hours. Requested "
                f"retention period ({hours} hours) is too short."
            )
        if hours > MAX_RETENTION:
            raise invalid_argument(
                f"Maximum allowed retention period is {MAX_RETENTION} hours. Requested "
                f"retention period ({hours} hours) is too long."
            )
        with self.platform.store.begin() as conn:
            stream = self.stream_of(conn, ctx, params)
            current = stream.retention_hours
            if increase and hours < current:
                raise invalid_argument(
                    f"Requested retention period ({hours} hours) for stream {stream.name} can "
                    f"not be shorter than existing retention period ({current} hours). Use "
                    "DecreaseRetentionPeriod API."
                )
            if not increase and hours > current:
                raise invalid_argument(
                    f"Requested retention period ({hours} hours) for stream {stream.name} can "
                    f"not be longer than existing retention period ({current} hours). Use "
                    "IncreaseRetentionPeriod API."
                )
            conn.execute(
                sa.update(streams).where(streams.c.id == stream.id).values(retention_hours=hours)
            )

    def increase_stream_retention_period(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self._set_retention(ctx, params, increase=True)
        return {}

    def decrease_stream_retention_period(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self._set_retention(ctx, params, increase=False)
        return {}

    def update_shard_count(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        target = int(params["TargetShardCount"])
        now = self.now_ms()
        with self.platform.store.begin() as conn:
            stream = self.stream_of(conn, ctx, params)
            if stream.mode == "ON_DEMAND":
                raise ServiceError(
                    f"UpdateShardCount is not supported for stream {stream.name} under account "
                    f"{stream.account} in On-Demand mode.",
                    code="ValidationException",
                )
            parents = [s for s in self.shards_of(conn, stream.id) if s.open]
            current = len(parents)
            if target > 2 * current:
                raise ServiceError(
                    "UpdateShardCount cannot scale up over double your current open shard "
                    f"count. Current open shard count: {current} Target shard count: {target}",
                    code="LimitExceededException",
                )
            if 2 * target < current:
                raise ServiceError(
                    "UpdateShardCount cannot scale down below half your current open shard "
                    f"count. Current open shard count: {current} Target shard count: {target}",
                    code="LimitExceededException",
                )
            if target > MAX_SHARDS:
                raise ServiceError(
                    f"Target shard count {target} exceeds the shard limit of {MAX_SHARDS}.",
                    code="LimitExceededException",
                )
            if target != current:
                self._reshard(conn, stream, parents, target, now)
        return {
            "StreamName": stream.name,
            "StreamARN": self.stream_arn(stream),
            "CurrentShardCount": current,
            "TargetShardCount": target,
        }

    @staticmethod
    def _reshard(
        conn: Connection, stream: Stream, parents: list[Shard], target: int, now: int
    ) -> None:
        for shard in parents:
            conn.execute(
                sa.update(shards)
                .where(shards.c.stream_id == stream.id, shards.c.shard_index == shard.index)
                .values(ending_seq=shard.next_seq - 1)
            )
        ranges = even_ranges(target)
        lineage: list[tuple[int | None, int | None]] = []
        for start, end in ranges:
            overlapping = [p.index for p in parents if p.hash_start <= end and p.hash_end >= start]
            lineage.append((overlapping[0], overlapping[1] if len(overlapping) > 1 else None))
        _open_shards(conn, stream, ranges, lineage, now)
