"""The group committer's cheaper parts: ``hand_off`` runs every function it takes, exactly once,
whatever some of them raise; a ``HeldConnection`` carries transactions one after another, is
replaced after a transaction that failed, and after ``Store.close`` transactions still run."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.store import Store
from lambdamaker.store.group_commit import GroupCommitter
from lambdamaker.store.hand_off import hand_off

_meta = sa.MetaData()
_rows = sa.Table("hand_off_rows", _meta, sa.Column("id", sa.Integer, primary_key=True))


def test_every_function_handed_off_runs_once_even_when_some_raise() -> None:
    ran: list[int] = []
    lock = threading.Lock()
    done = threading.Semaphore(0)

    def job(i: int) -> None:
        with lock:
            ran.append(i)
        done.release()
        if i % 10 == 0:
            raise RuntimeError(f"job {i}")

    for i in range(200):
        hand_off(functools.partial(job, i))
    for _ in range(200):
        assert done.acquire(timeout=30)
    assert sorted(ran) == list(range(200))
    # The threads that ran a failing function still serve.
    finished = threading.Event()
    hand_off(finished.set)
    assert finished.wait(30)


def _insert(row_id: int) -> Any:
    def work(conn: Connection) -> int:
        conn.execute(sa.insert(_rows).values(id=row_id))
        return row_id

    return work


def _ids(store: Store) -> list[int]:
    with store.read() as conn:
        return sorted(conn.execute(sa.select(_rows.c.id)).scalars())


def test_groups_after_a_failed_one_and_after_close_still_commit(store: Store) -> None:
    with store.begin() as conn:
        _meta.create_all(conn)
    committer = GroupCommitter(store)

    def fail(conn: Connection) -> None:
        conn.execute(sa.insert(_rows).values(id=100))
        raise ServiceError("no", code="ValidationException")

    async def calls() -> None:
        assert await committer.run_async(_insert(1)) == 1
        with pytest.raises(ServiceError):
            await committer.run_async(fail)  # alone in its group: the transaction rolls back
        with pytest.raises(sa.exc.IntegrityError):
            await committer.run_async(_insert(1))
        assert await committer.run_async(_insert(2)) == 2

    asyncio.run(calls())
    assert committer.run(_insert(3)) == 3
    assert _ids(store) == [1, 2, 3]
    store.close()
    # A straggler after close commits on a connection of its own.
    assert committer.run(_insert(4)) == 4
    assert _ids(store) == [1, 2, 3, 4]
