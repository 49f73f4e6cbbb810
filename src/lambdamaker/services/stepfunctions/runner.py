"""The thread executions run on: one asyncio event loop per provider, owned by ``Runner``.

Operations run on the gateway's loop or its worker threads; executions must outlive the request
that started them, so they run on this loop instead. ``submit`` hands a coroutine over from any
thread; ``run`` awaits one from another event loop (StartSyncExecution, nested ``.sync``
executions).

Invariants:
- every running execution is one task in ``tasks`` under its ARN, removed when it ends;
  ``cancel(arn)`` cancels it (StopExecution, after committing ExecutionAborted);
- the durable journals of all executions share ``writer``, so their appends group-commit;
  ``write(work)`` puts other writes of Standard executions (their starts) in the same groups;
- ``close()`` cancels every task and joins the thread: an execution interrupted there is still
  RUNNING in the store and resumes at the next start (recovery), exactly like after a crash.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from lambdamaker.services.stepfunctions.journal import JournalWriter
from lambdamaker.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class Runner:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.writer = JournalWriter(store)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: dict[str, asyncio.Task[Any]] = {}
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=main, name="sfn-runner", daemon=True)
        self._thread.start()
        ready.wait()
        self.loop = loop

    def close(self) -> None:
        loop, thread = self.loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        except Exception:  # shutting down anyway: a stuck task must not hang the server
            log.exception("stepfunctions runner: shutdown did not finish cleanly")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self.writer.close()
        self.loop = None
        self._thread = None
        self.tasks.clear()

    # --- running ----------------------------------------------------------------------------

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            raise RuntimeError("the stepfunctions runner is not started")
        return self.loop

    def submit(
        self, key: str, factory: Callable[[], Coroutine[Any, Any, T]]
    ) -> concurrent.futures.Future[T]:
        """Run ``factory()`` on the runner's loop as the task named ``key`` (an execution ARN)."""

        async def tracked() -> T:
            task = asyncio.current_task()
            assert task is not None
            self.tasks[key] = task
            try:
                return await factory()
            finally:
                if self.tasks.get(key) is task:
                    del self.tasks[key]

        return asyncio.run_coroutine_threadsafe(tracked(), self._loop())

    async def run(self, key: str, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """``submit`` for a caller on another event loop; awaits the result."""
        return await asyncio.wrap_future(self.submit(key, factory))

    def call(self, fn: Callable[[], T]) -> T:
        """Run a plain callable on the runner's loop and return its result (from another
        thread): for touching loop-owned state such as futures."""
        loop = self._loop()
        if threading.current_thread() is self._thread:
            return fn()

        async def wrapper() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), loop).result()

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in the journal writer's next group transaction and return its
        result once committed (blocking; from any thread). On the runner's own thread (which
        must not wait for itself) it gets a transaction of its own."""
        loop = self.loop
        if loop is None or threading.current_thread() is self._thread:
            with self.store.begin() as conn:
                return work(conn)
        result: T = self.writer.submit_work(loop, work).result()
        return result

    def call_soon(self, fn: Callable[[], None]) -> None:
        loop = self.loop
        if loop is not None:
            loop.call_soon_threadsafe(fn)

    def cancel(self, key: str) -> None:
        """Cancel the task ``key`` if it runs (thread-safe; returns at once)."""

        def cancel() -> None:
            task = self.tasks.get(key)
            if task is not None:
                task.cancel()

        self.call_soon(cancel)

    def running(self, key: str) -> bool:
        return key in self.tasks
