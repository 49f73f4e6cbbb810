"""Events benchmark: async invokes, SQS throughput, EventBridge pattern matching, and the peers.

All in one run on one machine, through public APIs only (plus the pattern engine, in process):

(a) Async invokes (``InvocationType=Event``) of a no-op function, the store at its default
    ``synchronous=FULL``:
    - *accepted/s*: 202 answers per second, with pre-signed requests replayed on many keep-alive
      connections (asyncio on uvloop; the server's capacity with little client cost), and with
      boto3 clients (threads in several processes: what users run; boto3's own CPU counts);
    - *processed/s*: the function has an OnSuccess destination, an SQS queue; the platform
      commits the destination record in the transaction that retires the event, so the
      queue's ``ApproximateNumberOfMessages`` is the number of events that have run. Processed/s
      is accepted events over the time from the first send until the last has run.
(b) SQS on one standard queue, 100-byte bodies: SendMessage vs SendMessageBatch (10 entries)
    in messages/s, pre-signed on 16 connections and with boto3 on one thread; receive + delete
    (ReceiveMessage of 10, then DeleteMessageBatch of what came back) on 16 connections, signed
    per request. The peer is the floor any durable queue on this disk pays: raw SQLite (WAL,
    ``synchronous=FULL``), one INSERT + COMMIT (fsync) per message and per batch of 10.
(c) EventBridge pattern matching, 1,000 rules of mixed kinds (exact, prefix, suffix,
    anything-but, numeric ranges, exists, wildcard, equals-ignore-case, cidr, ``$or``):
    - in process: every event against every rule with ``EventPattern.matches``, in
      events x rules per second;
    - through the platform: the same 1,000 rules on a bus, one also targets an SQS queue and
      matches every event; PutEvents (10 entries per call, pre-signed) accepted/s, and events x
      rules per second from the first PutEvents until the last event is in the queue.

Goals (issue 4), printed as ratios and stored in the JSON metrics: >= 5,000 async invokes
accepted/s (the pre-signed figure), >= 10,000 SQS messages/s with the batch APIs (the pre-signed
SendMessageBatch figure), >= 100,000 events x rules/s (the in-process figure).

Run: ``python -m benchmarks.events [--quick] [--json FILE] [--only PARTS]``.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._common import Bench as BenchBase
from benchmarks._common import replay_load, run_parts, sign_request, time_calls

RULES = 1000
CONNECTIONS = 16
BODY = "x" * 100

Rows = list[tuple[str, dict[str, float]]]
Metrics = dict[str, float]


def rate_row(
    rps: float, p50_us: float = float("nan"), p99_us: float = float("nan")
) -> dict[str, float]:
    return {"p50_us": p50_us, "p99_us": p99_us, "rps": rps}


# -- (c) patterns in process -------------------------------------------------------------------


def make_rules(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` patterns over the fields ``make_events`` fills, one kind after another."""
    rng = random.Random(seed)
    kinds: list[Callable[[int], dict[str, Any]]] = [
        lambda i: {"source": [f"app.{i % 50}"], "detail-type": ["order"]},
        lambda i: {"detail": {"sku": [{"prefix": f"sku-{i % 100}"}]}},
        lambda i: {"detail": {"file": [{"suffix": f".{['csv', 'json', 'txt'][i % 3]}"}]}},
        lambda i: {"detail": {"state": [{"anything-but": ["new", f"s{i % 7}"]}]}},
        lambda i: {"detail": {"amount": [{"numeric": [">", i % 900, "<=", i % 900 + 50]}]}},
        lambda i: {"detail": {"coupon": [{"exists": bool(i % 2)}]}},
        lambda i: {"detail": {"path": [{"wildcard": f"/data/{i % 20}/*.csv"}]}},
        lambda i: {"detail": {"region": [{"equals-ignore-case": f"EU-{i % 9}"}]}},
        lambda i: {"detail": {"ip": [{"cidr": f"10.{i % 256}.0.0/16"}]}},
        lambda i: {
            "source": [f"app.{i % 50}"],
            "$or": [{"detail": {"amount": [{"numeric": [">", 500]}]}}, {"detail-type": ["refund"]}],
        },
    ]
    rng.shuffle(kinds)
    return [kinds[i % len(kinds)](i) for i in range(n)]


