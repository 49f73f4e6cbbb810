"""Kinesis event source mapping settings in-process: Enabled, UpdateEventSourceMapping,
throttling, MaximumBatchingWindowInSeconds, AT_TIMESTAMP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from esm_kinesis_support import (
    call,
    checkpoints_of,
    create_function,
    create_queue,
    create_stream,
    invocations,
    mapping,
    put,
    receive_all,
    succeeded,
    wait_for,
)

from lambdamaker.platform import Platform

FN = "consumer"


pytestmark = pytest.mark.usefixtures("fast_stream_poller")


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
