"""Connections a handler opens at init, in the snapshot, are not shared by its environments.

Environments fork from a snapshot that already imported the handler module. A module-level
``boto3.client("sqs").get_queue_url(...)`` leaves a keep-alive connection in urllib3's pool;
every environment inherits it, and concurrent environments would interleave requests on one
TCP connection (garbled responses, lost or duplicated work). The engine makes inherited
connections read as closed, so each environment's client reconnects on its own.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

INIT_CONNECTS = """
import os
import boto3

sqs = boto3.client("sqs")
URL = sqs.get_queue_url(QueueName=os.environ["QUEUE"])["QueueUrl"]  # a pooled connection

def handler(event, context):
    out = sqs.send_message(QueueUrl=URL, MessageBody=event["id"])
    return {"message_id": out["MessageId"], "pid": os.getpid()}
"""
PARALLEL = 16
ROUNDS = 3


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def drain(sqs: Any, url: str, expected: int, timeout: float = 60) -> list[str]:
    bodies: list[str] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < expected and time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=300
        ).get("Messages", [])
        for message in got:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    # Anything sent twice would show up now.
    extra = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    bodies.extend(m["Body"] for m in extra.get("Messages", []))
    return bodies


def test_concurrent_environments_of_a_snapshot_do_not_share_its_init_connections(
    boto_client: Callable[..., Any],
) -> None:
    lam = boto_client("lambda", max_pool_connections=PARALLEL, read_timeout=120)
    sqs = boto_client("sqs")
    queue = f"snapsock-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    name = f"snapsock-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": INIT_CONNECTS})},
        Environment={"Variables": {"QUEUE": queue}},
        Timeout=60,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})

    def invoke(ident: str) -> tuple[str, dict[str, Any]]:
        out = lam.invoke(FunctionName=name, Payload=json.dumps({"id": ident}).encode())
        return out.get("FunctionError", ""), json.loads(out["Payload"].read())

    sent: list[str] = []
    pids: set[int] = set()
    with ThreadPoolExecutor(PARALLEL) as pool:
        for round_ in range(ROUNDS):
            ids = [f"{round_}-{i}" for i in range(PARALLEL)]
            for ident, (error, body) in zip(ids, pool.map(invoke, ids), strict=True):
                assert not error, (ident, body)
                pids.add(body["pid"])
            sent.extend(ids)
    assert len(pids) > 1, "the invocations should have needed several environments"

    bodies = drain(sqs, url, len(sent))
    assert sorted(bodies) == sorted(sent)


LISTENS_AT_INIT = """
import socket

SERVER = socket.create_server(("127.0.0.1", 0))  # on purpose: a listening socket stays

def handler(event, context):
    client = socket.create_connection(SERVER.getsockname(), timeout=5)
    conn, _ = SERVER.accept()
    client.sendall(b"ping")
    got = conn.recv(4)
    client.close()
    conn.close()
    return {"got": got.decode()}
"""


def test_a_listening_socket_opened_at_init_still_accepts_in_the_environment(
    boto_client: Callable[..., Any],
) -> None:
    lam = boto_client("lambda")
    name = f"snaplisten-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": LISTENS_AT_INIT})},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    out = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    assert body == {"got": "ping"}
