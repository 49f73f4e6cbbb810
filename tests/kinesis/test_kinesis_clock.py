"""Kinesis time logic in-process on a fake clock (iterator expiry, retention, how far behind a
reader is), concurrent puts, and durability across restarts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext
from lambdamaker.services.kinesis import KinesisProvider
from lambdamaker.testing import FakeClock, ServerProcess
from lambdamaker.testing.inprocess import call_operation


class Kinesis:
    """Calls the provider as the gateway would, with the clock under the test's control."""

    def __init__(self, platform: Platform, clock: FakeClock) -> None:
        provider = platform.providers["kinesis"]
        assert isinstance(provider, KinesisProvider)
        provider.clock = clock
        self.provider = provider

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        return call_operation(
            self.provider.platform, "kinesis", operation, endpoint_url="", **params
        )

    def iterator(self, stream: str, kind: str = "TRIM_HORIZON") -> str:
        out = self(
            "GetShardIterator",
            StreamName=stream,
            ShardId="shardId-000000000000",
            ShardIteratorType=kind,
        )
        return str(out["ShardIterator"])


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture()
def kinesis(config: PlatformConfig, clock: FakeClock) -> Iterator[Kinesis]:
    with Platform(config, services=["kinesis"]) as platform:
        yield Kinesis(platform, clock)


def test_iterator_expires_after_five_minutes(kinesis: Kinesis, clock: FakeClock) -> None:
    kinesis("CreateStream", StreamName="s", ShardCount=1)
    it = kinesis.iterator("s")
    clock.now += 300
    out = kinesis("GetRecords", ShardIterator=it)
    clock.now += 0.001
    with pytest.raises(ServiceError) as err:
        kinesis("GetRecords", ShardIterator=it)
    assert err.value.code == "ExpiredIteratorException"
    # The iterator GetRecords handed out is fresh.
    assert kinesis("GetRecords", ShardIterator=out["NextShardIterator"])["Records"] == []


def test_records_older_than_the_retention_period_are_not_returned(
    kinesis: Kinesis, clock: FakeClock
) -> None:
    kinesis("CreateStream", StreamName="s", ShardCount=1)
    kinesis("PutRecord", StreamName="s", Data=b"old", PartitionKey="k")
    clock.now += 23 * 3600
    kinesis("PutRecord", StreamName="s", Data=b"new", PartitionKey="k")
    clock.now += 3600 + 1
    records = kinesis("GetRecords", ShardIterator=kinesis.iterator("s"))["Records"]
    assert [r["Data"] for r in records] == [b"new"]
    kinesis("IncreaseStreamRetentionPeriod", StreamName="s", RetentionPeriodHours=48)
    records = kinesis("GetRecords", ShardIterator=kinesis.iterator("s"))["Records"]
    assert [r["Data"] for r in records] == [b"old", b"new"]


def test_millis_behind_latest_is_the_age_of_the_next_unread_record(
    kinesis: Kinesis, clock: FakeClock
) -> None:
    kinesis("CreateStream", StreamName="s", ShardCount=1)
    for i in range(3):
        kinesis("PutRecord", StreamName="s", Data=bytes([i]), PartitionKey="k")
        clock.now += 10
    out = kinesis("GetRecords", ShardIterator=kinesis.iterator("s"), Limit=1)
    assert out["MillisBehindLatest"] == 20_000
    out = kinesis("GetRecords", ShardIterator=out["NextShardIterator"])
    assert len(out["Records"]) == 2 and out["MillisBehindLatest"] == 0


def test_concurrent_puts_get_distinct_increasing_sequence_numbers(kinesis: Kinesis) -> None:
    kinesis("CreateStream", StreamName="s", ShardCount=1)
    provider = kinesis.provider

    async def put_all() -> list[dict[str, Any]]:
        # One event loop, as in the server: the puts share group commits.
        return await asyncio.gather(
            *(
                provider.put_record(
                    RequestContext("t", "kinesis", "PutRecord", "us-east-1", "000000000000"),
                    {"StreamName": "s", "Data": str(i).encode(), "PartitionKey": str(i)},
                )
                for i in range(64)
            )
        )

    seqs = [str(out["SequenceNumber"]) for out in asyncio.run(put_all())]
    assert len(set(seqs)) == 64
    records = kinesis("GetRecords", ShardIterator=kinesis.iterator("s"))["Records"]
    assert sorted(seqs, key=int) == [r["SequenceNumber"] for r in records]


def test_acknowledged_records_survive_a_platform_restart(
    config: PlatformConfig, clock: FakeClock
) -> None:
    with Platform(config, services=["kinesis"]) as platform:
        kinesis = Kinesis(platform, clock)
        kinesis("CreateStream", StreamName="s", ShardCount=2)
        put = kinesis(
            "PutRecords",
            StreamName="s",
            Records=[{"Data": f"d{i}".encode(), "PartitionKey": "k"} for i in range(5)],
        )
    with Platform(config, services=["kinesis"]) as platform:
        kinesis = Kinesis(platform, clock)
        shard = put["Records"][0]["ShardId"]
        it = kinesis(
            "GetShardIterator", StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = kinesis("GetRecords", ShardIterator=it)["Records"]
        assert [r["Data"] for r in records] == [f"d{i}".encode() for i in range(5)]
        # The shard's counter survived too: the next record follows the old ones.
        after = kinesis("PutRecord", StreamName="s", Data=b"x", PartitionKey="k")
        assert int(after["SequenceNumber"]) > int(put["Records"][-1]["SequenceNumber"])


def test_records_survive_a_server_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server:
        kinesis = server.client("kinesis")
        kinesis.create_stream(StreamName="keep", ShardCount=3)
        sent = kinesis.put_records(
            StreamName="keep",
            Records=[{"Data": f"r{i}".encode(), "PartitionKey": f"p{i}"} for i in range(30)],
        )["Records"]
    with ServerProcess(data) as server:
        kinesis = server.client("kinesis")
        got: dict[str, bytes] = {}
        for shard in kinesis.list_shards(StreamName="keep")["Shards"]:
            it = kinesis.get_shard_iterator(
                StreamName="keep", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for record in kinesis.get_records(ShardIterator=it)["Records"]:
                got[record["SequenceNumber"]] = record["Data"]
        assert got == {s["SequenceNumber"]: f"r{i}".encode() for i, s in enumerate(sent)}
