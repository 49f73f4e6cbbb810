"""DynamoDB Streams through boto3: StreamSpecification on CreateTable / UpdateTable, a record per
item change for each view type, the dynamodbstreams API (ListStreams, DescribeStream,
GetShardIterator, GetRecords) and its errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import PK_SK
from ddb_support import error_of as _error


@pytest.fixture()
def streams(boto_client: Any) -> Any:
    return boto_client("dynamodbstreams")


def _table(ddb: Any, view: str | None) -> tuple[str, Any]:
    name = f"st-{uuid.uuid4().hex[:10]}"
    extra: dict[str, Any] = {}
    if view is not None:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    out = ddb.create_table(TableName=name, **PK_SK, **extra)["TableDescription"]
    return name, out.get("LatestStreamArn")  # None without a stream


def _all(streams: Any, arn: str, kind: str = "TRIM_HORIZON", **extra: Any) -> list[dict[str, Any]]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra)[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while it:
        out = streams.get_records(ShardIterator=it)
        records += out["Records"]
        if not out["Records"]:
            break
        it = out.get("NextShardIterator")
    return records


def _writes(ddb: Any, name: str) -> None:
    k = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=name, Item={**k, "v": {"S": "one"}})  # INSERT
    ddb.put_item(TableName=name, Item={**k, "v": {"S": "one"}})  # unchanged: no record
    ddb.update_item(  # MODIFY
        TableName=name,
        Key=k,
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "two"}},
    )
    ddb.delete_item(TableName=name, Key=k)  # REMOVE
    ddb.delete_item(TableName=name, Key=k)  # nothing to delete: no record
    ddb.batch_write_item(  # two INSERTs
        RequestItems={
            name: [
                {"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "2"}, "x": {"B": b"\x01"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "c"}, "sk": {"N": "3"}}}},
            ]
        }
    )


@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_each_change_makes_one_record_in_order_with_the_view_types_images(
    ddb: Any, streams: Any, view: str
) -> None:
    name, arn = _table(ddb, view)
    assert arn is not None
    _writes(ddb, name)
    records = _all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE", "INSERT", "INSERT"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    insert, modify, remove, batch_b, _ = records
    assert insert["eventVersion"] == "1.1" and insert["eventSource"] == "aws:dynamodb"
    assert insert["awsRegion"] == "us-east-1"
    body = modify["dynamodb"]
    assert body["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert body["StreamViewType"] == view
    assert isinstance(body["ApproximateCreationDateTime"], datetime)
    assert body["SizeBytes"] > 0
    assert ("NewImage" in body) == new and ("OldImage" in body) == old
    if new:
        assert body["NewImage"]["v"] == {"S": "two"}
        assert "NewImage" not in remove["dynamodb"]
        assert batch_b["dynamodb"]["NewImage"]["x"] == {"B": b"\x01"}
    if old:
        assert body["OldImage"]["v"] == {"S": "one"}
        assert remove["dynamodb"]["OldImage"]["v"] == {"S": "two"}
        assert "OldImage" not in insert["dynamodb"]
    assert len({r["eventID"] for r in records}) == 5
    assert "userIdentity" not in insert


def test_describe_table_and_stream_show_the_stream(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, "NEW_IMAGE")
    assert arn is not None
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    label = table["LatestStreamLabel"]
    assert arn == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}/stream/{label}"
    assert len(label) == len("2024-01-01T00:00:00.000") and label[10] == "T"
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED"
    assert desc["TableName"] == name and desc["StreamLabel"] == label
    assert desc["KeySchema"] == PK_SK["KeySchema"]
    assert desc["StreamViewType"] == "NEW_IMAGE"
    assert isinstance(desc["CreationRequestDateTime"], datetime)
    (shard,) = desc["Shards"]
    assert shard["ShardId"].startswith("shardId-")
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": name, "StreamLabel": label}]


def test_table_without_stream_has_no_stream_fields(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, None)
    assert arn is None
    table = ddb.describe_table(TableName=name)["Table"]
    assert "StreamSpecification" not in table and "LatestStreamArn" not in table
    assert streams.list_streams(TableName=name)["Streams"] == []


def test_enable_disable_and_reenable(ddb: Any, streams: Any) -> None:
    name, _ = _table(ddb, None)
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert _error(e) == (
        "ValidationException",
        f"Table has no stream to disable: TableName: {name}",
    )
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True})
    assert _error(e)[0] == "ValidationException"
    assert "UpdateViewType is required" in _error(e)[1]

    out = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]
    first = out["LatestStreamArn"]
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert _error(e) == (
        "ValidationException",
        f"Table already has an enabled stream: TableName: {name}",
    )
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": False, "StreamViewType": "KEYS_ONLY"},
        )
    assert "must not be specified" in _error(e)[1]

    ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"N": "1"}})
    out = ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    described = out["TableDescription"]
    assert "StreamSpecification" not in described
    assert described["LatestStreamArn"] == first
    ddb.put_item(TableName=name, Item={"pk": {"S": "y"}, "sk": {"N": "1"}})  # not recorded
    old = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert old["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in old["Shards"][0]["SequenceNumberRange"]
    (record,) = _all(streams, first)
    assert record["dynamodb"]["Keys"]["pk"] == {"S": "x"}

    out = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    )
    second = out["TableDescription"]["LatestStreamArn"]
    assert second != first
    ddb.put_item(TableName=name, Item={"pk": {"S": "z"}, "sk": {"N": "1"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _all(streams, second)] == ["z"]
    listed = [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]]
    assert listed == [first, second]


def test_a_closed_shard_read_to_its_end_has_no_next_iterator(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, "KEYS_ONLY")
    ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"N": "1"}})
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    out = streams.get_records(ShardIterator=it)
    assert len(out["Records"]) == 1
    assert "NextShardIterator" not in out


def test_deleting_the_table_disables_its_stream(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, "NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=name, Item={"pk": {"S": "x"}, "sk": {"N": "1"}})
    ddb.delete_table(TableName=name)
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    assert [r["eventName"] for r in _all(streams, arn)] == ["INSERT"]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]


def test_iterator_types_start_where_they_say(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, "KEYS_ONLY")
    assert arn is not None
    for i in range(4):
        ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": str(i)}})
    every = _all(streams, arn)
    seqs = [r["dynamodb"]["SequenceNumber"] for r in every]
    assert len(seqs) == 4
    at = _all(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seqs[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == seqs[1:]
    after = _all(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == seqs[2:]
    assert _all(streams, arn, "LATEST") == []
    when = every[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert len(_all(streams, arn, "AT_TIMESTAMP", Timestamp=when)) == 4

    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": "9"}})
    out = streams.get_records(ShardIterator=latest, Limit=1)
    assert [r["dynamodb"]["Keys"]["sk"] for r in out["Records"]] == [{"N": "9"}]
    assert streams.get_records(ShardIterator=out["NextShardIterator"])["Records"] == []


def test_limit_pages_records(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, "KEYS_ONLY")
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": str(i)}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    sizes = []
    for _ in range(3):
        out = streams.get_records(ShardIterator=it, Limit=2)
        sizes.append(len(out["Records"]))
        it = out["NextShardIterator"]
    assert sizes == [2, 2, 1]


def test_bad_input_gets_the_services_errors(ddb: Any, streams: Any) -> None:
    name, arn = _table(ddb, "KEYS_ONLY")
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}, "sk": {"N": "1"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    missing = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=missing)
    assert _error(e) == (
        "ResourceNotFoundException",
        f"Requested resource not found: Stream: {missing} not found",
    )
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=missing, ShardId=shard, ShardIteratorType="LATEST")
    assert _error(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="LATEST",
        )
    assert _error(e)[0] == "ResourceNotFoundException"
    for kind, seq in (
        ("AT_SEQUENCE_NUMBER", None),
        ("AT_SEQUENCE_NUMBER", "9" * 21),
        ("AFTER_SEQUENCE_NUMBER", "x" * 21),
    ):
        extra = {} if seq is None else {"SequenceNumber": seq}
        with pytest.raises(ClientError) as e:
            streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra
            )
        assert _error(e)[0] == "ValidationException", (kind, seq)
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="SOMETIMES")
    assert _error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator="not-an-iterator")
    assert _error(e)[0] == "ValidationException"
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it["ShardIterator"], Limit=1001)
    assert _error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=f"st-{uuid.uuid4().hex[:10]}",
            **PK_SK,
            StreamSpecification={"StreamEnabled": True},
        )
    assert _error(e)[0] == "ValidationException"


def test_list_streams_pages_with_exclusive_start(ddb: Any, streams: Any) -> None:
    arns = {_table(ddb, "KEYS_ONLY")[1] for _ in range(3)}
    seen: list[str] = []
    start: dict[str, Any] = {}
    while True:
        out = streams.list_streams(Limit=1, **start)
        seen += [s["StreamArn"] for s in out["Streams"]]
        if "LastEvaluatedStreamArn" not in out:
            break
        start = {"ExclusiveStartStreamArn": out["LastEvaluatedStreamArn"]}
    assert arns <= set(seen)
    assert len(seen) == len(set(seen))
