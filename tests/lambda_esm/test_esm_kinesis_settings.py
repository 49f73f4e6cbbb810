"""Kinesis event source mapping settings in-process: Enabled, UpdateEventSourceMapping,
throttling, MaximumBatchingWindowInSeconds, AT_TIMESTAMP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from esm_kinesis_support import (
    call,
    checkpoints_of,
    create_function,
    create_queue,
    create_stream,
    invocations,
    new_platform,
    put,
    receive_all,
    succeeded,
    wait_for,
)

from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.mappings.stream_poller import StreamPoller

FN = "consumer"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StreamPoller, "retry_delay_s", 0.0)
    monkeypatch.setattr(StreamPoller, "poll_interval_s", 0.05)
    monkeypatch.setattr(StreamPoller, "discover_interval_s", 0.1)


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = new_platform(tmp_path / "data")
    yield p
    p.close()


def mapping(platform: Platform, function: str, stream: str, **params: Any) -> str:
    params.setdefault("StartingPosition", "TRIM_HORIZON")
    params.setdefault("BatchSize", 10)
    out = call(
        platform,
        "lambda",
        "CreateEventSourceMapping",
        FunctionName=function,
        EventSourceArn=stream,
        **params,
    )
    return str(out["UUID"])


def test_a_disabled_mapping_does_not_poll_and_an_update_applies_new_settings(
    platform: Platform,
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "toggle")
    seqs = put(platform, "toggle", [("k", {"n": i}) for i in range(9)])
    uuid = mapping(platform, FN, arn, Enabled=False)
    assert checkpoints_of(platform, uuid) == {}
    assert invocations(platform, FN) == []
    call(platform, "lambda", "UpdateEventSourceMapping", UUID=uuid, Enabled=True, BatchSize=3)
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shardId-000000000000": seqs[-1]})
    calls = [
        [r["kinesis"]["sequenceNumber"] for r in c["records"]] for c in invocations(platform, FN)
    ]
    assert calls == [seqs[0:3], seqs[3:6], seqs[6:9]]


def test_throttling_is_retried_without_counting_attempts(platform: Platform) -> None:
    def result() -> str:
        got = call(platform, "lambda", "GetEventSourceMapping", UUID=uuid)
        return str(got["LastProcessingResult"])

    create_function(platform, FN)
    arn = create_stream(platform, "throttled")
    url, queue_arn = create_queue(platform, "throttled-failures")
    call(
        platform,
        "lambda",
        "PutFunctionConcurrency",
        FunctionName=FN,
        ReservedConcurrentExecutions=0,
    )
    seqs = put(platform, "throttled", [("k", {"n": i}) for i in range(4)])
    uuid = mapping(
        platform,
        FN,
        arn,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_for(lambda: result() == "PROBLEM: Function call failed")  # throttled at least once
    call(platform, "lambda", "DeleteFunctionConcurrency", FunctionName=FN)
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shardId-000000000000": seqs[-1]})
    assert succeeded(platform, FN) == seqs
    assert receive_all(platform, url) == []
    wait_for(lambda: result() == "OK")


def test_the_batching_window_gathers_records_into_one_batch(platform: Platform) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "window")
    seqs = put(platform, "window", [("k", {"n": i}) for i in range(3)])
    uuid = mapping(platform, FN, arn, MaximumBatchingWindowInSeconds=2)
    seqs += put(platform, "window", [("k", {"n": i}) for i in range(3, 6)])
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shardId-000000000000": seqs[-1]})
    calls = [
        [r["kinesis"]["sequenceNumber"] for r in c["records"]] for c in invocations(platform, FN)
    ]
    assert calls == [seqs]


def test_at_timestamp_starts_at_the_first_record_arrived_at_that_time(
    platform: Platform,
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "stamped")
    kinesis: Any = platform.providers["kinesis"]
    start = time.time()
    kinesis.clock = lambda: start - 600
    put(platform, "stamped", [("k", {"n": i}) for i in range(3)])
    kinesis.clock = lambda: start - 60
    later = put(platform, "stamped", [("k", {"n": i}) for i in range(3, 5)])
    del kinesis.clock
    uuid = mapping(
        platform, FN, arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=start - 300
    )
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shardId-000000000000": later[-1]})
    assert succeeded(platform, FN) == later
