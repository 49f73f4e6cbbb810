"""Streams benchmark: Kinesis ingest, event source mappings end to end, DynamoDB items, HTTP APIs.

All in one run on one machine, through public APIs only, the store at its default
``synchronous=FULL``; each figure next to its peer:

(a) Kinesis ingest: PutRecords of 500 records of 100 bytes into a 4-shard stream, pre-signed
    and replayed on 16 keep-alive connections (asyncio on uvloop: the server's capacity with
    little client cost), in records/s; PutRecord (one record per call) the same way. The peer
    is the floor any durable log on this disk pays: raw SQLite (WAL, ``synchronous=FULL``),
    one INSERT + COMMIT per batch of 500 and per record.
(b) Event source mapping end to end: Kinesis -> Lambda (batches of 100) -> DynamoDB
    BatchWriteItem. The records are put first; the figure is records/s from
    CreateEventSourceMapping until the last item is in the table (4 shards, TRIM_HORIZON). The
    function writes each batch with BatchWriteItem (25 items per call) through boto3 inside the
    function. The end is polled by reading each partition key's last item (cheap); the table's
    item count is read once at the end. Measured twice over the same records, each time with a
    fresh function and table, started by one empty Invoke before the clock starts (as the
    peer's is): ParallelizationFactor 1 (one batch in flight per shard, so the pipeline waits
    on each batch's four calls in turn) and ``PARALLELIZATION``; the goal ratio takes the
    better. The peer is the same function invoked directly (sync Invoke with batches of 100
    records over the stream's 500 partition keys, one caller per shard): the pipeline's cost
    without the poller. Both on a server with data-plane workers (``--workers 3``, as in (c)),
    which serve part of the BatchWriteItem calls.
(c) DynamoDB single-item operations on a table with a hash and a range key: PutItem, GetItem
    and Query (one partition of 10 items), pre-signed on 16 connections, in ops/s; boto3 on one
    thread beside them. Measured on a server with two data-plane workers (``--workers 3``: three
    processes serve the port; with 16 connections spread by the kernel's hash, three processes
    on two cores balance better than two, measured 5 of 6 runs over the goal against 3 of 6),
    and (part ``dynamodb1``) on the single-process server, its peer. The other peer is raw SQLite: an upsert + COMMIT per write, a SELECT by
    primary key per read.
(d) HTTP API: GET through an AWS_PROXY integration (payload 2.0) to a no-op function, on 16
    connections, in requests/s. The peer is the same function through Lambda's own Invoke API
    (pre-signed, same connections): the ratio is what API Gateway's routing and event mapping
    cost.

Goals (issue 5), printed as ratios and stored in the JSON metrics: >= 20,000 Kinesis records/s
ingested, >= 10,000 records/s through ESM -> Lambda -> DynamoDB, >= 5,000 DynamoDB single-item
ops/s (the slowest of PutItem / GetItem / Query), >= 3,000 HTTP API requests/s.

Run: ``python -m benchmarks.streams [--quick] [--json FILE] [--only PARTS]``.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks._common import Bench as BenchBase
from benchmarks._common import replay_load, run_parts, sign_request, time_calls

CONNECTIONS = 16
WORKERS = 3
"""Processes serving the port in the DynamoDB and ESM parts (``--workers``), see (c)."""
PARALLELIZATION = 4
"""The ESM part's second mapping: batches in flight per shard (``ParallelizationFactor``)."""
SHARDS = 4
PROBE = 25
"""Items read per poll while waiting for the end of an ESM run."""
DATA = b"x" * 100

Rows = list[tuple[str, dict[str, float]]]
Metrics = dict[str, float]

SINK_HANDLER = """\
import base64
import os

import boto3

_ddb = boto3.client("dynamodb")
_TABLE = os.environ["TABLE"]


def handler(event, context):
    items = [
        {"PutRequest": {"Item": {
            "pk": {"S": r["kinesis"]["partitionKey"]},
            "sk": {"S": r["kinesis"]["sequenceNumber"]},
            "size": {"N": str(len(base64.b64decode(r["kinesis"]["data"])))},
        }}}
        for r in event["Records"]
    ]
    for i in range(0, len(items), 25):
        pending = {_TABLE: items[i : i + 25]}
        while pending:
            pending = _ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return {"written": len(items)}
"""


