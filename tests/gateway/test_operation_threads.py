"""gateway.threads.run_blocking: what anyio.to_thread.run_sync guaranteed, cheaper."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from lambdamaker.gateway import threads
from lambdamaker.gateway.threads import run_blocking

REQUEST = contextvars.ContextVar("REQUEST", default="none")


def test_runs_on_a_worker_thread_with_the_callers_context_and_returns_its_result() -> None:
    async def main() -> tuple[str, str]:
        REQUEST.set("r-1")
        return await run_blocking(
            lambda a, b: (REQUEST.get() + a, threading.current_thread().name + b), "!", ""
        )

    value, thread = asyncio.run(main())
    assert value == "r-1!"
    assert thread != threading.main_thread().name


def test_an_exception_reaches_the_caller() -> None:
    def fail() -> None:
        raise KeyError("nope")

    async def main() -> None:
        await run_blocking(fail)

    with pytest.raises(KeyError, match="nope"):
        asyncio.run(main())


def test_a_cancelled_caller_waits_for_its_function_to_finish() -> None:
    finished = threading.Event()
    started = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.2)
        finished.set()
        return "done"

    async def main() -> bool:
        task = asyncio.create_task(run_blocking(slow))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        task.cancel()  # a second cancellation changes nothing
        with pytest.raises(asyncio.CancelledError):
            await task
        return finished.is_set()

    assert asyncio.run(main()) is True


def test_calls_beyond_the_thread_limit_wait_their_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "MAX_THREADS", 2)
    monkeypatch.setattr(threads, "_POOL", threads._pool())
    running = 0
    most = 0
    lock = threading.Lock()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return n

    async def main() -> list[int]:
        return list(await asyncio.gather(*(run_blocking(work, n) for n in range(8))))

    assert asyncio.run(main()) == list(range(8))
    assert most <= 2
