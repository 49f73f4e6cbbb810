"""Helpers for the Kinesis event source mapping tests: an in-process platform, a recording
function, and readers for what it saw."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lambdamaker.config import PlatformConfig
from lambdamaker.observability.log_tables import log_events, log_groups
from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.mappings.tables import esm_checkpoints
from lambdamaker.testing import zip_source
from lambdamaker.testing.inprocess import call_operation

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/esm-role"
SERVICES = ["s3", "iam", "sts", "sqs", "lambda", "kinesis"]

# Prints one "ESM {json}" line per invocation (read back from the function's log). A record
# whose data has "poison" always fails; one with "fail_first" fails while the batch starts
# with record n=0. MODE=partial reports failures as batchItemFailures, MODE=bogus answers an
# unknown itemIdentifier on its first call, otherwise failures raise.
HANDLER = """
import base64, json, os

CALLS = []

def handler(event, context):
    records = event["Records"]
    first = json.loads(base64.b64decode(records[0]["kinesis"]["data"]))
    failed = []
    for r in records:
        data = json.loads(base64.b64decode(r["kinesis"]["data"]))
        if data.get("poison") or (data.get("fail_first") and first.get("n") == 0):
            failed.append(r["kinesis"]["sequenceNumber"])
    mode = os.environ.get("MODE", "raise")
    bogus = mode == "bogus" and not CALLS
    CALLS.append(1)
    line = {"records": records, "failed": failed, "bogus": bogus, "partial": mode == "partial"}
    print("ESM " + json.dumps(line))
    if bogus:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}
    if failed and mode == "partial":
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
    if failed:
        raise ValueError("poison")
    return {"batchItemFailures": []}
"""


def new_platform(data_dir: Path) -> Platform:
    platform = Platform(PlatformConfig(data_dir=data_dir), services=SERVICES)
    platform.start()
    return platform


def call(platform: Platform, service: str, operation: str, **params: Any) -> dict[str, Any]:
    return call_operation(
        platform,
        service,
        operation,
        account=ACCOUNT,
        region=REGION,
        endpoint_url="http://esm.test",
        **params,
    )


def handler_zip() -> bytes:
    return zip_source(HANDLER)


def create_function(platform: Platform, name: str, mode: str = "raise") -> str:
    created = call(
        platform,
        "lambda",
        "CreateFunction",
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": handler_zip()},
        Environment={"Variables": {"MODE": mode}},
    )
    deadline = time.monotonic() + 30
    while call(platform, "lambda", "GetFunctionConfiguration", FunctionName=name)["State"] != (
        "Active"
    ):
        assert time.monotonic() < deadline, "function did not become Active"
        time.sleep(0.02)
    return str(created["FunctionArn"])


def create_stream(platform: Platform, name: str, shards: int = 1) -> str:
    call(platform, "kinesis", "CreateStream", StreamName=name, ShardCount=shards)
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def put(platform: Platform, stream: str, items: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Put (partition key, JSON data) records; their sequence numbers in order."""
    out = call(
        platform,
        "kinesis",
        "PutRecords",
        StreamName=stream,
        Records=[{"PartitionKey": k, "Data": json.dumps(d).encode()} for k, d in items],
    )
    return [str(r["SequenceNumber"]) for r in out["Records"]]


def create_queue(platform: Platform, name: str) -> tuple[str, str]:
    url = str(call(platform, "sqs", "CreateQueue", QueueName=name)["QueueUrl"])
    return url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def receive_all(platform: Platform, url: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        messages = call(
            platform, "sqs", "ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10
        ).get("Messages", [])
        if not messages:
            return got
        got.extend(json.loads(m["Body"]) for m in messages)


def invocations(platform: Platform, function: str) -> list[dict[str, Any]]:
    """What the function printed per invocation, in order (lanes run one call at a time)."""
    platform.logs.flush()
    with platform.store.read() as conn:
        gid = conn.execute(
            sa.select(log_groups.c.id).where(log_groups.c.name == f"/aws/lambda/{function}")
        ).scalar()
        if gid is None:
            return []
        messages = conn.execute(
            sa.select(log_events.c.message)
            .where(log_events.c.group_id == gid)
            .order_by(log_events.c.timestamp_ms, log_events.c.id)
        ).scalars()
        return [json.loads(m[4:]) for m in messages if m.startswith("ESM ")]


def data_of(record: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


def succeeded(platform: Platform, function: str) -> list[str]:
    """Sequence numbers the function processed without reporting them failed, in call order
    (records before the lowest failure of a partial response count as processed)."""
    done: list[str] = []
    for call_ in invocations(platform, function):
        seqs = [r["kinesis"]["sequenceNumber"] for r in call_["records"]]
        if call_["bogus"]:
            continue
        if call_["failed"]:
            if call_["partial"]:
                done.extend(seqs[: min(seqs.index(s) for s in call_["failed"])])
            continue
        done.extend(seqs)
    return done


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for the pollers' threads (real work, not time logic) to reach a state."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the poller"
        time.sleep(0.02)


def checkpoints_of(platform: Platform, mapping_uuid: str) -> dict[str, str | None]:
    with platform.store.read() as conn:
        rows = conn.execute(
            sa.select(esm_checkpoints.c.shard_id, esm_checkpoints.c.checkpoint).where(
                esm_checkpoints.c.uuid == mapping_uuid
            )
        ).all()
    return {row.shard_id: row.checkpoint for row in rows}


def mapping(platform: Platform, function: str, stream: str, **params: Any) -> str:
    """CreateEventSourceMapping in-process (TRIM_HORIZON, batches of 10 unless given)."""
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