def make_events(n: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        detail: dict[str, Any] = {
            "sku": f"sku-{rng.randrange(1000)}",
            "file": f"f{rng.randrange(99)}.{rng.choice(['csv', 'json', 'txt', 'bin'])}",
            "state": rng.choice(["new", "paid", "s1", "shipped"]),
            "amount": rng.uniform(0, 1000),
            "path": f"/data/{rng.randrange(30)}/part-{rng.randrange(9)}.csv",
            "region": rng.choice(["eu-1", "EU-2", "us-3"]),
            "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        }
        if rng.random() < 0.5:
            detail["coupon"] = "C1"
        out.append(
            {
                "version": "0",
                "id": f"{rng.getrandbits(64):016x}",
                "source": f"app.{rng.randrange(60)}",
                "detail-type": rng.choice(["order", "refund", "ping"]),
                "account": "000000000000",
                "region": "us-east-1",
                "time": "2026-01-01T00:00:00Z",
                "resources": [],
                "detail": detail,
            }
        )
    return out


def patterns_part(quick: bool, rows: Rows, metrics: Metrics) -> None:
    from lambdamaker.engines.events.patterns import EventPattern

    sources = [json.dumps(p) for p in make_rules(RULES)]
    t0 = time.perf_counter()
    rules = [EventPattern.compile(s) for s in sources]
    compile_s = time.perf_counter() - t0
    events = make_events(20 if quick else 200)
    matched = 0
    t0 = time.perf_counter()
    for event in events:
        for rule in rules:
            matched += rule.matches(event)
    elapsed = time.perf_counter() - t0
    pairs = len(events) * len(rules)
    rate = pairs / elapsed
    rows.append(("patterns: in process (events x rules/s)", rate_row(rate)))
    rows.append(("patterns: compile (rules/s)", rate_row(len(rules) / compile_s)))
    metrics["patterns_events_x_rules_per_s"] = rate
    metrics["patterns_events_per_s_1000_rules"] = len(events) / elapsed
    metrics["patterns_match_fraction"] = matched / pairs
    metrics["patterns_compile_per_s"] = len(rules) / compile_s
    metrics["goal_patterns_ratio"] = rate / 100_000


# -- a server and JSON-protocol requests --------------------------------------------------------


class Bench(BenchBase):
    """The server under test, with the SQS requests and counts this benchmark uses."""

    def sqs(self, action: str, params: dict[str, Any]) -> bytes:
        return self.json_request("sqs", f"AmazonSQS.{action}", "1.0", params)

    def visible(self, sqs: Any, url: str) -> int:
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def wait_count(self, sqs: Any, url: str, want: int, limit_s: float) -> tuple[float, int]:
        """Poll until the queue holds ``want`` messages: (the time it was seen, the count)."""
        deadline = time.perf_counter() + limit_s
        while True:
            n = self.visible(sqs, url)
            now = time.perf_counter()
            if n >= want or now > deadline:
                return now, n
            time.sleep(0.05)


def ok_status(status: int) -> Callable[[int, bytes], bool]:
    return lambda got, body: got == status


# -- (b) SQS --------------------------------------------------------------------------------------


def sqlite_floor(root: Path, n: int, rows: Rows, metrics: Metrics) -> None:
    """The peer: INSERT + COMMIT with fsync (WAL, synchronous=FULL), per message and per 10."""
    db = sqlite3.connect(root / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, queue TEXT, body BLOB, sent INTEGER)")
    body = BODY.encode()
    for label, per_commit in (("per message", 1), ("per 10 msgs", 10)):
        t0 = time.perf_counter()
        for _ in range(n // per_commit):
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO m (queue, body, sent) VALUES (?, ?, ?)",
                [("q", body, time.time_ns())] * per_commit,
            )
            db.execute("COMMIT")
        rate = n / (time.perf_counter() - t0)
        rows.append((f"peer: SQLite commit {label} (msgs/s)", rate_row(rate)))
        metrics[f"peer_sqlite_commit_{per_commit}_msgs_per_s"] = rate
    db.close()


async def _receive_delete(bench: Bench, url: str, budget: int, workers: int) -> int:
    import asyncio

    from benchmarks._common import read_http_response

    host, port = bench.endpoint.split("//", 1)[1].rsplit(":", 1)
    receive = bench.sqs(
        "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 300}
    )
    deleted = 0

    async def worker() -> None:
        nonlocal deleted
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while deleted < budget:
                writer.write(receive)
                status, body = await read_http_response(reader)
                messages = json.loads(body).get("Messages", []) if status == 200 else []
                if not messages:
                    return
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ]
                writer.write(bench.sqs("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries}))
                status, body = await read_http_response(reader)
                if status == 200:
                    deleted += len(json.loads(body).get("Successful", []))
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(workers)))
    return deleted


def sqs_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    import uvloop

    sqs = bench.server.client("sqs")
    url = sqs.create_queue(QueueName="bench")["QueueUrl"]
    n_single = 300 if quick else 2000
    n_batch = 100 if quick else 1000

    r = time_calls(lambda: sqs.send_message(QueueUrl=url, MessageBody=BODY), n_single // 4)
    rows.append(("sqs: SendMessage, boto3 (msgs/s)", r))
    metrics["sqs_send_boto3_msgs_per_s"] = r["rps"]
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]
    r = time_calls(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries), n_batch // 4)
    rows.append(("sqs: SendMessageBatch, boto3 (msgs/s)", {**r, "rps": r["rps"] * 10}))
    metrics["sqs_send_batch_boto3_msgs_per_s"] = r["rps"] * 10

    single = bench.sqs("SendMessage", {"QueueUrl": url, "MessageBody": BODY})
    r = replay_load(bench.endpoint, single, CONNECTIONS, n_single * 4, 60, ok_status(200))
    rows.append((f"sqs: SendMessage, raw x{CONNECTIONS} (msgs/s)", r))
    metrics["sqs_send_msgs_per_s"] = r["rps"]
    batch = bench.sqs("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
    r = replay_load(bench.endpoint, batch, CONNECTIONS, n_batch * 2, 60, ok_status(200))
    r["rps"] *= 10
    rows.append((f"sqs: SendMessageBatch, raw x{CONNECTIONS} (msgs/s)", r))
    metrics["sqs_send_batch_msgs_per_s"] = r["rps"]
    metrics["goal_sqs_batch_ratio"] = r["rps"] / 10_000

    in_queue = bench.visible(sqs, url)
    t0 = time.perf_counter()
    deleted = uvloop.run(_receive_delete(bench, url, in_queue, CONNECTIONS))
    rate = deleted / (time.perf_counter() - t0)
    rows.append((f"sqs: receive+DeleteMessageBatch x{CONNECTIONS} (msgs/s)", rate_row(rate)))
    metrics["sqs_receive_delete_batch_msgs_per_s"] = rate
    sqlite_floor(root, 500 if quick else 3000, rows, metrics)


# -- (a) async invokes ------------------------------------------------------------------------


def _boto3_async_worker(
    endpoint: str, key: str, secret: str, threads: int, n: int
) -> tuple[int, float, float]:
    """In a child process: ``threads`` boto3 clients send ``n`` async invokes in all;
    returns (202 answers, wall-clock start, wall-clock end)."""
    import threading

    import boto3
    from botocore.config import Config

    clients = [
        boto3.session.Session().client(
            "lambda",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )
        for _ in range(threads)
    ]
    ok = [0] * threads

    def run(i: int) -> None:
        for _ in range(n // threads):
            out = clients[i].invoke(FunctionName="noop", InvocationType="Event", Payload=b"{}")
            ok[i] += out["StatusCode"] == 202

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    start = time.time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(ok), start, time.time()


def async_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    from benchmarks.functions import NOOP_HANDLER, create_noop_function, write_code

    server = bench.server
    lam, sqs = server.client("lambda", read_timeout=120), server.client("sqs")
    create_noop_function(lam, server.client("iam"), write_code(root, "noop", NOOP_HANDLER))
    url = sqs.create_queue(QueueName="async-done")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lam.put_function_event_invoke_config(
        FunctionName="noop", DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    signed = sign_request(
        bench.endpoint,
        bench.key,
        bench.secret,
        "lambda",
        "POST",
        "/2015-03-31/functions/noop/invocations",
        b"{}",
        {"X-Amz-Invocation-Type": "Event"},
    )
    n = 1000 if quick else 5000
    for conns, budget in ((1, n // 5), (CONNECTIONS, n), (64, n)):
        before = bench.visible(sqs, url)
        t0 = time.perf_counter()
        r = replay_load(bench.endpoint, signed, conns, budget, 120, ok_status(202))
        accepted = int(r["ok"])
        done_at, seen = bench.wait_count(sqs, url, before + accepted, 120)
        processed = seen - before
        rows.append((f"async: accepted, raw x{conns} (invokes/s)", r))
        rows.append(
            (f"async: processed, raw x{conns} (invokes/s)",
             rate_row(processed / (done_at - t0)))
        )  # fmt: skip
        metrics[f"async_accepted_c{conns}_per_s"] = r["rps"]
        metrics[f"async_processed_c{conns}_per_s"] = processed / (done_at - t0)
        metrics[f"async_processed_c{conns}_missing"] = float(accepted - processed)
    best = max(metrics[f"async_accepted_c{c}_per_s"] for c in (1, CONNECTIONS, 64))
    metrics["goal_async_accepted_ratio"] = best / 5000

    procs, threads = 2, 8
    per_proc = n // 2 // procs
    before = bench.visible(sqs, url)
    with ProcessPoolExecutor(procs) as pool:
        t0 = time.perf_counter()
        futures = [
            pool.submit(
                _boto3_async_worker, bench.endpoint, bench.key, bench.secret, threads, per_proc
            )
            for _ in range(procs)
        ]
        results = [f.result() for f in futures]
    accepted = sum(ok for ok, _, _ in results)
    wall = max(end for _, _, end in results) - min(start for _, start, _ in results)
    done_at, seen = bench.wait_count(sqs, url, before + accepted, 120)
    label = f"async: accepted, boto3 {procs}x{threads} (invokes/s)"
    rows.append((label, rate_row(accepted / wall)))
    rows.append(
        (f"async: processed, boto3 {procs}x{threads} (invokes/s)",
         rate_row((seen - before) / (done_at - t0)))
    )  # fmt: skip
    metrics["async_accepted_boto3_per_s"] = accepted / wall
    metrics["async_processed_boto3_per_s"] = (seen - before) / (done_at - t0)


# -- (c) EventBridge through the platform --------------------------------------------------------


def eventbridge_part(bench: Bench, quick: bool, rows: Rows, metrics: Metrics) -> None:
    server = bench.server
    events, sqs = server.client("events"), server.client("sqs")
    events.create_event_bus(Name="bench")
    for i, pattern in enumerate(make_rules(RULES - 1)):
        events.put_rule(Name=f"r{i}", EventBusName="bench", EventPattern=json.dumps(pattern))
    url = sqs.create_queue(QueueName="eb-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="all", EventBusName="bench", EventPattern='{"source": ["bench.app"]}')
    events.put_targets(Rule="all", EventBusName="bench", Targets=[{"Id": "q", "Arn": arn}])
    detail = json.dumps(make_events(1)[0]["detail"])
    entry = {
        "Source": "bench.app",
        "DetailType": "order",
        "Detail": detail,
        "EventBusName": "bench",
    }
    request = bench.json_request("events", "AWSEvents.PutEvents", "1.1", {"Entries": [entry] * 10})

    def accepted_all(status: int, body: bytes) -> bool:
        return status == 200 and json.loads(body).get("FailedEntryCount", 1) == 0

    calls = 100 if quick else 1000
    t0 = time.perf_counter()
    r = replay_load(bench.endpoint, request, CONNECTIONS, calls, 120, accepted_all)
    accepted = int(r["ok"]) * 10
    r["rps"] *= 10
    rows.append((f"eventbridge: PutEvents raw x{CONNECTIONS} (events/s)", r))
    metrics["eventbridge_put_events_per_s"] = r["rps"]
    done_at, seen = bench.wait_count(sqs, url, accepted, 120)
    metrics["eventbridge_delivered_missing"] = float(accepted - seen)
    if seen == 0:
        print("eventbridge: no event reached the SQS target within 120 s; no delivery figure")
        return
    rate = seen * RULES / (done_at - t0)
    rows.append((f"eventbridge: delivered, {RULES} rules (ev x rules/s)",
                 rate_row(rate)))  # fmt: skip
    metrics["eventbridge_delivered_events_x_rules_per_s"] = rate


def main() -> None:
    run_parts(
        "events",
        __doc__ or "",
        {
            "sqs": sqs_part,
            "async": async_part,
            "eventbridge": lambda bench, root, quick, rows, metrics: eventbridge_part(
                bench, quick, rows, metrics
            ),
        },
        bench=Bench,
        local_parts={"patterns": patterns_part},
    )


if __name__ == "__main__":
    main()
