"""Group commit of SQS writes: concurrent requests share a transaction, a failing one is rolled
back alone, and every acknowledged send is there (SQLite and PostgreSQL; boto3 threads)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.store import Store
from lambdamaker.store.group_commit import GroupCommitter

_meta = sa.MetaData()
_rows = sa.Table("gc_rows", _meta, sa.Column("id", sa.Integer, primary_key=True))


def _insert(row_id: int) -> Any:
    def work(conn: Connection) -> int:
        conn.execute(sa.insert(_rows).values(id=row_id))
        return row_id

    return work


def _fail(conn: Connection) -> None:
    conn.execute(sa.insert(_rows).values(id=99))  # rolled back with its savepoint
    raise ServiceError("no", code="QueueDoesNotExist")


def _wait_until(predicate: Any) -> None:
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_failing_work_is_rolled_back_alone_and_the_group_commits(store: Store) -> None:
    with store.begin() as conn:
        _meta.create_all(conn)
    committer = GroupCommitter(store)
    gate, entered = threading.Event(), threading.Event()

    def leader(conn: Connection) -> int:
        entered.set()
        gate.wait(30)  # hold the lead while the others queue up behind it
        conn.execute(sa.insert(_rows).values(id=1))
        return 1

    works = [_insert(2), _insert(1), _fail, _insert(3)]  # 1 again: a unique violation
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(committer.run, leader)
        assert entered.wait(30)
        followers = [pool.submit(committer.run, w) for w in works]
        _wait_until(lambda: committer.pending() == len(works))
        gate.set()
        assert first.result() == 1
        assert followers[0].result() == 2
        with pytest.raises(sa.exc.IntegrityError):
            followers[1].result()
        with pytest.raises(ServiceError):
            followers[2].result()
        assert followers[3].result() == 3
    with store.read() as conn:
        assert sorted(conn.execute(sa.select(_rows.c.id)).scalars()) == [1, 2, 3]
    # Alone, a failing work raises its own error and leaves nothing behind.
    with pytest.raises(ServiceError):
        committer.run(_fail)
    assert committer.run(_insert(4)) == 4
    with store.read() as conn:
        assert sorted(conn.execute(sa.select(_rows.c.id)).scalars()) == [1, 2, 3, 4]


def test_concurrent_batch_sends_are_all_received_once(boto_client: Any) -> None:
    sqs = boto_client("sqs")
    url = sqs.create_queue(QueueName=f"gc-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    missing = url.rsplit("/", 1)[0] + "/gc-no-such-queue"
    clients = [boto_client("sqs") for _ in range(8)]

    def send(index: int) -> list[str]:
        client = clients[index]
        ids: list[str] = []
        for round_ in range(10):
            entries = [{"Id": f"e{k}", "MessageBody": f"{index}-{round_}-{k}"} for k in range(10)]
            ids += [
                e["MessageId"]
                for e in client.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]
            ]
            if round_ % 3 == 0:  # failures interleaved with the others' groups
                with pytest.raises(client.exceptions.QueueDoesNotExist):
                    client.send_message(QueueUrl=missing, MessageBody="x")
        return ids

    with ThreadPoolExecutor(8) as pool:
        sent = [mid for ids in pool.map(send, range(8)) for mid in ids]
    assert len(sent) == len(set(sent)) == 800

    def drain(index: int) -> list[str]:
        client = clients[index]
        got: list[str] = []
        while True:
            messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return got
            got += [m["MessageId"] for m in messages]
            result = client.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            assert not result.get("Failed")

    with ThreadPoolExecutor(8) as pool:
        received = [mid for ids in pool.map(drain, range(8)) for mid in ids]
    assert sorted(received) == sorted(sent)  # each exactly once: receives never overlap
