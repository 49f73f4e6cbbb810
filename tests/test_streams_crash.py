"""Crash test for event source mappings on streams (issue 5): 100,000 Kinesis records, 100 of
them poison, consumed through a mapping (batches of 100, bisect on error, 2 retries, OnFailure
to SQS) while the server is killed with SIGKILL 10 times and restarted on the same data dir.

How it is observed, through public APIs only:
- A producer puts the records (PutRecords of 500) at a steady pace while the kills happen; a
  put that failed is put again, so a record may be in the stream twice (different sequence
  numbers). The truth is what the stream holds at the end, read with GetRecords: every
  (shard, sequence number) and whether its data is poison.
- The function records every call (successful or not) in DynamoDB table ``calls`` before it
  answers: the shard, the sequence numbers of its batch, whether it failed, and the time it
  started (this host's clock, the one the test reads when it kills the server). A call whose
  record did not commit (the server died first) is one the platform will repeat.

Asserted:
- *order*: within each call, sequence numbers increase; over a shard's calls in time order,
  each record seen for the first time is later than every record seen before it (retries,
  bisected halves and re-deliveries after a kill only repeat records already seen);
- *nothing skipped*: every good record of the stream is in a successful call;
- *OnFailure*: the destination holds exactly the poison records, each once, each alone in its
  batch (``batchSize`` 1, start = end): bisect isolated it;
- *checkpoint on success*: a record handled successfully is delivered again only if the server
  was killed between the two deliveries (the checkpoint was committed after the batch, else).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from crash_support import Server, zip_files

RECORDS = 100_000
POISON_EVERY = 1000  # 100 poison records
SHARDS = 4
KILLS = 10
PUT_BATCH = 500
PRODUCE_S = 40.0  # the producer's pace: the kills land while records arrive and are consumed

CONSUMER = """
import base64
import json
import time
import uuid

import boto3
from botocore.config import Config

_ddb = boto3.client("dynamodb", config=Config(retries={"max_attempts": 1}))


def handler(event, context):
    started = time.time_ns()
    records = event["Records"]
    shard = records[0]["eventID"].split(":")[0]
    seqs = [r["kinesis"]["sequenceNumber"] for r in records]
    poison = any(json.loads(base64.b64decode(r["kinesis"]["data"])).get("poison") for r in records)
    _ddb.put_item(
        TableName="calls",
        Item={
            "pk": {"S": f"{started:020d}-{uuid.uuid4().hex}"},
            "shard": {"S": shard},
            "seqs": {"S": ",".join(seqs)},
            "failed": {"BOOL": poison},
            "started": {"N": str(started)},
        },
    )
    if poison:
        raise ValueError("poison record in the batch")
    return {}
