"""DynamoDB Streams in-process on a fake clock (iterator expiry, 24-hour trimming, a disabled
stream's end), TTL deletions' userIdentity, and ``DynamoDBStreamSource`` giving Lambda's exact
record shape; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.dynamodb import DynamoDBProvider, item_store, stream_reads
from lambdamaker.services.dynamodb.common import item_key
from lambdamaker.services.dynamodb.stream_source import DynamoDBStreamSource
from lambdamaker.services.dynamodbstreams import DynamoDBStreamsProvider
from lambdamaker.services.lambda_.mappings.model import StreamSource
from lambdamaker.testing import FakeClock
from lambdamaker.testing.inprocess import call_operation

DAY = 24 * 3600


class Api:
    """Calls a provider as the gateway would, with the clock under the test's control."""

    def __init__(self, platform: Platform, clock: FakeClock) -> None:
        self.platform = platform
        ddb = platform.providers["dynamodb"]
        streams = platform.providers["dynamodbstreams"]
        assert isinstance(ddb, DynamoDBProvider)
        assert isinstance(streams, DynamoDBStreamsProvider)
        ddb.clock = clock
        streams.clock = clock
        self.ddb, self.streams = ddb, streams

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        service = "dynamodbstreams" if operation in _STREAM_OPS else "dynamodb"
        return call_operation(self.platform, service, operation, endpoint_url="", **params)

    def table(self, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
        out = self(
            "CreateTable",
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        )
        return str(out["TableDescription"]["LatestStreamArn"])

    def iterator(self, arn: str, kind: str = "TRIM_HORIZON", **extra: Any) -> str:
        shard = self("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"][0]
        out = self(
            "GetShardIterator",
            StreamArn=arn,
            ShardId=shard["ShardId"],
            ShardIteratorType=kind,
            **extra,
        )
        return str(out["ShardIterator"])


_STREAM_OPS = {"ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"}


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def api(tmp_path: Path, store_url: str, clock: FakeClock) -> Iterator[Api]:
    config = PlatformConfig(data_dir=tmp_path / "data", store_url=store_url)
    with Platform(config, services=["dynamodb", "dynamodbstreams"]) as platform:
        yield Api(platform, clock)


def _code(err: pytest.ExceptionInfo[ServiceError]) -> str:
    return str(err.value.code)


def test_iterator_expires_after_fifteen_minutes(api: Api, clock: FakeClock) -> None:
    arn = api.table("t")
    it = api.iterator(arn)
    clock.now += 15 * 60
    assert api("GetRecords", ShardIterator=it)["Records"] == []
    clock.now += 1
    with pytest.raises(ServiceError) as err:
        api("GetRecords", ShardIterator=it)
    assert _code(err) == "ExpiredIteratorException"


def test_records_older_than_a_day_are_trimmed(api: Api, clock: FakeClock) -> None:
    arn = api.table("t")
    api("PutItem", TableName="t", Item={"id": {"S": "a"}})
    seq = api("GetRecords", ShardIterator=api.iterator(arn))["Records"][0]["dynamodb"][
        "SequenceNumber"
    ]
    clock.now += DAY - 60
    stale = api.iterator(arn)  # still at the record
    clock.now += 120
    # Fresh iterators skip what was trimmed; positions inside it are refused.
    assert api("GetRecords", ShardIterator=api.iterator(arn))["Records"] == []
    with pytest.raises(ServiceError) as err:
        api.iterator(arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seq)
    assert _code(err) == "TrimmedDataAccessException"
    with pytest.raises(ServiceError) as err:
        api("GetRecords", ShardIterator=stale)
    assert _code(err) == "TrimmedDataAccessException"


def test_a_disabled_stream_is_gone_a_day_later(api: Api, clock: FakeClock) -> None:
    arn = api.table("t")
    api("DeleteTable", TableName="t")
    assert api("DescribeStream", StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    clock.now += DAY + 1
    with pytest.raises(ServiceError) as err:
        api("DescribeStream", StreamArn=arn)
    assert _code(err) == "ResourceNotFoundException"
    assert api("ListStreams")["Streams"] == []
    assert not DynamoDBStreamSource(api.platform, arn, clock=clock).exists()
    # Enabling another stream forgets the expired one for good (its records with it).
    other = api.table("u")
    assert [s["StreamArn"] for s in api("ListStreams")["Streams"]] == [other]
    with api.platform.store.read() as conn:
        assert stream_reads.find(conn, arn, 0) is None


def test_ttl_deletions_carry_the_service_identity(api: Api) -> None:
    arn = api.table("t")
    api("PutItem", TableName="t", Item={"id": {"S": "a"}})
    with api.platform.store.begin() as conn:
        table = api.ddb.get_table(conn, "000000000000", "t")
        old = {"id": {"S": "a"}}
        identity = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        item_store.delete_item(conn, table, item_key(table, old), old, identity=identity)
    records = api("GetRecords", ShardIterator=api.iterator(arn))["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    assert "userIdentity" not in records[0]
    assert records[1]["userIdentity"] == {
        "PrincipalId": "dynamodb.amazonaws.com",
        "Type": "Service",
    }
    source = DynamoDBStreamSource(api.platform, arn)
    (shard,) = source.shards()
    lambda_side = source.read(shard.shard_id, None, 10)[1].record
    assert lambda_side["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }


def test_stream_source_reads_records_in_lambdas_event_shape(api: Api, clock: FakeClock) -> None:
    arn = api.table("t")
    source: StreamSource = DynamoDBStreamSource(api.platform, arn, clock=clock)
    assert source.exists()
    (shard,) = source.shards()
    assert not shard.closed and shard.parent_ids == ()
    assert source.start_position(shard.shard_id, "LATEST", None) is None
    api("PutItem", TableName="t", Item={"id": {"S": "a"}, "b": {"B": b"\x00\xff"}})
    api(
        "UpdateItem",
        TableName="t",
        Key={"id": {"S": "a"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1.5"}},
    )
    records = source.read(shard.shard_id, None, 10)
    assert [r.record["eventName"] for r in records] == ["INSERT", "MODIFY"]
    first, second = records
    event = second.record
    assert set(event) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert event["eventVersion"] == "1.1" and event["eventSource"] == "aws:dynamodb"
    assert event["eventSourceARN"] == arn and event["awsRegion"] == "us-east-1"
    body = event["dynamodb"]
    assert isinstance(body["ApproximateCreationDateTime"], int)
    assert body["Keys"] == {"id": {"S": "a"}}
    assert body["NewImage"] == {"id": {"S": "a"}, "b": {"B": "AP8="}, "n": {"N": "1.5"}}
    assert body["OldImage"] == {"id": {"S": "a"}, "b": {"B": "AP8="}}
    assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert body["SequenceNumber"] == second.sequence_number
    assert body["SizeBytes"] == second.size > 0
    json.dumps(event)  # exactly JSON: what the function receives
    assert source.order(first.sequence_number) < source.order(second.sequence_number)
    assert [r.sequence_number for r in source.read(shard.shard_id, first.sequence_number, 10)] == [
        second.sequence_number
    ]
    assert source.start_position(shard.shard_id, "LATEST", None) == second.sequence_number
    assert source.start_position(shard.shard_id, "TRIM_HORIZON", None) is None
    assert first.partition_key == second.partition_key

    api("UpdateTable", TableName="t", StreamSpecification={"StreamEnabled": False})
    (closed,) = source.shards()
    assert closed.closed