def rate_row(rps: float) -> dict[str, float]:
    return {"p50_us": float("nan"), "p99_us": float("nan"), "rps": rps}


def ok_status(status: int) -> Any:
    return lambda got, body: got == status


class Bench(BenchBase):
    """The server under test, with a replayed load on ``CONNECTIONS`` connections."""

    def load(self, request: bytes, budget: int, seconds: float = 60) -> dict[str, float]:
        return replay_load(self.endpoint, request, CONNECTIONS, budget, seconds, ok_status(200))


def sqlite_floor(root: Path, n: int, per_commit: int) -> float:
    """The peer: INSERT + COMMIT with fsync (WAL, synchronous=FULL) of ``per_commit`` rows."""
    db = sqlite3.connect(root / f"floor-{per_commit}.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, shard INT, data BLOB, at INTEGER)")
    t0 = time.perf_counter()
    for _ in range(max(1, n // per_commit)):
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO r (shard, data, at) VALUES (?, ?, ?)",
            [(0, DATA, time.time_ns())] * per_commit,
        )
        db.execute("COMMIT")
    rate = max(1, n // per_commit) * per_commit / (time.perf_counter() - t0)
    db.close()
    return rate


# -- (a) Kinesis ingest --------------------------------------------------------------------------


def make_stream(kinesis: Any, name: str) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=SHARDS)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    return str(
        kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    )


def put_records_request(bench: Bench, stream: str, n: int) -> bytes:
    data = base64.b64encode(DATA).decode()
    entries = [{"Data": data, "PartitionKey": f"key-{i}"} for i in range(n)]
    return bench.json_request(
        "kinesis",
        "Kinesis_20131202.PutRecords",
        "1.1",
        {"StreamName": stream, "Records": entries},
    )


def kinesis_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    kinesis = bench.server.client("kinesis")
    make_stream(kinesis, "ingest")
    batches = 40 if quick else 200
    r = bench.load(put_records_request(bench, "ingest", 500), batches)
    r["rps"] *= 500
    rows.append((f"kinesis: PutRecords x500, raw x{CONNECTIONS} (records/s)", r))
    metrics["kinesis_put_records_per_s"] = r["rps"]
    metrics["goal_kinesis_ingest_ratio"] = r["rps"] / 20_000
    single = bench.json_request(
        "kinesis",
        "Kinesis_20131202.PutRecord",
        "1.1",
        {"StreamName": "ingest", "Data": base64.b64encode(DATA).decode(), "PartitionKey": "k"},
    )
    r = bench.load(single, 1000 if quick else 5000)
    rows.append((f"kinesis: PutRecord, raw x{CONNECTIONS} (records/s)", r))
    metrics["kinesis_put_record_per_s"] = r["rps"]
    for per_commit in (500, 1):
        rate = sqlite_floor(root, 5000 if per_commit > 1 else 1000, per_commit)
        rows.append((f"peer: SQLite commit per {per_commit} records (records/s)", rate_row(rate)))
        metrics[f"peer_sqlite_commit_{per_commit}_records_per_s"] = rate
    metrics["kinesis_put_records_vs_sqlite_floor"] = (
        metrics["kinesis_put_records_per_s"] / metrics["peer_sqlite_commit_500_records_per_s"]
    )


# -- (b) ESM end to end -------------------------------------------------------------------------


def create_function(bench: Bench, root: Path, name: str, source: str, env: dict[str, str]) -> str:
    from benchmarks.functions import create_function as create
    from benchmarks.functions import write_code

    lam, iam = bench.server.client("lambda", read_timeout=300), bench.server.client("iam")
    return create(lam, iam, name, write_code(root, name, source), env)


def item_count(ddb: Any, table: str) -> int:
    """The table's item count. DescribeTable counts the table's rows in SQL: a full pass over
    the table, so it is called once a run is over, never polled while one is measured."""
    return int(ddb.describe_table(TableName=table)["Table"]["ItemCount"])


def make_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def put_last_records(kinesis: Any, stream: str, n: int) -> dict[str, str]:
    """The stream's last ``n`` records, one per partition key (the keys of
    ``put_records_request``), put through boto3: each key's sequence number."""
    keys = [f"key-{i}" for i in range(n)]
    entries = [{"Data": DATA, "PartitionKey": key} for key in keys]
    out = kinesis.put_records(StreamName=stream, Records=entries)
    if out.get("FailedRecordCount"):
        raise RuntimeError(f"PutRecords failed for {out['FailedRecordCount']} records")
    return {key: r["SequenceNumber"] for key, r in zip(keys, out["Records"], strict=True)}


def wait_items(
    ddb: Any, table: str, last: dict[str, str], want: int, limit_s: float
) -> tuple[float, int]:
    """When the sink function has written every key's last record, and the table's item count
    then (``want`` if none went missing).

    The sink writes a record as the item (partition key, sequence number), and a mapping delivers
    the records of one partition key in order, each batch after the one before it succeeded; so
    once a key's last record is in the table, so are its earlier ones. Polling those items by
    key costs the server little; the count (DescribeTable, a pass over the whole table) is read
    once, at the end."""
    deadline = time.perf_counter() + limit_s
    pending = list(last.items())
    while pending and time.perf_counter() < deadline:
        # The first few keys still missing: while the run goes on that is one small read per
        # poll; at the end every probe finds its keys and the next follow without a pause.
        probe = pending[:PROBE]
        request = {
            table: {
                "Keys": [{"pk": {"S": k}, "sk": {"S": seq}} for k, seq in probe],
                "ProjectionExpression": "pk",
            }
        }
        found = {i["pk"]["S"] for i in ddb.batch_get_item(RequestItems=request)["Responses"][table]}
        pending = [(k, seq) for k, seq in probe if k not in found] + pending[PROBE:]
        if len(found) < len(probe):
            time.sleep(0.05)  # polling for the end, not timing logic
    done_at = time.perf_counter()
    return done_at, item_count(ddb, table)


def kinesis_records(shard: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": f"direct-{shard}",
                "sequenceNumber": f"{shard:04d}{i:012d}",
                "data": base64.b64encode(DATA).decode(),
                "approximateArrivalTimestamp": time.time(),
            },
            "eventSource": "aws:kinesis",
        }
        for i in range(n)
    ]


