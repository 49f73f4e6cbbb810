"""Kinesis mappings with ParallelizationFactor above 1 (``stream_pipeline``): lanes that run
ahead of a slow one, per-key order through retries, bisection, factor changes and a split."""

from __future__ import annotations

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
    put,
    receive_all,
    succeeded,
    wait_for,
)

from lambdamaker.platform import Platform
from lambdamaker.testing import zip_source

FN = "consumer"

pytestmark = pytest.mark.usefixtures("fast_stream_poller")

TIMED = """
import base64, json, time

def handler(event, context):
    start = time.time()
    records = event["Records"]
    if any(json.loads(base64.b64decode(r["kinesis"]["data"])).get("slow") for r in records):
        time.sleep(2.0)
    print("ESM " + json.dumps({
        "start": start,
        "end": time.time(),
        "seqs": [r["kinesis"]["sequenceNumber"] for r in records],
        "keys": [r["kinesis"]["partitionKey"] for r in records],
    }))
"""


def first_seen_in_order(numbers: list[int]) -> bool:
    """Each record seen for the first time is later than every record seen before it (retries
    and bisected halves only repeat records already seen)."""
    seen: set[int] = set()
    for n in numbers:
        if n not in seen and seen and n < max(seen):
            return False
        seen.add(n)
    return True


def per_key_numbers(platform: Platform) -> dict[str, list[int]]:
    per_key: dict[str, list[int]] = {}
    for call_ in invocations(platform, FN):
        for record in call_["records"]:
            per_key.setdefault(record["kinesis"]["partitionKey"], []).append(data_of(record)["n"])
    return per_key


def test_other_lanes_run_ahead_while_one_lane_is_slow(platform: Platform) -> None:
    call(
        platform,
        "lambda",
        "CreateFunction",
        FunctionName="timed",
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": zip_source(TIMED)},
        Timeout=30,
    )
    wait_for(
        lambda: (
            call(platform, "lambda", "GetFunctionConfiguration", FunctionName="timed")["State"]
            == "Active"
        )
    )
    arn = create_stream(platform, "ahead")
    keys = [f"key-{i}" for i in range(8)]
    seqs = put(platform, "ahead", [("slow-key", {"n": 0, "slow": True})])
    seqs += put(platform, "ahead", [(keys[i % 8], {"n": i}) for i in range(1, 41)])
    uuid = mapping(platform, "timed", arn, BatchSize=5, ParallelizationFactor=2)
    wait_for(lambda: checkpoints_of(platform, uuid) == {"shardId-000000000000": seqs[-1]})
    calls: list[dict[str, Any]] = invocations(platform, "timed")
    (slow,) = [c for c in calls if seqs[0] in c["seqs"]]
    first_chunk = set(seqs[:10])  # what one read of batch size x factor records holds
    during = [c for c in calls if c is not slow and slow["start"] < c["start"] < slow["end"]]
    later = [s for c in during for s in c["seqs"] if s not in first_chunk]
    # A chunk barrier would hold every record after the first read back until the slow batch
    # ended; lanes that run ahead invoke some of them meanwhile.
    assert later, "no record beyond the first read was invoked while the slow batch ran"
    invoked = [s for c in calls for s in c["seqs"]]
    assert sorted(set(invoked)) == sorted(seqs)
    order = {s: i for i, s in enumerate(seqs)}
    per_key: dict[str, list[int]] = {}
    for c in sorted(calls, key=lambda c: c["start"]):
        for key, seq in zip(c["keys"], c["seqs"], strict=True):
            per_key.setdefault(key, []).append(order[seq])
    for numbers in per_key.values():
        assert numbers == sorted(numbers)


def test_bisect_with_lanes_isolates_the_poison_and_keeps_keys_in_order(
    platform: Platform,
) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "lanes-bisect")
    url, queue_arn = create_queue(platform, "lanes-bisect-failures")
    items = [(f"key-{i % 5}", {"n": i, "poison": i in (13, 37)}) for i in range(60)]
    seqs = put(platform, "lanes-bisect", items)
    uuid = mapping(
        platform,
        FN,
        arn,
        BatchSize=6,
        ParallelizationFactor=3,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    failures = receive_all(platform, url)
    isolated = sorted(f["KinesisBatchInfo"]["startSequenceNumber"] for f in failures)
    assert isolated == sorted([seqs[13], seqs[37]])
    assert all(f["KinesisBatchInfo"]["batchSize"] == 1 for f in failures)
    good = [s for i, s in enumerate(seqs) if i not in (13, 37)]
    assert sorted(set(succeeded(platform, FN))) == sorted(good)
    for numbers in per_key_numbers(platform).values():
        assert first_seen_in_order(numbers)


def test_changing_the_factor_midway_keeps_each_key_in_order(platform: Platform) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "refactor")
    keys = [f"key-{i}" for i in range(9)]
    seqs = put(platform, "refactor", [(keys[i % 9], {"n": i}) for i in range(90)])
    uuid = mapping(platform, FN, arn, BatchSize=2, ParallelizationFactor=3)
    wait_for(lambda: len(invocations(platform, FN)) >= 3)
    call(platform, "lambda", "UpdateEventSourceMapping", UUID=uuid, ParallelizationFactor=2)
    wait_for(lambda: len(invocations(platform, FN)) >= 12)
    call(platform, "lambda", "UpdateEventSourceMapping", UUID=uuid, ParallelizationFactor=1)
    seqs += put(platform, "refactor", [(keys[i % 9], {"n": i}) for i in range(90, 120)])
    wait_for(lambda: list(checkpoints_of(platform, uuid).values()) == [seqs[-1]])
    assert sorted(set(succeeded(platform, FN))) == sorted(seqs)
    per_key = per_key_numbers(platform)
    assert set(per_key) == set(keys)
    for numbers in per_key.values():
        assert numbers == sorted(numbers)


def test_lanes_finish_a_split_parent_before_its_children_start(platform: Platform) -> None:
    create_function(platform, FN)
    arn = create_stream(platform, "lanes-split")
    keys = [f"key-{i}" for i in range(8)]
    before = put(platform, "lanes-split", [(keys[i % 8], {"n": i}) for i in range(40)])
    call(
        platform,
        "kinesis",
        "UpdateShardCount",
        StreamName="lanes-split",
        TargetShardCount=2,
        ScalingType="UNIFORM_SCALING",
    )
    after = put(platform, "lanes-split", [(keys[i % 8], {"n": i}) for i in range(40, 80)])
    mapping(platform, FN, arn, BatchSize=3, ParallelizationFactor=4)
    wait_for(lambda: set(succeeded(platform, FN)) >= set(before + after))
    per_key = per_key_numbers(platform)
    assert set(per_key) == set(keys)
    for numbers in per_key.values():
        assert numbers == sorted(numbers), "a key's records stay in order across the split"
    assert sorted(succeeded(platform, FN)) == sorted(before + after), "none delivered twice"
