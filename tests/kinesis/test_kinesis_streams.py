"""Kinesis control plane through boto3: streams, shards, retention, resharding."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

MAX = 2**128 - 1


@pytest.fixture()
def kinesis(boto_client: Callable[..., Any]) -> Any:
    return boto_client("kinesis")


def _name() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_created_stream_is_active_with_shards_splitting_the_hash_range_evenly(
    kinesis: Any,
) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=3)
    desc = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    assert desc["StreamStatus"] == "ACTIVE"
    assert desc["StreamARN"].endswith(f":stream/{name}")
    assert desc["RetentionPeriodHours"] == 24
    assert desc["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert desc["HasMoreShards"] is False
    ids = [s["ShardId"] for s in desc["Shards"]]
    assert ids == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
    ranges = [
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in desc["Shards"]
    ]
    # AWS's figures for three shards.
    assert ranges == [
        (0, 113427455640312821154458202477256070484),
        (113427455640312821154458202477256070485, 226854911280625642308916404954512140969),
        (226854911280625642308916404954512140970, MAX),
    ]
    for shard in desc["Shards"]:
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        assert len(start) == 56 and start.isdigit()
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def test_on_demand_stream_has_four_shards(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["ConsumerCount"] == 0


def test_creating_an_existing_stream_is_resource_in_use(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=1)
    with pytest.raises(ClientError) as err:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert _code(err) == "ResourceInUseException"
    assert err.value.response["Error"]["Message"].startswith(f"Stream {name} under account ")
    assert err.value.response["Error"]["Message"].endswith(" already exists.")


def test_unknown_stream_is_resource_not_found_by_name_or_arn(kinesis: Any) -> None:
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream(StreamName="nope-nope")
    assert _code(err) == "ResourceNotFoundException"
    assert "Stream nope-nope under account" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream_summary(
            StreamARN="arn:aws:kinesis:us-east-1:000000000000:stream/nope-nope"
        )
    assert _code(err) == "ResourceNotFoundException"


def test_stream_arn_names_the_same_stream(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    assert kinesis.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"] == name


def test_list_streams_pages_in_name_order(kinesis: Any) -> None:
    prefix = f"ls-{uuid.uuid4().hex[:6]}"
    for i in range(3):
        kinesis.create_stream(StreamName=f"{prefix}-{i}", ShardCount=1)
    names: list[str] = []
    out = kinesis.list_streams(Limit=2, ExclusiveStartStreamName=f"{prefix}-")
    names += out["StreamNames"]
    assert out["HasMoreStreams"] is True
    out = kinesis.list_streams(NextToken=out["NextToken"], Limit=2)
    names += out["StreamNames"]
    assert names[:3] == [f"{prefix}-{i}" for i in range(3)]
    assert all(s["StreamStatus"] == "ACTIVE" for s in out["StreamSummaries"])


def test_list_shards_pages_with_next_token(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=5)
    first = kinesis.list_shards(StreamName=name, MaxResults=2)
    assert [s["ShardId"][-1] for s in first["Shards"]] == ["0", "1"]
    second = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=10)
    assert [s["ShardId"][-1] for s in second["Shards"]] == ["2", "3", "4"]
    assert "NextToken" not in second
    with pytest.raises(ClientError) as err:
        kinesis.list_shards(StreamName=name, NextToken=first["NextToken"])
    assert _code(err) == "InvalidArgumentException"


def test_deleted_stream_is_gone_and_its_name_reusable(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.delete_stream(StreamName=name)
    with pytest.raises(ClientError) as err:
        kinesis.describe_stream(StreamName=name)
    assert _code(err) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        kinesis.delete_stream(StreamName=name)
    assert _code(err) == "ResourceNotFoundException"
    kinesis.create_stream(StreamName=name, ShardCount=2)
    assert len(kinesis.list_shards(StreamName=name)["Shards"]) == 2


def test_retention_moves_within_24_to_8760_hours(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    desc = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert desc["RetentionPeriodHours"] == 48
    for call, hours, words in [
        (kinesis.increase_stream_retention_period, 24, "can not be shorter"),
        (kinesis.decrease_stream_retention_period, 72, "can not be longer"),
        (kinesis.decrease_stream_retention_period, 23, "is too short"),
        (kinesis.increase_stream_retention_period, 8761, "is too long"),
    ]:
        with pytest.raises(ClientError) as err:
            call(StreamName=name, RetentionPeriodHours=hours)
        assert _code(err) == "InvalidArgumentException"
        assert words in err.value.response["Error"]["Message"]
    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
    desc = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert desc["RetentionPeriodHours"] == 24


def test_update_shard_count_closes_parents_and_opens_children(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=2)
    put = kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")
    out = kinesis.update_shard_count(
        StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING"
    )
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (2, 4)
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    assert len(shards) == 6
    parents, children = shards[:2], shards[2:]
    for parent in parents:
        assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    closed = {p["ShardId"]: p for p in parents}
    assert (
        closed[put["ShardId"]]["SequenceNumberRange"]["EndingSequenceNumber"]
        == (put["SequenceNumber"])
    )
    assert [c["ParentShardId"] for c in children] == [
        "shardId-000000000000",
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000001",
    ]
    assert int(children[0]["HashKeyRange"]["StartingHashKey"]) == 0
    assert int(children[-1]["HashKeyRange"]["EndingHashKey"]) == MAX
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    # Merging back: each child of 4 -> 2 has two parents.
    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    merged = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [(m["ParentShardId"], m["AdjacentParentShardId"]) for m in merged] == [
        ("shardId-000000000002", "shardId-000000000003"),
        ("shardId-000000000004", "shardId-000000000005"),
    ]


def test_update_shard_count_limits_to_double_or_half(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=4)
    for target in (9, 1):
        with pytest.raises(ClientError) as err:
            kinesis.update_shard_count(
                StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING"
            )
        assert _code(err) == "LimitExceededException"


def test_tags_are_added_listed_in_key_order_and_removed(kinesis: Any) -> None:
    name = _name()
    kinesis.create_stream(StreamName=name, ShardCount=1, Tags={"team": "a"})
    kinesis.add_tags_to_stream(StreamName=name, Tags={"env": "dev", "team": "b"})
    out = kinesis.list_tags_for_stream(StreamName=name)
    assert out["Tags"] == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}]
    assert out["HasMoreTags"] is False
    page = kinesis.list_tags_for_stream(StreamName=name, Limit=1)
    assert page["Tags"] == [{"Key": "env", "Value": "dev"}] and page["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["env"])
    assert kinesis.list_tags_for_stream(StreamName=name)["Tags"] == [{"Key": "team", "Value": "b"}]
    with pytest.raises(ClientError) as err:
        kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i}": "v" for i in range(50)})
    assert _code(err) == "InvalidArgumentException"
