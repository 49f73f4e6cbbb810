"""Crash test for the event paths (issue 4): 10,000 async invokes and 10,000 SQS messages while
the server is killed with SIGKILL 10 times and restarted on the same data dir.

What is counted, and how:
- A message or an invoke is *acknowledged* when its client got a 2xx. Clients retry anything
  else (connection refused or reset, a 5xx while the server starts) until acknowledged, so every
  id is acknowledged once the run ends; a retry of a request the dead server had committed is
  a duplicate the platform cannot tell apart, and is what the in-flight count below bounds.
- The function records each run by sending its event id to the SQS queue ``results`` (the
  platform's own durable path, at-least-once). Queues are read only at the end, once, with a
  12-hour visibility timeout, so the receive side adds no duplicates of its own.
- *Lost*: an acknowledged id that never shows up (in ``work`` for SQS, in ``results`` for
  invokes). Must be 0.
- *Duplicates*: copies beyond the first of each id.
- *In flight at a kill*, taken while no client can start a request (the kill happens under the
  lock every client takes to announce a request):
  - ``sqs``: entries of SendMessageBatch requests sent and not yet answered;
  - ``invoke``: Invoke requests sent and not yet answered;
  - ``running``: async events the dead server had leased (claimed for an attempt and neither
    completed nor deferred), read from its SQLite store after the kill (the only place the
    test looks past the public APIs; also used at the end to wait until the async queue is
    empty). A leased event runs again after the restart: at most one duplicate per kill.
  Asserted: SQS duplicates <= sum of ``sqs``; invoke duplicates <= sum of ``invoke + running``.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from crash_support import Server, zip_files
from lambdamaker.services.lambda_.tables import events as lambda_events

INVOKES = 10_000
MESSAGES = 10_000
KILLS = 10
INVOKE_CLIENTS = 6
SQS_CLIENTS = 2
BATCH = 10

RECORDER = """
import os

import boto3
from botocore.config import Config

# One attempt: a failed send fails the run, and the platform retries the whole event. The
# queue is looked up at init, as handlers commonly do: environments forked from the snapshot
# must not share that init-time connection.
_sqs = boto3.client("sqs", config=Config(retries={"max_attempts": 1}))
_url = _sqs.get_queue_url(QueueName=os.environ["RESULTS_QUEUE"])["QueueUrl"]


def handler(event, context):
    _sqs.send_message(QueueUrl=_url, MessageBody=str(event["id"]))
"""


@dataclass
class Ledger:
    """Requests in flight (announced under ``lock``), acknowledgements and errors."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[str, int] = field(default_factory=lambda: {"sqs": 0, "invoke": 0})
    acked: dict[str, int] = field(default_factory=lambda: {"sqs": 0, "invoke": 0})
    errors: Counter[str] = field(default_factory=Counter)

    def call(self, kind: str, weight: int, fn: Callable[[], object]) -> bool:
        with self.lock:
            self.in_flight[kind] += weight
        try:
            fn()
            ok = True
        except Exception as exc:  # connection errors, 5xx while starting: not acknowledged
            ok = False
            self.errors[type(exc).__name__] += 1
        with self.lock:
            self.in_flight[kind] -= weight
            if ok:
                self.acked[kind] += weight
        return ok


class Client:
    """One thread's client of one service: follows restarts, repeats a request until 2xx."""

    def __init__(self, server: Server, ledger: Ledger, kind: str) -> None:
        self.server, self.ledger, self.kind = server, ledger, kind
        self.service = "lambda" if kind == "invoke" else "sqs"
        self.generation = -1
        self.client: Any = None

    def until_acked(self, weight: int, make: Callable[[Any], object]) -> None:
        while True:
            generation, endpoint = self.server.current()
            if generation != self.generation:
                self.client = self.server.client(self.service, endpoint)
                self.generation = generation
            if self.ledger.call(self.kind, weight, functools.partial(make, self.client)):
                return
            self.server.wait_newer(generation, timeout=1.0)


def leased_events(data: Path) -> int:
    """Async events the (dead) server had claimed for an attempt and not yet finished."""
    db = sqlite3.connect(data / "lambdamaker.db", timeout=30)
    try:
        table, lease = lambda_events.name, lambda_events.c.lease_until_ms.name
        return int(db.execute(f"SELECT count(*) FROM {table} WHERE {lease} != 0").fetchone()[0])
    finally:
        db.close()


def pending_events(data: Path) -> int:
    db = sqlite3.connect(data / "lambdamaker.db", timeout=30)
    try:
        return int(db.execute(f"SELECT count(*) FROM {lambda_events.name}").fetchone()[0])
    finally:
        db.close()


