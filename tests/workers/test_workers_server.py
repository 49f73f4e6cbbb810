"""A server started with ``--workers 2``: a primary and one data-plane worker on one port.

Connections are pinned to one process (``workers_support``), so each test knows which process
served what: DynamoDB in either, everything else forwarded by the worker to the primary.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.credentials import Credentials
from workers_support import Pinned, worker_pids

from lambdamaker.testing import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("workers") / "data", extra_args=["--workers", "2"])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def pinned(server: ServerProcess) -> Iterator[tuple[Pinned, Pinned]]:
    """A connection to the primary and one to the worker."""
    assert server.proc is not None
    (worker,) = worker_pids(server)
    primary_conn, worker_conn = Pinned(server, server.proc.pid), Pinned(server, worker)
    yield primary_conn, worker_conn
    primary_conn.close()
    worker_conn.close()


def table_params(name: str, key: str = "pk") -> dict[str, object]:
    return {
        "TableName": name,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def test_server_json_names_the_running_worker(server: ServerProcess) -> None:
    state = json.loads((server.data_dir / "server.json").read_text())
    assert state["workers"] == worker_pids(server)
    assert len(state["workers"]) == 1


def test_writes_in_one_process_are_read_in_the_other(pinned: tuple[Pinned, Pinned]) -> None:
    primary, worker = pinned
    name = f"t-{uuid.uuid4().hex[:8]}"
    assert worker.dynamodb("CreateTable", table_params(name))[0] == 200
    for k in range(20):
        via = worker if k % 2 else primary
        item = {"pk": {"S": f"k{k}"}, "n": {"N": str(k)}}
        assert via.dynamodb("PutItem", {"TableName": name, "Item": item})[0] == 200
    for k in range(20):
        via = primary if k % 2 else worker
        status, out = via.dynamodb(
            "GetItem", {"TableName": name, "Key": {"pk": {"S": f"k{k}"}}, "ConsistentRead": True}
        )
        assert status == 200 and out["Item"]["n"] == {"N": str(k)}
    assert worker.dynamodb("Scan", {"TableName": name, "Select": "COUNT"})[1]["Count"] == 20


def test_the_worker_serves_dynamodb_itself_and_forwards_the_rest(
    server: ServerProcess, pinned: tuple[Pinned, Pinned]
) -> None:
    primary, worker = pinned
    name = f"t-{uuid.uuid4().hex[:8]}"
    assert primary.dynamodb("CreateTable", table_params(name))[0] == 200
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)  # the primary serves nothing while stopped
    try:
        item = {"pk": {"S": "while-stopped"}}
        assert worker.dynamodb("PutItem", {"TableName": name, "Item": item})[0] == 200
        worker.conn.timeout = 1.5
        assert worker.conn.sock is not None
        worker.conn.sock.settimeout(1.5)
        with pytest.raises(TimeoutError):  # S3 is the primary's: it waits for it
            worker.request("s3", "GET", "/")
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    status, out = primary.dynamodb(
        "GetItem", {"TableName": name, "Key": {"pk": {"S": "while-stopped"}}}
    )
    assert status == 200 and out["Item"] == {"pk": {"S": "while-stopped"}}


def test_table_changes_reach_the_other_process_at_once(pinned: tuple[Pinned, Pinned]) -> None:
    primary, worker = pinned
    name = f"t-{uuid.uuid4().hex[:8]}"
    assert primary.dynamodb("CreateTable", table_params(name))[0] == 200
    assert worker.dynamodb("PutItem", {"TableName": name, "Item": {"pk": {"S": "a"}}})[0] == 200
    assert primary.dynamodb("DeleteTable", {"TableName": name})[0] == 200
    # The worker cached the table a moment ago; the delete must reach it now, not after a TTL.
    status, out = worker.dynamodb("PutItem", {"TableName": name, "Item": {"pk": {"S": "b"}}})
    assert status == 400 and out["__type"].endswith("ResourceNotFoundException")
    assert primary.dynamodb("CreateTable", table_params(name, key="id"))[0] == 200
    status, out = worker.dynamodb("PutItem", {"TableName": name, "Item": {"pk": {"S": "c"}}})
    assert status == 400 and out["__type"].endswith("ValidationException")
    assert worker.dynamodb("PutItem", {"TableName": name, "Item": {"id": {"S": "c"}}})[0] == 200


def test_a_deleted_access_key_stops_working_in_the_worker_at_once(
    server: ServerProcess, pinned: tuple[Pinned, Pinned]
) -> None:
    primary, worker = pinned
    iam = server.client("iam")
    user = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    assert worker.dynamodb("ListTables", {}, creds)[0] == 200
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    status, out = worker.dynamodb("ListTables", {}, creds)
    assert status == 403 and out["__type"].endswith("UnrecognizedClientException")
    assert primary.dynamodb("ListTables", {})[0] == 200


def test_forwarded_requests_stream_bodies_both_ways(pinned: tuple[Pinned, Pinned]) -> None:
    _, worker = pinned
    bucket = f"b-{uuid.uuid4().hex[:8]}"
    assert worker.request("s3", "PUT", f"/{bucket}")[0] == 200
    body = os.urandom(6 * 1024 * 1024 + 7)
    status, headers, _ = worker.request("s3", "PUT", f"/{bucket}/big", body)
    assert status == 200
    status, headers, data = worker.request("s3", "GET", f"/{bucket}/big")
    assert status == 200 and data == body and int(headers["content-length"]) == len(body)
    status, headers, data = worker.request("s3", "HEAD", f"/{bucket}/big")
    assert status == 200 and data == b"" and int(headers["content-length"]) == len(body)
    status, headers, data = worker.request("s3", "GET", f"/{bucket}/missing")
    assert status == 404 and b"<Code>NoSuchKey</Code>" in data
    assert "x-amz-request-id" in headers
    # The keep-alive connection serves the next request after all of that.
    assert worker.request("s3", "GET", f"/{bucket}?list-type=2")[0] == 200


def test_a_long_poll_passes_through_the_worker(
    server: ServerProcess, pinned: tuple[Pinned, Pinned]
) -> None:
    _, worker = pinned
    url = server.client("sqs").create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    params = {"QueueUrl": url, "WaitTimeSeconds": 1}
    t0 = time.monotonic()
    status, _, data = worker.request(
        "sqs",
        "POST",
        "/",
        json.dumps(params).encode(),
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ReceiveMessage"},
    )
    assert status == 200 and "Messages" not in json.loads(data)
    assert time.monotonic() - t0 >= 0.9


def test_the_platform_endpoints_answer_through_the_worker(pinned: tuple[Pinned, Pinned]) -> None:
    _, worker = pinned
    worker.conn.request("GET", "/_lambdamaker/health")
    resp = worker.conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["status"] == "ready"


def test_a_killed_worker_is_replaced_and_its_acknowledged_writes_stay(
    server: ServerProcess, pinned: tuple[Pinned, Pinned]
) -> None:
    primary, worker = pinned
    name = f"t-{uuid.uuid4().hex[:8]}"
    assert primary.dynamodb("CreateTable", table_params(name))[0] == 200
    for k in range(50):
        item = {"pk": {"S": f"k{k}"}}
        assert worker.dynamodb("PutItem", {"TableName": name, "Item": item})[0] == 200
    (old,) = worker_pids(server)
    os.kill(old, signal.SIGKILL)
    assert primary.dynamodb("Scan", {"TableName": name, "Select": "COUNT"})[1]["Count"] == 50
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = worker_pids(server)
        if pids and pids != [old]:
            break
        time.sleep(0.1)
    (new,) = worker_pids(server)
    assert new != old
    deadline = time.monotonic() + 30
    while True:  # the new worker says it is ready just before it accepts
        try:
            replacement = Pinned(server, new)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    try:
        status, out = replacement.dynamodb("Scan", {"TableName": name, "Select": "COUNT"})
        assert status == 200 and out["Count"] == 50
    finally:
        replacement.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_killing_the_primary_stops_its_workers(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "data", extra_args=["--workers", "2"]).start()
    (worker,) = worker_pids(srv)
    srv.kill()
    deadline = time.monotonic() + 30
    while _running(worker):
        assert time.monotonic() < deadline, "the worker outlived its primary"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (its new parent may not reap it at once)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_second_server_with_workers_cannot_take_the_same_port(tmp_path: Path) -> None:
    port = _free_port()
    cmd = [sys.executable, "-m", "lambdamaker", "server", "--port", str(port), "--workers", "2"]
    log = (tmp_path / "a.log").open("wb")
    a = subprocess.Popen([*cmd, "--data-dir", str(tmp_path / "a")], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "a" / "server.json").exists():
            assert a.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        b = subprocess.run(
            [*cmd, "--data-dir", str(tmp_path / "b")], capture_output=True, timeout=60
        )
        assert b.returncode != 0
        assert b"in use" in b.stdout + b.stderr
        assert not (tmp_path / "b" / "server.json").exists()
    finally:
        a.send_signal(signal.SIGTERM)
        a.wait(60)
        log.close()


def test_writes_acknowledged_by_either_process_survive_kill_9_under_load(tmp_path: Path) -> None:
    """Writers on many connections (the kernel spreads them over both processes); the worker
    is killed mid-load, later the primary too; after a restart every acknowledged item is
    there."""
    import threading

    srv = ServerProcess(tmp_path / "data", extra_args=["--workers", "2"]).start()
    try:
        ddb = srv.client("dynamodb")
        ddb.create_table(**table_params("crash"))  # type: ignore[arg-type]
        acked: list[str] = []
        stop = threading.Event()

        def writer(n: int) -> None:
            client = srv.client("dynamodb")
            k = 0
            while not stop.is_set():
                key = f"w{n}-{k}"
                k += 1
                try:
                    client.put_item(TableName="crash", Item={"pk": {"S": key}})
                except Exception:  # the process behind this connection died: not acknowledged
                    time.sleep(0.05)
                    client = srv.client("dynamodb")  # new connections
                    continue
                acked.append(key)

        (worker,) = worker_pids(srv)
        by_worker: list[str] = []
        pinned = Pinned(srv, worker)

        def worker_writer() -> None:  # every write on this connection is the worker's
            k = 0
            while not stop.is_set():
                key = f"pinned-{k}"
                k += 1
                try:
                    status, _ = pinned.dynamodb(
                        "PutItem", {"TableName": "crash", "Item": {"pk": {"S": key}}}
                    )
                except (OSError, http.client.HTTPException):  # killed
                    return
                if status == 200:
                    by_worker.append(key)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        threads.append(threading.Thread(target=worker_writer))
        for t in threads:
            t.start()
        time.sleep(1.5)
        os.kill(worker, signal.SIGKILL)
        time.sleep(1.5)
        srv.kill()  # the primary, mid-load
        stop.set()
        for t in threads:
            t.join(30)
        pinned.close()
        assert len(acked) > 100 and len(by_worker) > 10
        acked += by_worker
        srv.start()
        keys: set[str] = set()
        for page in srv.client("dynamodb").get_paginator("scan").paginate(TableName="crash"):
            keys.update(item["pk"]["S"] for item in page["Items"])
        missing = [k for k in acked if k not in keys]
        assert missing == []
    finally:
        srv.stop()
