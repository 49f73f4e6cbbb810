"""``DynamoDBStreamsProvider``: ListStreams, DescribeStream, GetShardIterator, GetRecords.

Each stream has one shard here (``services/dynamodb/streams``). Records older than 24 hours are
trimmed; a stream disabled (or whose table was deleted) more than 24 hours ago is gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.dynamodb import stream_reads
from lambdamaker.services.dynamodb.stream_reads import Stream
from lambdamaker.services.dynamodb.stream_tables import ddb_streams
from lambdamaker.services.dynamodb.streams import RETENTION_MS, format_seq
from lambdamaker.services.dynamodb.values import loads
from lambdamaker.services.dynamodbstreams import iterators

_LIST = (
    sa.select(ddb_streams.c.arn, ddb_streams.c.table_name, ddb_streams.c.label)
    .where(ddb_streams.c.account == sa.bindparam("account"))
    .where(ddb_streams.c.id > sa.bindparam("after"))
    .where(
        sa.or_(
            ddb_streams.c.disabled_ms.is_(None),
            ddb_streams.c.disabled_ms >= sa.bindparam("cutoff"),
        )
    )
    .order_by(ddb_streams.c.id)
)


def _validation(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationException")


def _stream_not_found(arn: str) -> ServiceError:
    return ServiceError(
        f"Requested resource not found: Stream: {arn} not found",
        code="ResourceNotFoundException",
    )


def _trimmed() -> ServiceError:
    return ServiceError(
        "The operation attempted to read past the oldest stream record in a shard.",
        code="TrimmedDataAccessException",
    )


def _limit(params: dict[str, Any], default: int, most: int) -> int:
    limit = int(params.get("Limit", default))
    if limit > most:
        raise _validation(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            f"constraint: Member must have value less than or equal to {most}"
        )
    return limit


class DynamoDBStreamsProvider(Provider):
    service = "dynamodbstreams"
    # The tables are the ``dynamodb-streams`` component of DynamoDBProvider.migrations.

    clock: Callable[[], float] = staticmethod(time.time)
    """Seconds since the epoch; tests replace it on the instance."""

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _get(self, conn: Any, ctx: RequestContext, arn: str) -> Stream:
        stream = stream_reads.find(conn, arn, self.now_ms())
        if stream is None or stream.account != ctx.account_id:
            raise _stream_not_found(arn)
        return stream

    def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = _limit(params, 100, 100)
        query = _LIST
        if params.get("TableName"):
            query = query.where(ddb_streams.c.table_name == params["TableName"])
        with self.platform.store.read() as conn:
            after = 0
            if params.get("ExclusiveStartStreamArn"):
                start = stream_reads.find(conn, params["ExclusiveStartStreamArn"], 0)
                if start is None:
                    raise _stream_not_found(params["ExclusiveStartStreamArn"])
                after = start.id
            rows = list(
                conn.execute(
                    query.limit(limit + 1),
                    {
                        "account": ctx.account_id,
                        "after": after,
                        "cutoff": self.now_ms() - RETENTION_MS,
                    },
                )
            )
        out: dict[str, Any] = {
            "Streams": [
                {"StreamArn": r.arn, "TableName": r.table_name, "StreamLabel": r.label}
                for r in rows[:limit]
            ]
        }
        if len(rows) > limit:
            out["LastEvaluatedStreamArn"] = rows[limit - 1].arn
        return out

    def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _limit(params, 100, 100)
        with self.platform.store.read() as conn:
            stream = self._get(conn, ctx, params["StreamArn"])
        shard: dict[str, Any] = {
            "ShardId": stream.shard_id,
            "SequenceNumberRange": {"StartingSequenceNumber": format_seq(1)},
        }
        if not stream.enabled:
            shard["SequenceNumberRange"]["EndingSequenceNumber"] = format_seq(
                max(stream.last_seq, 1)
            )
        shards = [] if params.get("ExclusiveStartShardId") == stream.shard_id else [shard]
        return {
            "StreamDescription": {
                "StreamArn": stream.arn,
                "StreamLabel": stream.label,
                "StreamStatus": "ENABLED" if stream.enabled else "DISABLED",
                "StreamViewType": stream.view_type,
                "CreationRequestDateTime": datetime.fromtimestamp(stream.created_ms / 1000, UTC),
                "TableName": stream.table_name,
                "KeySchema": stream.key_schema,
                "Shards": shards,
            }
        }

    def get_shard_iterator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = params["ShardIteratorType"]
        now = self.now_ms()
        with self.platform.store.read() as conn:
            stream = self._get(conn, ctx, params["StreamArn"])
            if params["ShardId"] != stream.shard_id:
                raise ServiceError(
                    "Requested resource not found: Shard does not exist",
                    code="ResourceNotFoundException",
                )
            oldest = stream_reads.horizon(conn, stream, now)
            if kind == "TRIM_HORIZON":
                start = oldest
            elif kind == "LATEST":
                start = stream.last_seq + 1
            elif kind == "AT_TIMESTAMP":
                at = params.get("Timestamp")
                if at is None:
                    raise _validation("Must specify a Timestamp for iterator type AT_TIMESTAMP")
                at_ms = int(at.timestamp() * 1000)
                if at_ms > now:
                    raise _validation("The timestamp must not be in the future.")
                start = max(oldest, stream_reads.first_at(conn, stream, at_ms))
            else:
                start = self._at_sequence(params, kind, stream, oldest)
        token = iterators.encode(iterators.Position(stream.id, stream.arn, start, now))
        return {"ShardIterator": token}

    @staticmethod
    def _at_sequence(params: dict[str, Any], kind: str, stream: Stream, oldest: int) -> int:
        text = params.get("SequenceNumber")
        if text is None:
            raise _validation(f"Must specify a sequence number for iterator type {kind}")
        if not text.isdigit():
            raise _validation(f"Invalid SequenceNumber: {text}")
        seq = int(text)
        if seq < 1 or seq > stream.last_seq:
            raise _validation(
                f"Invalid SequenceNumber: {text} is not a sequence number of shard "
                f"{stream.shard_id}"
            )
        start = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
        if start < oldest:
            raise _trimmed()
        return start

    def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = _limit(params, 1000, 1000)
        now = self.now_ms()
        position = iterators.decode(params["ShardIterator"], now)
        region = self.platform.config.region
        with self.platform.store.read() as conn:
            stream = stream_reads.find_id(conn, position.stream_id, now)
            if stream is None or stream.arn != position.arn or stream.account != ctx.account_id:
                raise _stream_not_found(position.arn)
            if position.next_seq < stream_reads.horizon(conn, stream, now):
                raise _trimmed()
            rows = stream_reads.page(conn, stream, position.next_seq, limit, now)
        records = [_api_record(stream_reads.lambda_record(stream, r, region)) for r in rows]
        next_seq = rows[-1].seq + 1 if rows else position.next_seq
        out: dict[str, Any] = {"Records": records}
        if stream.enabled or next_seq <= stream.last_seq:
            out["NextShardIterator"] = iterators.encode(
                iterators.Position(stream.id, stream.arn, next_seq, now)
            )
        return out


def _api_record(record: dict[str, Any]) -> dict[str, Any]:
    """Lambda's record shape as the GetRecords API returns it: typed values with bytes, a
    timestamp, ``userIdentity`` capitalized, no ``eventSourceARN``."""
    body = dict(record["dynamodb"])
    body["ApproximateCreationDateTime"] = datetime.fromtimestamp(
        body["ApproximateCreationDateTime"], UTC
    )
    for name in ("Keys", "NewImage", "OldImage"):
        if name in body:
            body[name] = _typed(body[name])
    out = {k: v for k, v in record.items() if k not in ("eventSourceARN", "userIdentity")}
    out["dynamodb"] = body
    if "userIdentity" in record:
        who = record["userIdentity"]
        out["userIdentity"] = {"PrincipalId": who["principalId"], "Type": who["type"]}
    return out


def _typed(image: dict[str, Any]) -> dict[str, Any]:
    return loads(json.dumps(image))