"""


def _is_poison(i: int) -> bool:
    return i % POISON_EVERY == POISON_EVERY // 2


def _stream_contents(kinesis: Any, stream: str) -> dict[str, list[tuple[str, bool]]]:
    """Every record of every shard, in order: (sequence number, poison)."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        sid = shard["ShardId"]
        it = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=sid, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        rows: list[tuple[str, bool]] = []
        while it:
            page = kinesis.get_records(ShardIterator=it, Limit=10_000)
            for r in page["Records"]:
                rows.append((r["SequenceNumber"], bool(json.loads(r["Data"]).get("poison"))))
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            it = page.get("NextShardIterator")
        out[sid] = rows
    return out


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _failures(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every OnFailure record in the queue (a 12-hour visibility timeout: each read once)."""
    out: list[dict[str, Any]] = []
    empty = 0
    while empty < 2:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=43200, WaitTimeSeconds=1
        ).get("Messages", [])
        empty = 0 if got else empty + 1
        out += [json.loads(m["Body"]) for m in got]
    return out


class Producer(threading.Thread):
    """Puts the records at a steady pace, following restarts; a failed put is put again."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.acked = 0
        self.errors = 0

    def run(self) -> None:
        generation, client = -1, None
        t0 = time.monotonic()
        for start in range(0, RECORDS, PUT_BATCH):
            entries = [
                {
                    "Data": json.dumps({"i": i, "poison": _is_poison(i)}).encode(),
                    "PartitionKey": f"key-{i % 997}",
                }
                for i in range(start, start + PUT_BATCH)
            ]
            due = t0 + PRODUCE_S * start / RECORDS
            time.sleep(max(0.0, due - time.monotonic()))  # pacing the load, not timing logic
            while True:
                now_gen, endpoint = self.server.current()
                if now_gen != generation:
                    client, generation = self.server.client("kinesis", endpoint), now_gen
                assert client is not None
                try:
                    out = client.put_records(StreamName="crash", Records=entries)
                    if out["FailedRecordCount"]:
                        raise RuntimeError("records failed")
                    self.acked += PUT_BATCH
                    break
                except Exception:
                    self.errors += 1
                    self.server.wait_newer(generation, timeout=1.0)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_ten_times_keeps_order_checkpoints_and_isolates_poison(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    kill_times: list[int] = []
    t_start = time.monotonic()
    try:
        _, endpoint = server.current()
        kinesis, ddb = server.client("kinesis", endpoint), server.client("dynamodb", endpoint)
        sqs, lam = server.client("sqs", endpoint), server.client("lambda", endpoint)
        kinesis.create_stream(StreamName="crash", ShardCount=SHARDS)
        stream_arn = kinesis.describe_stream_summary(StreamName="crash")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        ddb.create_table(
            TableName="calls",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        failures_url = sqs.create_queue(QueueName="failures")["QueueUrl"]
        failures_arn = sqs.get_queue_attributes(QueueUrl=failures_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        lam.create_function(
            FunctionName="consumer",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/lambda-role",
            Handler="app.handler",
            Timeout=30,
            Code={"ZipFile": zip_files({"app.py": CONSUMER})},
        )
        lam.get_waiter("function_active_v2").wait(
            FunctionName="consumer", WaiterConfig={"Delay": 1}
        )
        lam.create_event_source_mapping(
            FunctionName="consumer",
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=100,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=2,
            DestinationConfig={"OnFailure": {"Destination": failures_arn}},
        )

        producer = Producer(server)
        producer.start()
        # Kills spread over the producer's run, each after the restarted server has had time
        # to resume polling.
        for _ in range(KILLS):
            time.sleep(PRODUCE_S / (KILLS + 1))  # spreading the kills, not timing logic
            kill_times.append(time.time_ns())
            server.process.kill()
            server.restart()
        producer.join(timeout=300)
        assert not producer.is_alive(), "the producer did not finish"
        assert producer.acked == RECORDS

        _, endpoint = server.current()
        kinesis, ddb = server.client("kinesis", endpoint), server.client("dynamodb", endpoint)
        sqs = server.client("sqs", endpoint)
        stream = _stream_contents(kinesis, "crash")
        good = {(sid, seq) for sid, rows in stream.items() for seq, poison in rows if not poison}
        poison = {(sid, seq) for sid, rows in stream.items() for seq, p in rows if p}

        # Until every good record has been handled successfully and as many OnFailure
        # records as poison records have arrived (or the deadline).
        deadline = time.monotonic() + 300
        while True:
            calls = _scan(ddb, "calls")
            done = {
                (c["shard"]["S"], s)
                for c in calls
                if not c["failed"]["BOOL"]
                for s in c["seqs"]["S"].split(",")
            }
            attrs = sqs.get_queue_attributes(
                QueueUrl=failures_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            arrived = int(attrs["ApproximateNumberOfMessages"])
            if (good <= done and arrived >= len(poison)) or time.monotonic() > deadline:
                break
            time.sleep(1.0)  # polling for progress, not timing logic
        failures = _failures(sqs, failures_url)
    finally:
        server.abandon()
        server.process.stop()

    # -- order within each shard ---------------------------------------------------------------
    order = {sid: {seq: n for n, (seq, _) in enumerate(rows)} for sid, rows in stream.items()}
    by_shard: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in calls:
        by_shard[c["shard"]["S"]].append(c)
    first_seen_out_of_order = 0
    for sid, shard_calls in by_shard.items():
        shard_calls.sort(key=lambda c: int(c["started"]["N"]))
        seen_max = -1
        seen: set[str] = set()
        for c in shard_calls:
            positions = [order[sid][s] for s in c["seqs"]["S"].split(",")]
            assert positions == sorted(positions) and len(set(positions)) == len(positions)
            for s, pos in zip(c["seqs"]["S"].split(","), positions, strict=True):
                if s not in seen:
                    if pos < seen_max:
                        first_seen_out_of_order += 1
                    seen.add(s)
                    seen_max = max(seen_max, pos)
    assert first_seen_out_of_order == 0

    # -- no good record skipped --------------------------------------------------------------
    ok_calls = [c for c in calls if not c["failed"]["BOOL"]]
    handled = {(c["shard"]["S"], s) for c in ok_calls for s in c["seqs"]["S"].split(",")}
    skipped = good - handled
    assert len(poison) >= RECORDS // POISON_EVERY
    assert not skipped, f"{len(skipped)} good records never handled"

    # -- exactly the poison records reached OnFailure, each alone ------------------------------
    isolated = [f["KinesisBatchInfo"] for f in failures]
    assert all(i["batchSize"] == 1 for i in isolated), isolated
    assert all(i["startSequenceNumber"] == i["endSequenceNumber"] for i in isolated)
    got = [(i["shardId"], i["startSequenceNumber"]) for i in isolated]
    assert len(got) == len(set(got)), "a poison record reached OnFailure twice"
    assert set(got) == poison
    assert all(f["requestContext"]["condition"] == "RetryAttemptsExhausted" for f in failures)

    # -- the checkpoint follows each successful batch ----------------------------------------
    first_ok: dict[tuple[str, str], int] = {}
    redelivered = unexplained = 0
    for c in sorted(ok_calls, key=lambda c: int(c["started"]["N"])):
        t = int(c["started"]["N"])
        for s in c["seqs"]["S"].split(","):
            key = (c["shard"]["S"], s)
            if key not in first_ok:
                first_ok[key] = t
                continue
            redelivered += 1
            if not any(first_ok[key] < k < t for k in kill_times):
                unexplained += 1
    print(
        f"\nstreams crash test: {KILLS} x SIGKILL in {time.monotonic() - t_start:.1f} s; "
        f"{sum(len(r) for r in stream.values())} records in the stream ({len(poison)} poison), "
        f"{len(calls)} calls recorded ({len(ok_calls)} successful), "
        f"{redelivered} records redelivered after a kill, {len(failures)} OnFailure records, "
        f"producer retries {producer.errors}"
    )
    assert unexplained == 0, f"{unexplained} records redelivered with no kill in between"
