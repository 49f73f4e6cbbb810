"""Kinesis data plane through boto3: puts, shard choice, sequence numbers, iterators, reads."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

MIB = 1024 * 1024


@pytest.fixture()
def kinesis(boto_client: Callable[..., Any]) -> Any:
    return boto_client("kinesis")


@pytest.fixture()
def stream(kinesis: Any) -> str:
    name = f"r-{uuid.uuid4().hex[:10]}"
    kinesis.create_stream(StreamName=name, ShardCount=4)
    return name


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _shard_for(kinesis: Any, stream: str, key: int) -> str:
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        r = shard["HashKeyRange"]
        if int(r["StartingHashKey"]) <= key <= int(r["EndingHashKey"]):
            return str(shard["ShardId"])
    raise AssertionError(key)


def _read_all(kinesis: Any, stream: str, shard: str, **params: Any) -> list[dict[str, Any]]:
    it = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON", **params
    )["ShardIterator"]
    return list(kinesis.get_records(ShardIterator=it)["Records"])


def test_record_goes_to_the_shard_of_its_partition_key_md5(kinesis: Any, stream: str) -> None:
    for key in ("alpha", "beta", "gamma", "delta", "épsilon"):
        out = kinesis.put_record(StreamName=stream, Data=key.encode(), PartitionKey=key)
        digest = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
        assert out["ShardId"] == _shard_for(kinesis, stream, digest)
        assert len(out["SequenceNumber"]) == 56


def test_explicit_hash_key_overrides_the_partition_key(kinesis: Any, stream: str) -> None:
    out = kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="a", ExplicitHashKey="0")
    assert out["ShardId"] == "shardId-000000000000"
    top = str(2**128 - 1)
    out = kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="a", ExplicitHashKey=top)
    assert out["ShardId"] == "shardId-000000000003"
    with pytest.raises(ClientError) as err:
        kinesis.put_record(
            StreamName=stream, Data=b"x", PartitionKey="a", ExplicitHashKey=str(2**128)
        )
    assert _code(err) == "InvalidArgumentException"


def test_sequence_numbers_increase_per_shard_and_reads_return_them_in_order(
    kinesis: Any, stream: str
) -> None:
    seqs = [
        kinesis.put_record(StreamName=stream, Data=f"m{i}".encode(), PartitionKey="same")
        for i in range(5)
    ]
    assert len({s["ShardId"] for s in seqs}) == 1
    numbers = [int(s["SequenceNumber"]) for s in seqs]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    records = _read_all(kinesis, stream, seqs[0]["ShardId"])
    assert [r["Data"] for r in records] == [f"m{i}".encode() for i in range(5)]
    assert [r["SequenceNumber"] for r in records] == [s["SequenceNumber"] for s in seqs]
    assert all(r["PartitionKey"] == "same" for r in records)
    assert isinstance(records[0]["ApproximateArrivalTimestamp"], datetime)


def test_put_records_returns_one_result_per_entry_in_order(kinesis: Any, stream: str) -> None:
    entries = [(f"d{i}".encode(), f"k{i}") for i in range(50)]
    out = kinesis.put_records(
        StreamName=stream, Records=[{"Data": d, "PartitionKey": k} for d, k in entries]
    )
    assert out["FailedRecordCount"] == 0
    assert len(out["Records"]) == 50
    by_shard: dict[str, list[bytes]] = {}
    for (data, key), result in zip(entries, out["Records"], strict=True):
        digest = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
        assert result["ShardId"] == _shard_for(kinesis, stream, digest)
        by_shard.setdefault(result["ShardId"], []).append(data)
    for shard, datas in by_shard.items():
        assert [r["Data"] for r in _read_all(kinesis, stream, shard)] == datas


def test_put_limits_are_enforced_as_aws_does(kinesis: Any, stream: str) -> None:
    with pytest.raises(ClientError) as err:
        kinesis.put_records(StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "k"}] * 501)
    assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName=stream, Data=b"x" * (MIB + 1), PartitionKey="k")
    assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        kinesis.put_records(
            StreamName=stream, Records=[{"Data": b"x" * (MIB - 10), "PartitionKey": "k"}] * 6
        )
    assert _code(err) == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        kinesis.put_record(StreamName="missing-stream", Data=b"x", PartitionKey="k")
    assert _code(err) == "ResourceNotFoundException"


def test_iterator_types_start_where_they_say(kinesis: Any, stream: str) -> None:
    puts = [
        kinesis.put_record(StreamName=stream, Data=f"{i}".encode(), PartitionKey="p")
        for i in range(4)
    ]
    shard = puts[0]["ShardId"]

    def read(kind: str, **extra: Any) -> list[bytes]:
        it = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard, ShardIteratorType=kind, **extra
        )["ShardIterator"]
        return [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]

    second = puts[1]["SequenceNumber"]
    assert read("AT_SEQUENCE_NUMBER", StartingSequenceNumber=second) == [b"1", b"2", b"3"]
    assert read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=second) == [b"2", b"3"]
    assert read("LATEST") == []
    past = datetime.now(UTC) - timedelta(minutes=1)
    assert read("AT_TIMESTAMP", Timestamp=past) == [b"0", b"1", b"2", b"3"]
    future = datetime.now(UTC) + timedelta(minutes=1)
    assert read("AT_TIMESTAMP", Timestamp=future) == []
    other = "shardId-000000000000" if shard != "shardId-000000000000" else "shardId-000000000001"
    with pytest.raises(ClientError) as err:
        kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId=other,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=second,
        )
    assert _code(err) == "InvalidArgumentException"
    with pytest.raises(ClientError) as err:
        kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000099", ShardIteratorType="LATEST"
        )
    assert _code(err) == "ResourceNotFoundException"


def test_latest_iterator_sees_records_put_after_it(kinesis: Any, stream: str) -> None:
    it = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="LATEST"
    )["ShardIterator"]
    out = kinesis.get_records(ShardIterator=it)
    assert out["Records"] == [] and out["MillisBehindLatest"] == 0
    kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="p", ExplicitHashKey="1")
    out = kinesis.get_records(ShardIterator=out["NextShardIterator"])
    assert [r["Data"] for r in out["Records"]] == [b"new"]


def test_limit_pages_through_a_shard_with_next_iterators(kinesis: Any, stream: str) -> None:
    kinesis.put_records(
        StreamName=stream,
        Records=[
            {"Data": bytes([i]), "PartitionKey": "p", "ExplicitHashKey": "5"} for i in range(7)
        ],
    )
    it = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    seen: list[bytes] = []
    for _ in range(4):
        out = kinesis.get_records(ShardIterator=it, Limit=3)
        seen += [r["Data"] for r in out["Records"]]
        it = out["NextShardIterator"]
    assert seen == [bytes([i]) for i in range(7)]


def test_garbage_iterator_is_invalid_argument(kinesis: Any) -> None:
    with pytest.raises(ClientError) as err:
        kinesis.get_records(ShardIterator="not-an-iterator")
    assert _code(err) == "InvalidArgumentException"


def test_closed_shard_ends_with_child_shards_and_no_next_iterator(
    kinesis: Any, stream: str
) -> None:
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="p", ExplicitHashKey="0")
    it = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    kinesis.update_shard_count(StreamName=stream, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    new = kinesis.put_record(StreamName=stream, Data=b"n", PartitionKey="p", ExplicitHashKey="0")
    assert new["ShardId"] == "shardId-000000000004"
    out = kinesis.get_records(ShardIterator=it)
    assert [r["Data"] for r in out["Records"]] == [b"old"]
    assert "NextShardIterator" not in out
    assert [c["ShardId"] for c in out["ChildShards"]] == ["shardId-000000000004"]
    assert out["ChildShards"][0]["ParentShards"] == [
        "shardId-000000000000",
        "shardId-000000000001",
    ]


def test_iterator_of_a_deleted_stream_finds_nothing(kinesis: Any, stream: str) -> None:
    it = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    kinesis.delete_stream(StreamName=stream)
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    with pytest.raises(ClientError) as err:
        kinesis.get_records(ShardIterator=it)
    assert _code(err) == "ResourceNotFoundException"


def test_get_records_returns_at_most_ten_mib_per_call(kinesis: Any, stream: str) -> None:
    blob = b"z" * (MIB - 100)
    for _ in range(3):
        kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": blob, "PartitionKey": "p", "ExplicitHashKey": "7"}] * 4,
        )
    it = kinesis.get_shard_iterator(
        StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    first = kinesis.get_records(ShardIterator=it)
    assert len(first["Records"]) == 10
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"])
    assert len(rest["Records"]) == 2
