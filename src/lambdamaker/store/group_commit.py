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
  once (``hand_off``), which queues them together (in order) and leads or waits like any other
  caller, then reports back to the loop, which hands off the callers that queued meanwhile. A
  loop has at most one batch on a worker thread. Each loop caller's future is resolved only
  after its work's transaction committed.
- ``conn.info[GROUP_SCOPE]`` is a dict that exists only while a group's transaction runs: works
  of one group may memoize reads there (SQS reads each queue row once per group).
- ``after_commit`` hooks registered by a work run after the group's commit (a rolled-back
  work's hooks run too: they are wake-ups, and a spurious one is harmless).
- A waiting thread sleeps on one ``threading.Event`` of its own, reused for every work it
  queues (making one per work cost 1-2 us). Whoever sets it has first marked a waiter finished
  or made it the leader; the thread clears it after waking and only then re-reads its waiters,
  so a wake-up is never lost, and a late one (from an earlier group) only costs a re-check.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from lambdamaker.store import Store
from lambdamaker.store.hand_off import hand_off

T = TypeVar("T")

GROUP_SCOPE = "lambdamaker.group_scope"
"""Key in ``conn.info`` of a dict that lives exactly as long as one group's transaction: works
may memoize reads there that cannot change within the write transaction (SQS's queue rows)."""

MAX_GROUP = 64
"""Works per transaction: bounds how long the first caller of a big group waits."""


_wakes = threading.local()


def _forget_wakes() -> None:
    """In a forked child: an event could have been mid-``set`` by a thread that is gone."""
    global _wakes
    _wakes = threading.local()


os.register_at_fork(after_in_child=_forget_wakes)


def _thread_wake() -> threading.Event:
    """The calling thread's wake-up event (see the module's invariants)."""
    try:
        event: threading.Event = _wakes.event
    except AttributeError:
        event = _wakes.event = threading.Event()
    return event


class _Waiter(Generic[T]):
    __slots__ = ("error", "finished", "lead", "result", "wake", "work")

    def __init__(self, work: Callable[[Connection], T], wake: threading.Event) -> None:
        self.work = work
        self.wake = wake
        self.finished = False
        self.lead = False
        self.result: T | None = None
        self.error: BaseException | None = None


_LoopCall = tuple[Callable[[Connection], Any], "asyncio.Future[Any]"]


class _LoopBatch:
    """The callers of one event loop waiting to be handed to a worker thread; ``flushing``
    while a batch of them is on a worker thread (its report hands off the next batch)."""

    __slots__ = ("flushing", "pending")

    def __init__(self) -> None:
        self.pending: list[_LoopCall] = []
        self.flushing = False


class GroupCommitter:
    def __init__(self, store: Store) -> None:
        self.store = store
        # Leaders take turns, so one connection serves every group (SQLite; None otherwise).
        self._held = store.held_connection()
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
        wake = _thread_wake()
        waiters: list[_Waiter[Any]] = [_Waiter(work, wake) for work in works]
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
                    wake.wait()  # committed by a leader, or made the leader
                    wake.clear()  # before re-reading ``finished`` and ``lead``
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
            # After the callers this loop iteration runs: they go in the same batch.
            loop.call_soon(self._hand_off, loop, state)
        return await done

    def _hand_off(self, loop: asyncio.AbstractEventLoop, state: _LoopBatch) -> None:
        """On the loop: hand every loop caller waiting to a worker thread, as one batch."""
        batch, state.pending = state.pending, []
        try:
            hand_off(functools.partial(self._run_batch, loop, state, batch))
        except Exception as exc:  # no worker thread to be had: every caller of the batch hears
            self._deliver(loop, state, batch, exc)

    def _run_batch(
        self, loop: asyncio.AbstractEventLoop, state: _LoopBatch, batch: list[_LoopCall]
    ) -> None:
        """On a worker thread: commit the batch's works, then report to the loop."""
        outcome: list[_Waiter[Any]] | Exception
        try:
            outcome = self._run_all([work for work, _ in batch])
        except Exception as exc:  # the store failed: every caller of the batch hears
            outcome = exc
        try:
            loop.call_soon_threadsafe(self._deliver, loop, state, batch, outcome)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for these works
            pass

    def _deliver(
        self,
        loop: asyncio.AbstractEventLoop,
        state: _LoopBatch,
        batch: list[_LoopCall],
        outcome: list[_Waiter[Any]] | Exception,
    ) -> None:
        """On the loop: resolve the batch's futures, then hand off whoever queued meanwhile."""
        for index, (_, done) in enumerate(batch):
            if done.done():  # the caller went away (its request was cancelled)
                continue
            if isinstance(outcome, Exception):
                done.set_exception(outcome)
                continue
            waiter = outcome[index]
            if waiter.error is not None:
                done.set_exception(waiter.error)
            else:
                done.set_result(waiter.result)
        if state.pending:
            self._hand_off(loop, state)
        else:
            state.flushing = False

    def _commit_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        failed: set[int] = set()
        try:
            with self.store.begin(self._held) as conn:
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
        wakes: set[threading.Event] = set()
        for w in group:
            w.finished = True
            if not w.lead:
                wakes.add(w.wake)
        wakes.discard(_thread_wake())  # this thread's waiters see ``finished`` when it returns
        for event in wakes:
            event.set()
        with self._lock:
            # Hand the lead on; a leader whose group was cut at MAX_GROUP keeps it only if
            # it is itself still waiting (it is not: the leader is always in its first group).
            if self._waiting:
                successor = self._waiting[0]
                successor.lead = True
                successor.wake.set()
            else:
                self._leading = False
