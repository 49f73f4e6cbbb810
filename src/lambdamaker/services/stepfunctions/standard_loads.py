"""Batched reads of the Standard executions being launched: their rows and recorded events.

Each launched (or resumed) Standard execution needs its row and its history before it runs.
Read one by one, a burst of StartExecution calls (or a recovery of thousands) costs a thread
hop, a connection checkout and two statements per execution; ``ExecutionLoads`` gathers the
loads requested while a read is in flight and serves them with one read transaction.

Invariants:
- a load returns what one read snapshot holds, so a launched execution sees its row and its
  ExecutionStarted together (they were committed together);
- loads are served in batches of at most ``CHUNK`` ARNs per statement (bounded parameter
  lists); an ARN without a row gets ``(None, [])``;
- a failed read fails the loads of its batch only, and later loads read again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.journal import event_of_row
from lambdamaker.store import Store

CHUNK = 500

Loaded = tuple[Any, list[HistoryEvent]]

_ROWS = sa.select(t.executions).where(t.executions.c.arn.in_(sa.bindparam("arns", expanding=True)))
_EVENTS = (
    sa.select(t.history)
    .where(t.history.c.execution_arn.in_(sa.bindparam("arns", expanding=True)))
    .order_by(t.history.c.execution_arn, t.history.c.id)
)


def load_many(store: Store, arns: list[str]) -> dict[str, Loaded]:
    """``arn -> (row, events)`` for ``arns``, read in one snapshot."""
    found: dict[str, Loaded] = {}
    with store.read() as conn:
        for start in range(0, len(arns), CHUNK):
            chunk = arns[start : start + CHUNK]
            for row in conn.execute(_ROWS, {"arns": chunk}):
                found[row.arn] = (row, [])
            for row in conn.execute(_EVENTS, {"arns": chunk}):
                loaded = found.get(row.execution_arn)
                if loaded is not None:
                    loaded[1].append(event_of_row(row))
    return found


class ExecutionLoads:
    """Loads of one event loop's launches, batched (see the module's docstring)."""

    def __init__(self, store: Store, reader: Callable[[Store, list[str]], dict[str, Loaded]]):
        self.store = store
        self.reader = reader
        self._waiting: list[tuple[str, asyncio.Future[Loaded]]] = []
        self._reading = False
        self._task: asyncio.Task[None] | None = None

    async def load(self, arn: str) -> Loaded:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Loaded] = loop.create_future()
        self._waiting.append((arn, done))
        if not self._reading:
            self._reading = True
            self._task = loop.create_task(self._serve())
        return await done

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                arns = list({arn: None for arn, _ in batch})
                try:
                    found = await loop.run_in_executor(None, self.reader, self.store, arns)
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for arn, done in batch:
                    if not done.done():
                        done.set_result(found.get(arn, (None, [])))
        finally:
            self._reading = False