def drain(sqs: Any, url: str) -> Iterator[str]:
    """Every message body in the queue, each once: nothing is deleted, a 12-hour visibility
    timeout keeps received messages out of later receives."""
    empty = 0
    while empty < 2:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=43200, WaitTimeSeconds=1
        ).get("Messages", [])
        empty = 0 if got else empty + 1
        for m in got:
            yield m["Body"]


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_kill_9_ten_times_loses_no_acknowledged_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run whose result send failed is retried after 3 s, not 1 minute. The scale shortens the
    # maximum event age too (6 h -> 18 min), still far longer than this test.
    monkeypatch.setenv("LAMBDAMAKER_ASYNC_RETRY_SCALE", "0.05")
    data = tmp_path / "data"
    server = Server(data)
    t_start = time.monotonic()
    try:
        _, endpoint = server.current()
        sqs, lam = server.client("sqs", endpoint), server.client("lambda", endpoint)
        work_url = sqs.create_queue(QueueName="work")["QueueUrl"]
        results_url = sqs.create_queue(QueueName="results")["QueueUrl"]
        lam.create_function(
            FunctionName="recorder",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/lambda-role",
            Handler="app.handler",
            Timeout=30,
            Environment={"Variables": {"RESULTS_QUEUE": "results"}},
            Code={"ZipFile": zip_files({"app.py": RECORDER})},
        )
        lam.get_waiter("function_active_v2").wait(
            FunctionName="recorder", WaiterConfig={"Delay": 1}
        )

        ledger = Ledger()
        invoke_ids = itertools.count()
        batch_ids = itertools.count()
        ids_lock = threading.Lock()

        def invoker() -> None:
            client = Client(server, ledger, "invoke")

            def make(i: int) -> Callable[[Any], object]:
                payload = json.dumps({"id": i}).encode()
                return lambda c: c.invoke(
                    FunctionName="recorder", InvocationType="Event", Payload=payload
                )

            while True:
                with ids_lock:
                    i = next(invoke_ids)
                if i >= INVOKES:
                    return
                client.until_acked(1, make(i))

        def sender() -> None:
            client = Client(server, ledger, "sqs")
            while True:
                with ids_lock:
                    b = next(batch_ids)
                if b * BATCH >= MESSAGES:
                    return
                entries = [{"Id": str(k), "MessageBody": f"s{b * BATCH + k}"} for k in range(BATCH)]

                def make(c: Any, entries: list[dict[str, str]] = entries) -> object:
                    # A batch is acknowledged only whole: a partly failed batch is resent.
                    out = c.send_message_batch(QueueUrl=work_url, Entries=entries)
                    if out.get("Failed"):
                        raise RuntimeError(f"batch entries failed: {out['Failed']}")
                    return out

                client.until_acked(BATCH, make)

        threads = [threading.Thread(target=invoker, daemon=True) for _ in range(INVOKE_CLIENTS)]
        threads += [threading.Thread(target=sender, daemon=True) for _ in range(SQS_CLIENTS)]
        for t in threads:
            t.start()

        # Kills at evenly spread points of progress: acknowledged sends plus recorded runs.
        total = INVOKES + MESSAGES + INVOKES
        kills: list[dict[str, int]] = []
        probe: Any = None
        probe_gen = -1
        while len(kills) < KILLS:
            generation, endpoint = server.current()
            if generation != probe_gen:
                probe, probe_gen = server.client("sqs", endpoint), generation
            try:
                attrs = probe.get_queue_attributes(
                    QueueUrl=results_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                recorded = int(attrs["ApproximateNumberOfMessages"])
            except Exception:
                recorded = 0
            with ledger.lock:
                progress = ledger.acked["sqs"] + ledger.acked["invoke"] + recorded
            if progress < total * (len(kills) + 1) / (KILLS + 1):
                time.sleep(0.1)  # polling for progress, not timing logic
                continue
            with ledger.lock:  # no client can announce a new request until the server is dead
                server.process.kill()
                at_kill = dict(ledger.in_flight)
            at_kill["running"] = leased_events(data)
            at_kill["progress"] = progress
            at_kill["t_ms"] = int((time.monotonic() - t_start) * 1000)
            kills.append(at_kill)
            server.restart()

        for t in threads:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in threads), "clients did not finish"
        assert ledger.acked == {"sqs": MESSAGES, "invoke": INVOKES}

        # Let the queue of async events run dry: every acknowledged invoke has run.
        deadline = time.monotonic() + 180
        while pending_events(data) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pending_events(data) == 0, server.process.log()

        _, endpoint = server.current()
        sqs = server.client("sqs", endpoint)
        work = Counter(drain(sqs, work_url))
        results = Counter(drain(sqs, results_url))
    finally:
        server.abandon()
        server.process.stop()

    sqs_lost = sum(1 for i in range(MESSAGES) if f"s{i}" not in work)
    sqs_dups = sum(work.values()) - len(work)
    invoke_lost = sum(1 for i in range(INVOKES) if str(i) not in results)
    invoke_dups = sum(results.values()) - len(results)
    sqs_bound = sum(k["sqs"] for k in kills)
    invoke_bound = sum(k["invoke"] + k["running"] for k in kills)
    print(f"\ncrash test: {KILLS} x SIGKILL in {time.monotonic() - t_start:.1f} s")
    for n, k in enumerate(kills, 1):
        print(
            f"  kill {n:2}: t={k['t_ms'] / 1000:6.1f} s progress={k['progress']:5} in flight: "
            f"sqs entries={k['sqs']:3} invokes={k['invoke']:3} running events={k['running']:3}"
        )
    print(f"  SQS:    lost={sqs_lost} duplicates={sqs_dups} (bound {sqs_bound})")
    print(f"  invoke: lost={invoke_lost} duplicates={invoke_dups} (bound {invoke_bound})")
    print(f"  client errors retried: {dict(ledger.errors)}")
    assert len(kills) == KILLS
    assert set(work) <= {f"s{i}" for i in range(MESSAGES)}
    assert set(results) <= {str(i) for i in range(INVOKES)}
    assert sqs_lost == 0 and invoke_lost == 0
    assert sqs_dups <= sqs_bound
    assert invoke_dups <= invoke_bound
