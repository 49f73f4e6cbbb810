"""Group commits of the async-event queue: concurrent writers share transactions, a failing
member fails alone, and events queued from an event loop are committed before they return."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.events import EventQueue, complete_op, defer_op
from lambdamaker.services.lambda_.tables import MIGRATIONS, events
from lambdamaker.store import Store


@pytest.fixture()
def queue(store: Store) -> EventQueue:
    store.migrate(MIGRATIONS)
    return EventQueue(store)


def row(request_id: str, now: int = 1000) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "function_name": "fn",
        "qualifier": None,
        "invoked_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "payload": b"{}",
        "created_ms": now,
        "next_attempt_ms": now,
    }


def request_ids(store: Store) -> list[str]:
    with store.read() as conn:
        return sorted(conn.execute(sa.select(events.c.request_id)).scalars())


def test_events_queued_from_an_event_loop_are_committed_when_awaited(
    queue: EventQueue, store: Store
) -> None:
    woken: list[int] = []
    queue.wake = lambda: woken.append(1)

    async def burst() -> None:
        await asyncio.gather(*(queue.enqueue_async(row(f"r{i:03d}")) for i in range(200)))

    asyncio.run(burst())
    assert request_ids(store) == [f"r{i:03d}" for i in range(200)]
    assert 1 <= len(woken) < 200  # one wake-up per group, not per event


def test_callers_on_several_event_loops_are_batched_per_loop(
    queue: EventQueue, store: Store
) -> None:
    # Each loop's futures may only be resolved by that loop's own flush: with one shared batch,
    # a loop would be handed another loop's futures.
    errors: list[BaseException] = []

    def loop_in_thread(prefix: str) -> None:
        async def burst() -> None:
            await asyncio.gather(
                *(queue.enqueue_async(row(f"{prefix}{i:03d}")) for i in range(100))
            )

        try:
            asyncio.run(burst())
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    threads = [threading.Thread(target=loop_in_thread, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert request_ids(store) == sorted(f"{p}{i:03d}" for p in "abc" for i in range(100))
    assert queue.accept_idle.is_set()  # no loop is waiting for a commit any more


def test_a_failing_member_fails_alone_and_the_rest_commit(queue: EventQueue, store: Store) -> None:
    for i in range(3):
        queue.enqueue(**row(f"e{i}"))
    with store.read() as conn:
        ids = list(conn.execute(sa.select(events.c.id).order_by(events.c.id)).scalars())

    def broken(conn: Connection) -> None:
        raise RuntimeError("destination blew up")

    ops = [
        complete_op(ids[0], None),
        complete_op(ids[1], broken),
        defer_op(ids[2], 9_000, 1, 2),
    ]
    queue.write_all(ops)  # logs the failure, raises nothing
    assert request_ids(store) == ["e1", "e2"]  # e0 done; e1's completion rolled back
    with store.read() as conn:
        deferred = conn.execute(sa.select(events).where(events.c.id == ids[2])).one()
    assert (deferred.next_attempt_ms, deferred.attempts, deferred.throttles) == (9_000, 1, 2)


def test_concurrent_writers_all_return_committed(queue: EventQueue, store: Store) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                queue.enqueue(**row(f"w{n}-{i:02d}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(request_ids(store)) == 160
