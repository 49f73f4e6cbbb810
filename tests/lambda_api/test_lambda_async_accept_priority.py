"""Accepts go first: workers hold an attempt back while Invoke calls wait for their commit, but
only for a bounded time, so events still run under a steady stream of accepts."""

from __future__ import annotations

import asyncio
import threading

import pytest

from lambdamaker.services.lambda_.dispatcher import EventDispatcher
from lambdamaker.services.lambda_.events import (
    DONE,
    EventQueue,
    Outcome,
    QueuedEvent,
)
from lambdamaker.services.lambda_.tables import MIGRATIONS
from lambdamaker.store import Store


@pytest.fixture()
def queue(store: Store) -> EventQueue:
    store.migrate(MIGRATIONS)
    return EventQueue(store)


def row(request_id: str) -> dict[str, object]:
    return {
        "request_id": request_id,
        "function_name": "fn",
        "qualifier": None,
        "invoked_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
        "payload": b"{}",
        "created_ms": 1000,
        "next_attempt_ms": 1000,
    }


def test_the_accept_path_is_idle_again_once_its_callers_are_committed(queue: EventQueue) -> None:
    assert queue.accept_idle.is_set()

    async def burst() -> None:
        pending = [asyncio.ensure_future(queue.enqueue_async(row(f"r{i}"))) for i in range(20)]
        await asyncio.sleep(0)  # the flush has started: callers wait for their commit
        assert not queue.accept_idle.is_set()
        await asyncio.gather(*pending)

    asyncio.run(burst())
    assert queue.accept_idle.is_set()
    assert queue.pending() == 20


def test_events_still_run_while_accepts_never_go_idle(queue: EventQueue) -> None:
    ran = threading.Event()

    def attempt(event: QueuedEvent) -> Outcome:
        ran.set()
        return DONE

    queue.enqueue(**row("a"))
    queue.accept_idle.clear()  # as under a steady stream of Invoke calls
    dispatcher = EventDispatcher(queue, attempt, workers=1)
    dispatcher.start()
    try:
        assert ran.wait(10)
    finally:
        dispatcher.close()
