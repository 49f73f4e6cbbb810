"""``KinesisSource`` (what event source mappings read) on a fake clock, on SQLite and
PostgreSQL: once bound to its stream, a read is one statement that still applies the stream's
retention and finds nothing once the stream is deleted, and returns what a first read does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.kinesis import KinesisProvider
from lambdamaker.services.kinesis.hashing import sequence_number
from lambdamaker.services.kinesis.source import KinesisSource
from lambdamaker.testing import FakeClock
from lambdamaker.testing.inprocess import call_operation

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
SHARD = "shardId-000000000000"


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture()
def platform(config: PlatformConfig, clock: FakeClock) -> Iterator[Platform]:
    with Platform(config, services=["kinesis"]) as platform:
        provider = platform.providers["kinesis"]
        assert isinstance(provider, KinesisProvider)
        provider.clock = clock
        yield platform


def kinesis(platform: Platform, operation: str, **params: Any) -> dict[str, Any]:
    return call_operation(platform, "kinesis", operation, endpoint_url="", **params)


def data(source: KinesisSource, after: str | None = None) -> list[bytes]:
    return [base64.b64decode(r.record["kinesis"]["data"]) for r in source.read(SHARD, after, 100)]


def test_bound_reads_apply_retention_and_end_with_the_stream(
    platform: Platform, clock: FakeClock
) -> None:
    kinesis(platform, "CreateStream", StreamName="s", ShardCount=1)
    source = KinesisSource(platform, ARN)
    assert data(source) == []  # binds the source to the stream
    kinesis(platform, "PutRecord", StreamName="s", Data=b"old", PartitionKey="k")
    clock.now += 23 * 3600
    kinesis(platform, "PutRecord", StreamName="s", Data=b"new", PartitionKey="k")
    assert data(source) == [b"old", b"new"]
    clock.now += 3600 + 1
    assert data(source) == [b"new"]
    kinesis(platform, "IncreaseStreamRetentionPeriod", StreamName="s", RetentionPeriodHours=48)
    assert data(source) == [b"old", b"new"]
    kinesis(platform, "DeleteStream", StreamName="s")
    kinesis(platform, "CreateStream", StreamName="s", ShardCount=1)
    kinesis(platform, "PutRecord", StreamName="s", Data=b"other", PartitionKey="k")
    assert data(source) == []
    assert not source.exists()


def test_a_bound_read_returns_what_a_first_read_does(platform: Platform) -> None:
    kinesis(platform, "CreateStream", StreamName="s", ShardCount=1)
    entries = [{"Data": b"%d" % i, "PartitionKey": f"k\u00e9{i}"} for i in range(30)]
    kinesis(platform, "PutRecords", StreamName="s", Records=entries)
    bound = KinesisSource(platform, ARN)
    bound.identity_arn = "arn:aws:iam::000000000000:role/r"
    bound.read(SHARD, None, 1)
    after = sequence_number(0, 10)
    fresh = KinesisSource(platform, ARN)
    fresh.identity_arn = bound.identity_arn
    assert bound.read(SHARD, after, 5) == fresh.read(SHARD, after, 5)
    assert [r.sequence_number for r in bound.read(SHARD, after, 5)] == [
        sequence_number(0, n) for n in range(11, 16)
    ]
