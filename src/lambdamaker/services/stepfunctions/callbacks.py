"""Task tokens from the outside: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, and
GetActivityTask (the activity worker's long poll).

Invariants:
- a Send* answers only after the token's outcome (or heartbeat) is committed; the waiting task
  is woken after that commit (see ``tokens``);
- a token we did not make is InvalidToken; one whose execution is gone is TaskDoesNotExist;
  one whose execution has ended, or whose task already has an outcome, is TaskTimedOut;
- GetActivityTask hands each queued activity task to exactly one worker: taking a task is one
  write transaction that marks it taken; it waits at most 60 s for one to be queued and then
  answers with no token.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions import tables as machine_tables
from lambdamaker.services.stepfunctions.common import activity_not_found, parse_arn, sfn_error
from lambdamaker.services.stepfunctions.journal import RUNNING
from lambdamaker.services.stepfunctions.launch import RuntimeHolder
from lambdamaker.services.stepfunctions.tokens import FAILED, SUCCEEDED, parse_token

MAX_OUTPUT = 256 * 1024
POLL_SECONDS = 60.0


def _invalid_token(token: str) -> Exception:
    return sfn_error("InvalidToken", "Invalid Token: 'Invalid token'")


def _timed_out() -> Exception:
    return sfn_error("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def _does_not_exist() -> Exception:
    return sfn_error("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'")


def _check_execution(conn: Connection, token: str) -> None:
    parsed = parse_token(token)
    if parsed is None:
        raise _invalid_token(token)
    status = conn.execute(
        sa.select(t.executions.c.status).where(t.executions.c.arn == parsed[0])
    ).scalar()
    if status is None:
        raise _does_not_exist()
    if status != RUNNING:
        raise _timed_out()


class CallbackOperations(RuntimeHolder):
    def _complete(
        self, token: str, outcome: tuple[str, str | None, str | None, str | None]
    ) -> None:
        broker = self.sfn_runtime.tokens
        with self.platform.store.begin() as conn:
            _check_execution(conn, token)
            if not broker.complete(conn, token, outcome):
                raise _timed_out()

    def send_task_success(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token, output = params["taskToken"], params["output"]
        if parse_token(token) is None:
            raise _invalid_token(token)
        if len(output.encode()) > MAX_OUTPUT:
            raise sfn_error("InvalidOutput", "Invalid Output: 'Output exceeds the maximum size'")
        try:
            json.loads(output)
        except ValueError as exc:
            raise sfn_error("InvalidOutput", f"Invalid Output: '{exc}'") from None
        self._complete(token, (SUCCEEDED, output, None, None))
        return {}

    def send_task_failure(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params["taskToken"]
        if parse_token(token) is None:
            raise _invalid_token(token)
        self._complete(token, (FAILED, None, params.get("error"), params.get("cause")))
        return {}

    def send_task_heartbeat(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        token = params["taskToken"]
        if parse_token(token) is None:
            raise _invalid_token(token)
        broker = self.sfn_runtime.tokens
        with self.platform.store.begin() as conn:
            _check_execution(conn, token)
            if not broker.heartbeat(conn, token):
                raise _timed_out()
        return {}

    # --- activity workers -------------------------------------------------------------------

    async def get_activity_task(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["activityArn"]
        parsed = parse_arn(arn, "activity")
        worker = params.get("workerName")
        loop = asyncio.get_running_loop()
        exists = await loop.run_in_executor(None, self._activity_exists, arn)
        if not exists or parsed.account != ctx.account_id or parsed.region != ctx.region:
            raise activity_not_found(arn)
        queue = self.sfn_runtime.activity_queue
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            task = await loop.run_in_executor(None, self._take, arn, worker)
            if task is not None:
                return task
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {}
            # Re-check now and then: a task queued by another process sharing the store
            # wakes nobody here.
            await queue.wait(arn, min(remaining, 1.0))

    def _activity_exists(self, arn: str) -> bool:
        with self.platform.store.read() as conn:
            row = conn.execute(
                sa.select(machine_tables.activities.c.arn).where(
                    machine_tables.activities.c.arn == arn
                )
            ).first()
        return row is not None

    def _take(self, arn: str, worker: str | None) -> dict[str, Any] | None:
        with self.platform.store.read() as conn:
            peek = conn.execute(
                sa.select(t.activity_tasks.c.token)
                .where(t.activity_tasks.c.activity_arn == arn, t.activity_tasks.c.taken.is_(False))
                .limit(1)
            ).first()
        if peek is None:
            return None
        with self.platform.store.begin() as conn:
            row = conn.execute(
                sa.select(t.activity_tasks)
                .where(t.activity_tasks.c.activity_arn == arn, t.activity_tasks.c.taken.is_(False))
                .order_by(t.activity_tasks.c.scheduled_us)
                .limit(1)
            ).first()
            if row is None:
                return None
            conn.execute(
                sa.update(t.activity_tasks)
                .where(t.activity_tasks.c.token == row.token)
                .values(taken=True, worker_name=worker)
            )
            self.sfn_runtime.tokens.taken(conn, row.token, worker)
        return {"taskToken": row.token, "input": row.input}