def esm_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    server = bench.server
    kinesis, ddb = server.client("kinesis"), server.client("dynamodb")
    lam = server.client("lambda", read_timeout=300)
    n = 4000 if quick else 40_000
    make_table(ddb, "sink")
    make_table(ddb, "direct")
    create_function(bench, root, "sink", SINK_HANDLER, {"TABLE": "sink"})
    create_function(bench, root, "direct", SINK_HANDLER, {"TABLE": "direct"})

    # The peer first: the same function, invoked directly with batches of 100, one caller per
    # shard (what the pollers do, minus reading the stream and checkpointing).
    per_caller = n // SHARDS // 100
    payloads = [json.dumps({"Records": kinesis_records(s, 100)}).encode() for s in range(SHARDS)]
    lam.invoke(FunctionName="direct", Payload=payloads[0])  # the cold start

    def caller(shard: int) -> None:
        client = server.client("lambda", read_timeout=300)
        body = json.loads(payloads[shard])
        for b in range(per_caller):
            for i, r in enumerate(body["Records"]):
                r["kinesis"]["sequenceNumber"] = f"{shard:04d}{b:06d}{i:06d}"
                # The stream's 500 partition keys, so the items land as the mapping's do: in 500
                # partitions of the table, 25 of them per BatchWriteItem.
                r["kinesis"]["partitionKey"] = f"key-{(b * 100 + i + shard * 125) % 500}"
            client.invoke(FunctionName="direct", Payload=json.dumps(body).encode())

    threads = [threading.Thread(target=caller, args=(s,)) for s in range(SHARDS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    direct = per_caller * 100 * SHARDS / (time.perf_counter() - t0)
    rows.append((f"peer: direct Invoke x{SHARDS}, 100 records each (records/s)", rate_row(direct)))
    metrics["peer_direct_invoke_records_per_s"] = direct

    stream_arn = make_stream(kinesis, "esm")
    request = put_records_request(bench, "esm", 500)
    r = bench.load(request, n // 500 - 1, 120)
    last = put_last_records(kinesis, "esm", 500)
    put = int(r["ok"]) * 500 + len(last)
    # The same records twice, each time to a fresh function and table: one batch in flight per
    # shard (ParallelizationFactor 1, the default), then PARALLELIZATION batches per shard
    # (Lambda's knob for a consumer that waits on I/O: records of one partition key stay in
    # order, in one lane).
    best = 0.0
    for factor in (1, PARALLELIZATION):
        name = "sink" if factor == 1 else f"sink{factor}"
        if factor != 1:
            make_table(ddb, name)
            create_function(bench, root, name, SINK_HANDLER, {"TABLE": name})
        # Started once, as the peer's function is before it is timed: the figure is the
        # mapping's rate, not the function's first init (~0.3 s here, its snapshot).
        lam.invoke(FunctionName=name, Payload=b'{"Records": []}')
        t0 = time.perf_counter()
        lam.create_event_source_mapping(
            FunctionName=name,
            EventSourceArn=stream_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=100,
            ParallelizationFactor=factor,
        )
        done_at, seen = wait_items(ddb, name, last, put, 600)
        rate = seen / (done_at - t0)
        label = f"esm: Kinesis -> Lambda (100) -> DynamoDB, {SHARDS} shards"
        rows.append((f"{label}, ParallelizationFactor {factor} (records/s)", rate_row(rate)))
        suffix = "" if factor == 1 else f"_pf{factor}"
        metrics[f"esm{suffix}_records_per_s"] = rate
        metrics[f"esm{suffix}_records_missing"] = float(put - seen)
        best = max(best, rate)
    metrics["esm_vs_direct_invoke"] = metrics["esm_records_per_s"] / direct
    metrics["goal_esm_ratio"] = best / 10_000


# -- (c) DynamoDB single-item operations --------------------------------------------------------


def sqlite_item_floor(root: Path, n: int) -> tuple[float, float]:
    db = sqlite3.connect(root / "items.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE i (t INT, h BLOB, r BLOB, item TEXT, PRIMARY KEY (t, h, r))")
    item = json.dumps({"pk": {"S": "p"}, "sk": {"S": "s"}, "v": {"S": "x" * 100}})
    t0 = time.perf_counter()
    for k in range(n):
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO i VALUES (1, ?, ?, ?) ON CONFLICT DO UPDATE SET item = excluded.item",
            (b"p", str(k % 10).encode(), item),
        )
        db.execute("COMMIT")
    writes = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for k in range(n):
        db.execute(
            "SELECT item FROM i WHERE t = 1 AND h = ? AND r = ?", (b"p", str(k % 10).encode())
        )
    reads = n / (time.perf_counter() - t0)
    db.close()
    return writes, reads


def dynamodb_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    dynamodb_cases(bench, root, quick, rows, metrics, label=f"{WORKERS} processes", suffix="")
    writes, reads = sqlite_item_floor(root, 500 if quick else 3000)
    rows.append(("peer: SQLite upsert + COMMIT (ops/s)", rate_row(writes)))
    rows.append(("peer: SQLite SELECT by key (ops/s)", rate_row(reads)))
    metrics["peer_sqlite_upsert_per_s"] = writes
    metrics["peer_sqlite_select_per_s"] = reads
    metrics["dynamodb_putitem_vs_sqlite_floor"] = metrics["dynamodb_putitem_per_s"] / writes
    slowest = min(metrics[f"dynamodb_{op}_per_s"] for op in ("putitem", "getitem", "query"))
    metrics["goal_dynamodb_ratio"] = slowest / 5_000


def dynamodb_single_part(
    bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics
) -> None:
    """The peer of ``dynamodb_part``: the same cases on the single-process server."""
    dynamodb_cases(bench, root, quick, rows, metrics, label="1 process", suffix="_1proc")


def dynamodb_cases(
    bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics, label: str, suffix: str
) -> None:
    ddb = bench.server.client("dynamodb")
    make_table(ddb, "items")
    for i in range(10):
        ddb.put_item(
            TableName="items",
            Item={"pk": {"S": "p"}, "sk": {"S": f"{i:02d}"}, "v": {"S": "x" * 100}},
        )
    n = 1000 if quick else 8000
    item = {"pk": {"S": "p"}, "sk": {"S": "05"}, "v": {"S": "x" * 100}}
    key = {"pk": {"S": "p"}, "sk": {"S": "05"}}
    query = {
        "TableName": "items",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}},
    }
    cases = (
        ("PutItem", {"TableName": "items", "Item": item}, lambda: ddb.put_item(TableName="items", Item=item)),
        ("GetItem", {"TableName": "items", "Key": key}, lambda: ddb.get_item(TableName="items", Key=key)),
        ("Query", query, lambda: ddb.query(**query)),
    )  # fmt: skip
    for op, params, boto_call in cases:
        request = bench.json_request("dynamodb", f"DynamoDB_20120810.{op}", "1.0", params)
        r = bench.load(request, n)
        rows.append((f"dynamodb: {op}, raw x{CONNECTIONS}, {label} (ops/s)", r))
        metrics[f"dynamodb_{op.lower()}{suffix}_per_s"] = r["rps"]
        r = time_calls(boto_call, n // 8)
        rows.append((f"dynamodb: {op}, boto3 1 thread, {label} (ops/s)", r))
        metrics[f"dynamodb_{op.lower()}{suffix}_boto3_per_s"] = r["rps"]


# -- (d) HTTP API -------------------------------------------------------------------------------


def httpapi_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    from benchmarks.functions import NOOP_HANDLER

    arn = create_function(bench, root, "noop", NOOP_HANDLER, {})
    apigw = bench.server.client("apigatewayv2")
    api = apigw.create_api(Name="bench", ProtocolType="HTTP", Target=arn)
    path = f"/_apis/{api['ApiId']}/ping"
    host = bench.endpoint.split("//", 1)[1]
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n".encode()
    n = 1000 if quick else 8000
    bench.load(request, 50)  # the cold start
    r = bench.load(request, n)
    rows.append((f"httpapi: GET -> noop (payload 2.0), x{CONNECTIONS} (req/s)", r))
    metrics["httpapi_requests_per_s"] = r["rps"]
    metrics["goal_httpapi_ratio"] = r["rps"] / 3_000
    invoke = sign_request(
        bench.endpoint,
        bench.key,
        bench.secret,
        "lambda",
        "POST",
        "/2015-03-31/functions/noop/invocations",
        b"{}",
    )
    r = bench.load(invoke, n)
    rows.append((f"peer: Lambda Invoke noop, raw x{CONNECTIONS} (req/s)", r))
    metrics["peer_lambda_invoke_per_s"] = r["rps"]
    metrics["httpapi_vs_invoke"] = metrics["httpapi_requests_per_s"] / r["rps"]


def main() -> None:
    run_parts(
        "streams",
        __doc__ or "",
        {
            "kinesis": kinesis_part,
            "esm": esm_part,
            "dynamodb": dynamodb_part,
            "dynamodb1": dynamodb_single_part,
            "httpapi": httpapi_part,
        },
        bench=Bench,
        server_args={"dynamodb": ["--workers", str(WORKERS)], "esm": ["--workers", str(WORKERS)]},
    )


if __name__ == "__main__":
    main()
