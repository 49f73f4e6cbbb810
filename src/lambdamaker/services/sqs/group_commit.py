"""Group commit for SQS's hot writes: the write work of concurrent requests shares one
transaction, so one fsync (SQLite ``synchronous=FULL``; PostgreSQL's WAL flush) acknowledges
all of them. Sends, receives and deletes of many clients then cost one commit per group, not
one per request; on a quiet server a group is a single request and nothing waits.

Invariants:

- ``run(work)`` returns only after the transaction that ran ``work`` has committed, and raises
  if it did not commit: every 2xx built from its result is durable.
- Each work runs in its own SAVEPOINT: a work that raises (``QueueDoesNotExist``, a foreign key
  violated by a concurrent DeleteQueue) is rolled back alone and its caller gets the error;
  the group's other works still commit.
- One caller at a time leads (as ``EventQueue.enqueue`` in the Lambda provider): it commits
  everything waiting, wakes those callers, and hands the lead to the first caller that arrived
  meanwhile. Callers are worker threads; nobody waits on the event loop.
- ``after_commit`` hooks registered by a work run after the group's commit (a rolled-back
  work's hooks run too: they are wake-ups, and a spurious one is harmless).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection

from lambdamaker.store import Store

T = TypeVar("T")

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


class GroupCommitter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._waiting: list[_Waiter[Any]] = []
        self._leading = False

    def pending(self) -> int:
        """Works waiting for a transaction (not counting those of the group being committed)."""
        with self._lock:
            return len(self._waiting)

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in a write transaction shared with concurrent callers."""
        waiter: _Waiter[T] = _Waiter(work)
        with self._lock:
            self._waiting.append(waiter)
            if not self._leading:
                self._leading = waiter.lead = True
        if not waiter.lead:
            waiter.wake.wait()  # committed by a leader, or made the leader
        while not waiter.finished:
            self._commit_group()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]

    def _commit_group(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
        failed: set[int] = set()
        try:
            with self.store.begin() as conn:
                for index, w in enumerate(group):
                    savepoint = conn.begin_nested() if len(group) > 1 else None
                    try:
                        w.result = w.work(conn)
                    except Exception as exc:
                        if savepoint is None:
                            raise
                        savepoint.rollback()
                        w.error = exc
                        failed.add(index)
                    else:
                        if savepoint is not None:
                            savepoint.commit()
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
