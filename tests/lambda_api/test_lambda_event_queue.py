"""The durable async-event queue and its dispatcher, with fake clocks and real stores."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from lambdamaker.services.lambda_.dispatcher import EventDispatcher
from lambdamaker.services.lambda_.events import (
    DONE,
    EventQueue,
    Outcome,
    QueuedEvent,
)
from lambdamaker.services.lambda_.tables import MIGRATIONS, events
from lambdamaker.store import Store
from lambdamaker.testing import FakeClock


@pytest.fixture()
def queue(store: Store) -> EventQueue:
    store.migrate(MIGRATIONS)
    return EventQueue(store)


def enqueue(queue: EventQueue, request_id: str, now: int = 1000, **extra: object) -> None:
    values: dict[str, object] = {
        "request_id": request_id,
        "function_name": "fn",
        "qualifier": None,
        "invoked_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "payload": b'{"n": 1}',
        "created_ms": now,
        "next_attempt_ms": now,
    }
    values.update(extra)
    queue.enqueue(**values)


def test_claim_leases_due_events_oldest_first(queue: EventQueue) -> None:
    enqueue(queue, "a", now=1000)
    enqueue(queue, "b", now=1001)
    enqueue(queue, "later", now=5000)
    claimed = queue.claim(now_ms=2000, limit=10)
    assert [e.request_id for e in claimed] == ["a", "b"]
    assert claimed[0].payload == b'{"n": 1}'
    assert queue.claim(now_ms=2000, limit=10) == []  # leased
    assert [e.request_id for e in queue.claim(now_ms=6000, limit=1)] == ["later"]


def test_deferred_events_wait_for_their_time_and_keep_their_attempts(queue: EventQueue) -> None:
    enqueue(queue, "a")
    [event] = queue.claim(now_ms=1000, limit=1)
    queue.defer(event.id, next_attempt_ms=3000, attempts=2)
    assert queue.claim(now_ms=2999, limit=1) == []
    [again] = queue.claim(now_ms=3000, limit=1)
    assert again.attempts == 2
    queue.complete(again.id)
    assert queue.pending() == 0


def test_released_leases_make_interrupted_events_due_again(queue: EventQueue) -> None:
    enqueue(queue, "a")
    assert len(queue.claim(now_ms=1000, limit=1)) == 1
    assert queue.release_leases() == 1
    assert [e.request_id for e in queue.claim(now_ms=1000, limit=1)] == ["a"]


def test_a_committed_event_survives_reopening_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    first = Store(url)
    first.migrate(MIGRATIONS)
    enqueue(EventQueue(first), "a")
    first.close()
    second = Store(url)
    try:
        assert [e.request_id for e in EventQueue(second).claim(now_ms=1000, limit=5)] == ["a"]
    finally:
        second.close()


def deferred(queue: EventQueue) -> int:
    with queue.store.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(events)
                .where(events.c.lease_until_ms == 0, events.c.next_attempt_ms > 1000)
            ).scalar_one()
        )


def wait_until_empty(queue: EventQueue) -> None:
    deadline = time.monotonic() + 10
    while queue.pending() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_dispatcher_runs_every_event_and_defers_throttled_ones(queue: EventQueue) -> None:
    clock = FakeClock(1.0)
    seen: list[str] = []
    throttled_once: set[str] = set()
    finished = threading.Event()

    def attempt(event: QueuedEvent) -> Outcome:
        if event.request_id not in throttled_once and event.request_id.startswith("t"):
            throttled_once.add(event.request_id)
            return Outcome(done=False, delay_ms=500, count_attempt=False)
        seen.append(event.request_id)
        if len(seen) == 4:
            finished.set()
        return DONE

    for rid in ("a", "b", "t1", "t2"):
        enqueue(queue, rid, now=1000)
    dispatcher = EventDispatcher(queue, attempt, workers=2, clock=clock)
    dispatcher.start()
    try:
        deadline = time.monotonic() + 10
        while sorted(seen) != ["a", "b"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(seen) == ["a", "b"]  # t1, t2 deferred to 1.5 s on the fake clock
        while deferred(queue) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        clock.now = 2.0
        dispatcher.notify()
        assert finished.wait(10)
        wait_until_empty(queue)
    finally:
        dispatcher.close()
    assert sorted(seen) == ["a", "b", "t1", "t2"]
    assert queue.pending() == 0


def test_platform_failures_are_retried_with_a_counted_attempt(queue: EventQueue) -> None:
    clock = FakeClock(1.0)
    attempts: list[int] = []
    done = threading.Event()

    def attempt(event: QueuedEvent) -> Outcome:
        attempts.append(event.attempts)
        if event.attempts == 0:
            raise RuntimeError("engine exploded")
        done.set()
        return DONE

    enqueue(queue, "a", now=1000)
    dispatcher = EventDispatcher(queue, attempt, workers=1, clock=clock)
    dispatcher.start()
    try:
        deadline = time.monotonic() + 10
        while deferred(queue) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        clock.now = 100.0
        dispatcher.notify()
        assert done.wait(10)
        wait_until_empty(queue)
    finally:
        dispatcher.close()
    assert attempts == [0, 1]


def test_concurrent_enqueues_are_all_committed_before_they_return(queue: EventQueue) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> bool:
        enqueue(queue, f"r{i}", now=1000 + i)
        with queue.store.read() as conn:
            found = conn.execute(
                sa.select(events.c.id).where(events.c.request_id == f"r{i}")
            ).first()
        return found is not None

    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(one, range(200)))
    assert queue.pending() == 200
    claimed = queue.claim(now_ms=10_000, limit=500)
    assert sorted(e.request_id for e in claimed) == sorted(f"r{i}" for i in range(200))
