"""The hot SQS paths without a thread per request: callers on the event loop
(``GroupCommitter.run_async``) share transactions with each other and with thread callers, a
failing work fails alone, and a DeleteMessageBatch with a malformed handle still deletes the
others in its one statement."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.store import Store
from lambdamaker.store.group_commit import GroupCommitter

_meta = sa.MetaData()
_rows = sa.Table("perf_gc_rows", _meta, sa.Column("id", sa.Integer, primary_key=True))


def _insert(row_id: int) -> Any:
    def work(conn: Connection) -> int:
        conn.execute(sa.insert(_rows).values(id=row_id))
        return row_id

    return work


def _fail(conn: Connection) -> None:
    conn.execute(sa.insert(_rows).values(id=-1))  # rolled back with its savepoint
    raise ServiceError("no", code="QueueDoesNotExist")


def _ids(store: Store) -> list[int]:
    with store.read() as conn:
        return sorted(conn.execute(sa.select(_rows.c.id)).scalars())


def test_loop_callers_share_a_group_and_a_failing_one_fails_alone(store: Store) -> None:
    with store.begin() as conn:
        _meta.create_all(conn)
    committer = GroupCommitter(store)
    gate, entered = threading.Event(), threading.Event()

    def leader(conn: Connection) -> int:
        entered.set()
        gate.wait(30)  # a thread caller holds the lead while the loop's callers queue up
        conn.execute(sa.insert(_rows).values(id=1))
        return 1

    async def loop_callers() -> list[Any]:
        calls = [committer.run_async(w) for w in (_insert(2), _insert(1), _fail, _insert(3))]
        tasks = [asyncio.ensure_future(c) for c in calls]
        while committer.pending() < len(tasks):  # all four queued behind the leader
            await asyncio.sleep(0.001)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(committer.run, leader)
        assert entered.wait(30)
        results = asyncio.run(loop_callers())
        assert first.result() == 1
    assert results[0] == 2
    assert isinstance(results[1], sa.exc.IntegrityError)  # id 1 again: only this one fails
    assert isinstance(results[2], ServiceError)
    assert results[3] == 3
    assert _ids(store) == [1, 2, 3]


def test_many_loop_callers_each_get_their_own_result_once_committed(store: Store) -> None:
    with store.begin() as conn:
        _meta.create_all(conn)
    committer = GroupCommitter(store)

    async def burst() -> list[int]:
        return list(await asyncio.gather(*(committer.run_async(_insert(i)) for i in range(200))))

    assert asyncio.run(burst()) == list(range(200))
    assert _ids(store) == list(range(200))
    # Alone, a failing loop caller hears its own error and leaves nothing behind.
    with pytest.raises(ServiceError):
        asyncio.run(committer.run_async(_fail))
    assert _ids(store) == list(range(200))


def test_delete_batch_with_a_malformed_handle_deletes_the_others(boto_client: Any) -> None:
    sqs = boto_client("sqs")
    url = sqs.create_queue(QueueName="perf-delete-batch")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
    )
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 3
    entries = [
        {"Id": f"ok{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
    ]
    entries.insert(1, {"Id": "bad", "ReceiptHandle": "not-a-handle"})
    result = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    assert sorted(e["Id"] for e in result["Successful"]) == ["ok0", "ok1", "ok2"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in result["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
