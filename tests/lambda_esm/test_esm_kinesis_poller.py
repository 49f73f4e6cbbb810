"""Kinesis event source mappings end to end in-process: CreateEventSourceMapping on a platform,
records put into a stream, a real function recording what it receives."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from esm_kinesis_support import (
    ROLE,
    call,
    checkpoints_of,
    create_function,
    create_queue,
    create_stream,
    data_of,
    invocations,
    mapping,
    new_platform,
    put,
    receive_all,
    succeeded,
    wait_for,
)

from lambdamaker.platform import Platform

FN = "consumer"


pytestmark = pytest.mark.usefixtures("fast_stream_poller")


def test_each_shard_is_delivered_in_order_with_lambdas_record_shape(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "orders", shards=3)
    items = [(f"key-{i % 7}", {"n": i}) for i in range(60)]
    seqs = put(platform, "orders", items[:30])
    uuid = mapping(platform, FN, arn, BatchSize=7)
    seqs += put(platform, "orders", items[30:])
    wait_for(lambda: set(succeeded(platform, FN)) >= set(seqs))

    per_shard: dict[str, list[int]] = {}
    for call_ in invocations(platform, FN):
        shards = {r["eventID"].split(":")[0] for r in call_["records"]}
        assert len(shards) == 1, "a batch holds records of one shard only"
        assert len(call_["records"]) <= 7
        for record in call_["records"]:
            per_shard.setdefault(record["eventID"].split(":")[0], []).append(
                int(record["kinesis"]["sequenceNumber"])
            )
    assert len(per_shard) == 3
    for numbers in per_shard.values():
        assert numbers == sorted(numbers)
    assert sorted(int(s) for s in succeeded(platform, FN)) == sorted(int(s) for s in seqs)

    record = invocations(platform, FN)[0]["records"][0]
    assert set(record) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert set(record["kinesis"]) == {
        "kinesisSchemaVersion",
        "partitionKey",
        "sequenceNumber",
        "data",
        "approximateArrivalTimestamp",
    }
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventVersion"] == "1.0"
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["invokeIdentityArn"] == ROLE
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert (
        record["eventID"]
        == record["eventID"].split(":")[0] + ":" + (record["kinesis"]["sequenceNumber"])
    )
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
    assert data_of(record) == {"n": int(data_of(record)["n"])}

    wait_for(lambda: checkpoints_of(platform, uuid) == last_per_shard(seqs))


def shard_of(seq: str) -> str:
    return f"shardId-{(int(seq) - 49 * 10**54) // 10**36:012d}"


def last_per_shard(seqs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for seq in seqs:
        out[shard_of(seq)] = max(out.get(shard_of(seq), seq), seq, key=int)
    return out


def test_partial_batch_response_checkpoints_before_the_lowest_failure(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN, mode="partial")
    arn = create_stream(platform, "partial")
    items = [("k", {"n": i, "fail_first": i in (3, 6)}) for i in range(10)]
    seqs = put(platform, "partial", items)
    uuid = mapping(platform, FN, arn, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for(lambda: len(invocations(platform, FN)) >= 2 and checkpoints_of(platform, uuid) != {})
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    calls = [
        [r["kinesis"]["sequenceNumber"] for r in c["records"]] for c in invocations(platform, FN)
    ]
    # The first call fails records 3 and 6: the retry starts at the lowest one, 3.
    assert calls == [seqs, seqs[3:]]
    assert succeeded(platform, FN) == seqs


def test_an_unknown_item_identifier_fails_the_whole_batch(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN, mode="bogus")
    arn = create_stream(platform, "bogus")
    seqs = put(platform, "bogus", [("k", {"n": i}) for i in range(5)])
    uuid = mapping(platform, FN, arn, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    calls = [
        [r["kinesis"]["sequenceNumber"] for r in c["records"]] for c in invocations(platform, FN)
    ]
    assert calls == [seqs, seqs]


def test_bisect_isolates_a_poison_record_and_sends_exactly_it_to_on_failure(
    platform: Platform, tmp_path: Path
) -> None:
    function_arn = create_function(platform, FN)
    arn = create_stream(platform, "bisect")
    url, queue_arn = create_queue(platform, "bisect-failures")
    items = [("k", {"n": i, "poison": i == 11}) for i in range(16)]
    seqs = put(platform, "bisect", items)
    uuid = mapping(
        platform,
        FN,
        arn,
        BatchSize=16,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    failures = receive_all(platform, url)
    assert len(failures) == 1
    failure = failures[0]
    assert set(failure) == {
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "KinesisBatchInfo",
    }
    assert failure["requestContext"]["functionArn"] == function_arn
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responseContext"]["statusCode"] == 200
    assert failure["version"] == "1.0"
    info = failure["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[11]
    assert info["batchSize"] == 1
    assert info["shardId"] == "shardId-000000000000"
    assert info["streamArn"] == arn
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    good = seqs[:11] + seqs[12:]
    assert sorted(set(succeeded(platform, FN))) == sorted(good)


def test_exhausted_retries_send_the_whole_batch_and_processing_continues(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "retries")
    url, queue_arn = create_queue(platform, "retries-failures")
    seqs = put(platform, "retries", [("k", {"n": i, "poison": i == 2}) for i in range(10)])
    uuid = mapping(
        platform,
        FN,
        arn,
        BatchSize=5,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    calls = [
        [r["kinesis"]["sequenceNumber"] for r in c["records"]] for c in invocations(platform, FN)
    ]
    assert calls == [seqs[:5]] * 3 + [seqs[5:]]
    (failure,) = receive_all(platform, url)
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["KinesisBatchInfo"]["batchSize"] == 5
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == seqs[0]
    assert failure["KinesisBatchInfo"]["endSequenceNumber"] == seqs[4]


def test_records_older_than_the_maximum_age_go_to_on_failure_uninvoked(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "aged")
    url, queue_arn = create_queue(platform, "aged-failures")
    kinesis: Any = platform.providers["kinesis"]
    past = time.time() - 3600
    kinesis.clock = lambda: past  # the old records arrived an hour ago
    old = put(platform, "aged", [("k", {"n": i}) for i in range(3)])
    del kinesis.clock
    fresh = put(platform, "aged", [("k", {"n": 3})])
    uuid = mapping(
        platform,
        FN,
        arn,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [fresh[-1]])
    (failure,) = receive_all(platform, url)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == old[0]
    assert failure["KinesisBatchInfo"]["endSequenceNumber"] == old[-1]
    assert succeeded(platform, FN) == fresh


def test_filtered_out_records_are_skipped_and_count_as_done(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "filtered")
    seqs = put(platform, "filtered", [("k", {"n": i, "keep": i % 2 == 0}) for i in range(9)])
    seqs += put(platform, "filtered", [("k", {"n": 9, "keep": False})])
    uuid = mapping(
        platform,
        FN,
        arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"keep": [True]}})}]},
    )
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    assert succeeded(platform, FN) == seqs[0:10:2]


def test_latest_skips_older_records_and_a_restart_resumes_from_the_checkpoint(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    platform = new_platform(data_dir)
    try:
        create_function(platform, FN)
        arn = create_stream(platform, "resume", shards=2)
        put(platform, "resume", [(f"k{i}", {"n": i}) for i in range(5)])
        uuid = mapping(platform, FN, arn, StartingPosition="LATEST", BatchSize=3)
        wait_for(lambda: len(checkpoints_of(platform, uuid)) == 2)
        first = put(platform, "resume", [(f"k{i}", {"n": i}) for i in range(20)])
        wait_for(lambda: len(succeeded(platform, FN)) >= 6)
    finally:
        platform.close()
    platform = new_platform(data_dir)  # a restart: the mapping's poller starts again
    try:
        second = put(platform, "resume", [(f"k{i}", {"n": i}) for i in range(20, 40)])
        wait_for(lambda: set(succeeded(platform, FN)) >= set(first + second))
        assert set(succeeded(platform, FN)) == set(first + second)
        per_shard: dict[str, list[int]] = {}
        for seq in succeeded(platform, FN):
            numbers = per_shard.setdefault(shard_of(seq), [])
            if int(seq) not in numbers:  # a redelivery after the restart is at least once
                numbers.append(int(seq))
        for numbers in per_shard.values():
            assert numbers == sorted(numbers)
        wait_for(lambda: checkpoints_of(platform, uuid) == last_per_shard(first + second))
    finally:
        platform.close()


def test_parallelization_keeps_each_partition_key_in_order(
    platform: Platform, tmp_path: Path
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "parallel")
    seqs = put(platform, "parallel", [(f"key-{i % 6}", {"n": i}) for i in range(60)])
    mapping(platform, FN, arn, BatchSize=4, ParallelizationFactor=3)
    wait_for(lambda: set(succeeded(platform, FN)) >= set(seqs))
    per_key: dict[str, list[int]] = {}
    for call_ in invocations(platform, FN):
        for record in call_["records"]:
            per_key.setdefault(record["kinesis"]["partitionKey"], []).append(data_of(record)["n"])
    for numbers in per_key.values():
        assert numbers == sorted(numbers)


def test_children_of_a_split_shard_start_after_their_parent_is_finished(
    platform: Platform,
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "split")
    keys = [f"key-{i}" for i in range(8)]
    before = put(platform, "split", [(keys[i % 8], {"n": i}) for i in range(24)])
    call(
        platform,
        "kinesis",
        "UpdateShardCount",
        StreamName="split",
        TargetShardCount=2,
        ScalingType="UNIFORM_SCALING",
    )
    after = put(platform, "split", [(keys[i % 8], {"n": i}) for i in range(24, 48)])
    mapping(platform, FN, arn, BatchSize=5)
    wait_for(lambda: set(succeeded(platform, FN)) >= set(before + after))
    per_key: dict[str, list[int]] = {}
    for call_ in invocations(platform, FN):
        for record in call_["records"]:
            per_key.setdefault(record["kinesis"]["partitionKey"], []).append(data_of(record)["n"])
    assert set(per_key) == set(keys)
    for numbers in per_key.values():
        assert numbers == sorted(numbers), "a key's records stay in order across the split"
