"""Task tokens: ``DurableTokenBroker`` (the engine's ``TokenBroker``) and the token format.

A token names its task visit: it encodes the execution ARN and the interpreter's step key (plus
a checksum), so the visit replayed after a crash gets the same token with nothing to look up,
and a Send* call can find its execution from the token alone.

Invariants:
- a token's outcome is committed (``sfn_task_tokens``) before the Send* call answers, and the
  waiting coroutine is woken only after that commit; a Send* that arrives before the engine
  started waiting is kept and found by ``wait``; after a crash ``wait`` finds outcomes that were
  sent while the server was down;
- an outcome is set once: a second Send*, or one for a token whose task ended another way
  (``discard``: timeout, abort, execution ended), gets ``TaskTimedOut``;
- an activity task taken by a worker is recorded on its token row (``taken``, ``worker_name``)
  in the transaction that hands it out, so ``activity_started`` gives the same answer after a
  crash, even when the worker's outcome arrived meanwhile;
- waiters live on the runner's loop; Send* calls (worker threads) reach them only through
  ``Runner.call_soon``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.workflows.errors import TIMEOUT, StatesError
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.runner import Runner
from lambdamaker.store import Store

WAITING = "WAITING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CLOSED = "CLOSED"

_PREFIX = "AQ"


def make_token(execution_arn: str, step: str) -> str:
    body = json.dumps([execution_arn, step], separators=(",", ":")).encode()
    check = hashlib.sha256(body).hexdigest()[:16]
    return _PREFIX + base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + check


def parse_token(token: str) -> tuple[str, str] | None:
    """``(execution_arn, step)`` of a token we made; None for anything else."""
    if not token.startswith(_PREFIX) or "." not in token:
        return None
    encoded, _, check = token[len(_PREFIX) :].rpartition(".")
    try:
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    if hashlib.sha256(body).hexdigest()[:16] != check:
        return None
    try:
        arn, step = json.loads(body)
    except (ValueError, TypeError):
        return None
    if not isinstance(arn, str) or not isinstance(step, str):
        return None
    return arn, step


def now_us() -> int:
    return round(time.time() * 1_000_000)


@dataclass
class _Waiter:
    done: asyncio.Future[tuple[str, str | None, str | None, str | None]]
    beats: list[float] = field(default_factory=list)


def _token_row(conn: Connection, token: str) -> Any:
    return conn.execute(sa.select(t.task_tokens).where(t.task_tokens.c.token == token)).first()


def _outcome(row: Any) -> tuple[str, str | None, str | None, str | None]:
    return (row.status, row.output, row.error, row.cause)


class DurableTokenBroker:
    """``TokenBroker`` for Standard executions, kept in the store."""

    def __init__(self, store: Store, runner: Runner) -> None:
        self.store = store
        self.runner = runner
        self._waiters: dict[str, _Waiter] = {}
        self._starts: dict[str, asyncio.Future[None]] = {}
        """Tasks waiting for a worker to take their activity task (``activity_started``)."""
        self.redrives: dict[str, int] = {}
        """Redrive count of each execution launched: a redriven visit gets a fresh token."""

    def new_token(self, execution_arn: str, step: str) -> str:
        count = self.redrives.get(execution_arn, 0)
        return make_token(execution_arn, f"{step}@{count}" if count else step)

    def _register(self, token: str) -> tuple[str, str | None, str | None, str | None]:
        parsed = parse_token(token)
        assert parsed is not None
        with self.store.begin() as conn:
            row = _token_row(conn, token)
            if row is not None and row.status == CLOSED:
                # Closed by a timeout whose event was never recorded (a crash came between):
                # the replayed visit waits again.
                conn.execute(
                    sa.update(t.task_tokens)
                    .where(t.task_tokens.c.token == token)
                    .values(status=WAITING)
                )
                return (WAITING, None, None, None)
            if row is not None:
                return _outcome(row)
            conn.execute(
                sa.insert(t.task_tokens).values(
                    token=token,
                    execution_arn=parsed[0],
                    step=parsed[1],
                    status=WAITING,
                    created_us=now_us(),
                )
            )
        return (WAITING, None, None, None)

    async def wait(self, token: str, heartbeat_seconds: float | None) -> Any:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop.create_future())
        self._waiters[token] = waiter
        try:
            status, output, error, cause = await loop.run_in_executor(None, self._register, token)
            if status == WAITING:
                beat = loop.time()
                while True:
                    if heartbeat_seconds is None:
                        status, output, error, cause = await waiter.done
                        break
                    if waiter.beats:
                        beat, waiter.beats = max(waiter.beats), []
                    remaining = beat + heartbeat_seconds - loop.time()
                    if remaining <= 0 and not waiter.done.done():
                        self.discard(token)
                        raise StatesError(TIMEOUT, "", heartbeat=True)
                    try:
                        status, output, error, cause = await asyncio.wait_for(
                            asyncio.shield(waiter.done), max(remaining, 0.0)
                        )
                        break
                    except TimeoutError:
                        continue
        finally:
            if self._waiters.get(token) is waiter:
                del self._waiters[token]
        if status == SUCCEEDED:
            return json.loads(output) if output is not None else None
        if status == FAILED:
            raise StatesError(error, cause)
        raise asyncio.CancelledError(f"task token {token} was closed")

    # --- activity tasks: ActivityStarted ----------------------------------------------------

    def _start_state(self, token: str) -> tuple[bool, str | None] | None:
        """``(taken, worker)`` once a worker took the task or it has an outcome; else None.
        Registers the token (WAITING) so a later take or Send* finds its row."""
        self._register(token)
        with self.store.read() as conn:
            row = _token_row(conn, token)
            task = conn.execute(
                sa.select(t.activity_tasks.c.taken, t.activity_tasks.c.worker_name).where(
                    t.activity_tasks.c.token == token
                )
            ).first()
        if task is not None and task.taken:
            return True, task.worker_name
        if row is not None and row.taken:
            return True, row.worker_name
        if row is not None and row.status != WAITING:
            return False, None
        return None

    async def activity_started(self, token: str) -> tuple[bool, str | None]:
        """``ActivityStarts``: wait until a worker took the activity task of ``token``."""
        loop = asyncio.get_running_loop()
        while True:
            wake: asyncio.Future[None] = loop.create_future()
            self._starts[token] = wake
            try:
                state = await loop.run_in_executor(None, self._start_state, token)
                if state is not None:
                    return state
                # Woken by a take or an outcome in this process; the timeout covers another
                # process sharing the store.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake, 5.0)
            finally:
                if self._starts.get(token) is wake:
                    del self._starts[token]

    def taken(self, conn: Connection, token: str, worker: str | None) -> None:
        """GetActivityTask handed ``token``'s task to ``worker`` (in ``conn``'s transaction):
        kept on the token row, and the waiting Task woken after the commit."""
        conn.execute(
            sa.update(t.task_tokens)
            .where(t.task_tokens.c.token == token)
            .values(taken=True, worker_name=worker)
        )
        self.store.after_commit(conn, lambda: self.runner.call_soon(lambda: self._started(token)))

    def _started(self, token: str) -> None:
        wake = self._starts.get(token)
        if wake is not None and not wake.done():
            wake.set_result(None)

    def discard(self, token: str) -> None:
        self._waiters.pop(token, None)
        self._starts.pop(token, None)
        asyncio.get_running_loop().run_in_executor(None, self.close_token, token)

    def close_token(self, token: str) -> None:
        with self.store.begin() as conn:
            conn.execute(
                sa.update(t.task_tokens)
                .where(t.task_tokens.c.token == token, t.task_tokens.c.status == WAITING)
                .values(status=CLOSED)
            )
            conn.execute(sa.delete(t.activity_tasks).where(t.activity_tasks.c.token == token))

    # --- the Send* side (worker threads) ----------------------------------------------------

    def complete(
        self, conn: Connection, token: str, outcome: tuple[str, str | None, str | None, str | None]
    ) -> bool:
        """Record ``outcome`` for ``token`` in ``conn``'s transaction and wake its waiter after
        the commit; False when the token already has an outcome (TaskTimedOut)."""
        parsed = parse_token(token)
        assert parsed is not None
        status, output, error, cause = outcome
        row = _token_row(conn, token)
        # The activity task goes; who took it stays on the token row (ActivityStarted).
        task = conn.execute(
            sa.select(t.activity_tasks.c.taken, t.activity_tasks.c.worker_name).where(
                t.activity_tasks.c.token == token
            )
        ).first()
        worker: dict[str, Any] = {}
        if task is not None and task.taken:
            worker = {"taken": True, "worker_name": task.worker_name}
        if row is None:
            conn.execute(
                sa.insert(t.task_tokens).values(
                    token=token,
                    execution_arn=parsed[0],
                    step=parsed[1],
                    status=status,
                    output=output,
                    error=error,
                    cause=cause,
                    created_us=now_us(),
                    **worker,
                )
            )
        elif row.status != WAITING:
            return False
        else:
            conn.execute(
                sa.update(t.task_tokens)
                .where(t.task_tokens.c.token == token)
                .values(status=status, output=output, error=error, cause=cause, **worker)
            )
        conn.execute(sa.delete(t.activity_tasks).where(t.activity_tasks.c.token == token))

        def wake() -> None:
            self._started(token)
            self._wake(token, outcome)

        self.store.after_commit(conn, lambda: self.runner.call_soon(wake))
        return True

    def heartbeat(self, conn: Connection, token: str) -> bool:
        """Record a heartbeat; False when the token has no waiting task."""
        row = _token_row(conn, token)
        if row is None or row.status != WAITING:
            return False
        conn.execute(
            sa.update(t.task_tokens)
            .where(t.task_tokens.c.token == token)
            .values(heartbeat_us=now_us())
        )
        self.store.after_commit(conn, lambda: self.runner.call_soon(lambda: self._beat(token)))
        return True

    def _wake(self, token: str, outcome: tuple[str, str | None, str | None, str | None]) -> None:
        waiter = self._waiters.get(token)
        if waiter is not None and not waiter.done.done():
            waiter.done.set_result(outcome)

    def _beat(self, token: str) -> None:
        waiter = self._waiters.get(token)
        if waiter is not None:
            waiter.beats.append(asyncio.get_running_loop().time())
