"""Group commit for hot writes (SQS sends, receives and deletes; EventBridge PutEvents): the
write work of concurrent requests shares one transaction, so one fsync (SQLite
``synchronous=FULL``; PostgreSQL's WAL flush) acknowledges all of them. Many clients then cost
one commit per group, not one per request; on a quiet server a group is a single request and
nothing waits.

Invariants:

- ``run(work)`` returns only after the transaction that ran ``work`` has committed, and raises
  if it did not commit: every 2xx built from its result is durable.
- Each work runs in its own SAVEPOINT: a work that raises (SQS's ``QueueDoesNotExist``, a
  foreign key violated by a concurrent DeleteQueue) is rolled back alone and its caller gets the error;
  the group's other works still commit.
- One caller at a time leads (as ``EventQueue.enqueue`` in the Lambda provider): it commits
  everything waiting, wakes those callers, and hands the lead to the first caller that arrived
  meanwhile. Works always run on worker threads, never on the event loop.
- ``run_async(work)`` is ``run`` for a caller on the event loop without a thread hop per
  request: the works of all loop callers waiting meanwhile are handed to one worker thread at
  once, which queues them together (in order) and leads or waits like any other caller. Each
  loop caller's future is resolved only after its work's transaction committed.
- ``conn.info[GROUP_SCOPE]`` is a dict that exists only while a group's transaction runs: works
  of one group may memoize reads there (SQS reads each queue row once per group).
- ``after_commit`` hooks registered by a work run after the group's commit (a rolled-back
  work's hooks run too: they are wake-ups, and a spurious one is harmless).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Connection

from lambdamaker.store import Store

T = TypeVar("T")

GROUP_SCOPE = "lambdamaker.group_scope"
"""Key in ``conn.info`` of a dict that lives exactly as long as one group's transaction: works
may memoize reads there that cannot change within the write transaction (SQS's queue rows)."""

MAX_GROUP = 64
"""Works per transaction: bounds how long the first caller of a big group waits."""


class _Waiter(Generic[T]):
    __slots__ = ("error", "finished", "lead", "result", "wake", "work")

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.wake = threading.Event()
        self.finished = False
        self.lead = False
        self.result: T | None = None
        self.error: BaseException | None = None


class _LoopBatch:
    """The callers of one event loop waiting to be handed to a worker thread."""

    __slots__ = ("flushing", "pending", "task")

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self.flushing = False
        self.task: asyncio.Task[None] | None = None


class GroupCommitter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._waiting: list[_Waiter[Any]] = []
        self._leading = False
        # Callers on the event loop (``run_async``); touched only from the loop's thread.
        # Each event loop batches its own callers (the server has one loop; in-process callers
        # may run others in other threads): a batch's futures belong to the loop that awaits them.
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBatch] = (
            weakref.WeakKeyDictionary()
        )

    def pending(self) -> int:
        """Works waiting for a transaction (not counting those of the group being committed)."""
        with self._lock:
            return len(self._waiting)

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in a write transaction shared with concurrent callers."""
        (waiter,) = self._run_all([work])
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]

    def _run_all(self, works: Sequence[Callable[[Connection], Any]]) -> list[_Waiter[Any]]:
        """Queue ``works`` together, in order, and return once every one has finished; lead
        whenever one of them is handed the lead."""
        waiters: list[_Waiter[Any]] = [_Waiter(work) for work in works]
        with self._lock:
            self._waiting.extend(waiters)
            if not self._leading:
                self._leading = waiters[0].lead = True
        # Groups are taken from the front of the queue, so our waiters finish in order and
        # only the first unfinished one can be handed the lead.
        for waiter in waiters:
            while not waiter.finished:
                if waiter.lead:
                    self._commit_group()
                else:
                    waiter.wake.wait()  # committed by a leader, or made the leader
        return waiters

    async def run_async(self, work: Callable[[Connection], T]) -> T:
        """``run`` for a caller on the event loop (see the module's invariants)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        with self._lock:
            state = self._loops.get(loop)
            if state is None:
                state = self._loops[loop] = _LoopBatch()
        state.pending.append((work, done))
        if not state.flushing:
            state.flushing = True
            state.task = loop.create_task(self._flush_loop_pending(state))
        return await done

    async def _flush_loop_pending(self, state: _LoopBatch) -> None:
        try:
            while state.pending:
                batch, state.pending = state.pending, []
                try:
                    waiters = await anyio.to_thread.run_sync(
                        self._run_all, [work for work, _ in batch]
                    )
                except Exception as exc:  # the store failed: every caller of the group hears
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                except BaseException:  # cancelled (shutdown): nobody will hear of these works
                    for _, done in [*batch, *state.pending]:
                        done.cancel()
                    state.pending = []
                    raise
                for (_, done), waiter in zip(batch, waiters, strict=True):
                    if done.done():  # the caller went away (its request was cancelled)
                        continue
                    if waiter.error is not None:
                        done.set_exception(waiter.error)
                    else:
                        done.set_result(waiter.result)
        finally:
            state.flushing = False

    def _commit_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        failed: set[int] = set()
        try:
            with self.store.begin() as conn:
                # Straight to the driver (sqlite3, psycopg 3): savepoints run once per work,
                # and SQLAlchemy's nested-transaction machinery costs more than the statement.
                driver: Any = conn.connection.driver_connection
                conn.info[GROUP_SCOPE] = {}
                try:
                    for index, w in enumerate(group):
                        if len(group) > 1:
                            driver.execute("SAVEPOINT lm_group_work")
                        try:
                            w.result = w.work(conn)
                        except Exception as exc:
                            if len(group) == 1:
                                raise
                            driver.execute("ROLLBACK TO SAVEPOINT lm_group_work")
                            driver.execute("RELEASE SAVEPOINT lm_group_work")
                            w.error = exc
                            failed.add(index)
                        else:
                            if len(group) > 1:
                                driver.execute("RELEASE SAVEPOINT lm_group_work")
                finally:
                    conn.info.pop(GROUP_SCOPE, None)
        except BaseException as exc:
            for index, w in enumerate(group):
                if index not in failed:
                    w.error = exc
                    w.result = None
        for w in group:
            w.finished = True
            if not w.lead:
                w.wake.set()
        with self._lock:
            # Hand the lead on; a leader whose group was cut at MAX_GROUP keeps it only if
            # it is itself still waiting (it is not: the leader is always in its first group).
            if self._waiting:
                successor = self._waiting[0]
                successor.lead = True
                successor.wake.set()
            else:
                self._leading = False
