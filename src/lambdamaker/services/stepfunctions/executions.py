"""Starting and ending executions: StartExecution, StartSyncExecution, StopExecution,
RedriveExecution; and ``await_execution`` for nested ``.sync`` executions.

Invariants:
- StartExecution of a Standard state machine answers only after the execution row and its
  ExecutionStarted event are committed together; the execution is launched after that commit;
- a name is unique per state machine: the same name and input while the execution runs gives
  back the same execution (idempotent); different input, or an execution that has ended, is
  ExecutionAlreadyExists;
- StopExecution commits ExecutionAborted and the ABORTED status in one transaction, then
  cancels the running task; the journal refuses every later append (the row is not RUNNING),
  so nothing is appended after ExecutionAborted whichever side gets the write lock first;
- RedriveExecution sets the row RUNNING again and appends ExecutionRedriven in one transaction,
  then relaunches the execution on its recorded events.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.workflows.execution import ExecutionSpec
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.common import check_name, sfn_error
from lambdamaker.services.stepfunctions.execution_reads import (
    ExecutionReads,
    describe_row,
    execution_row,
    redrive_status,
)
from lambdamaker.services.stepfunctions.integrations.mocking import MockConfigError
from lambdamaker.services.stepfunctions.journal import (
    RUNNING,
    MemoryJournal,
    event_row,
    from_us,
)
from lambdamaker.services.stepfunctions.launch import ExpressRun, load_mock
from lambdamaker.services.stepfunctions.machines import ResolvedMachine, resolve_for_execution
from lambdamaker.services.stepfunctions.specs import parsed_definition
from lambdamaker.services.stepfunctions.tokens import now_us

MAX_INPUT = 256 * 1024

_EXISTING = sa.select(t.executions.c.status, t.executions.c.input, t.executions.c.start_us).where(
    t.executions.c.arn == sa.bindparam("arn")
)
_INSERT_EXECUTION = sa.insert(t.executions)
_INSERT_EVENT = sa.insert(t.history)


def parse_input(params: dict[str, Any]) -> tuple[str, Any]:
    text = params.get("input")
    if text is None:
        text = "{}"
    if len(text.encode()) > MAX_INPUT:
        raise sfn_error(
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input: 'Input exceeds the maximum size of 262144"
            " bytes'",
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise sfn_error(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'"
        ) from None
    return text, value


def split_test_case(arn: str) -> tuple[str, str | None]:
    """``stateMachineArn#TestCase`` (Step Functions Local's mock config) -> (ARN, test case)."""
    base, sep, case = arn.partition("#")
    return base, (case if sep and case else None)


def _started_details(machine: ResolvedMachine, input_text: str) -> dict[str, Any]:
    details: dict[str, Any] = {
        "input": input_text,
        "inputDetails": {"truncated": False},
        "roleArn": machine.role_arn,
    }
    if machine.alias_arn:
        details["stateMachineAliasArn"] = machine.alias_arn
    if machine.version_arn:
        details["stateMachineVersionArn"] = machine.version_arn
    return details


def _last_event_id(conn: Connection, arn: str) -> int:
    last = conn.execute(
        sa.select(sa.func.max(t.history.c.id)).where(t.history.c.execution_arn == arn)
    ).scalar()
    return int(last or 0)


def _append_now(conn: Connection, arn: str, event_type: str, details: dict[str, Any]) -> int:
    """Append an event outside the journal (Stop, Redrive), under the write lock."""
    last = _last_event_id(conn, arn)
    stamp = now_us()
    event = HistoryEvent(last + 1, last, from_us(stamp), event_type, details, "")
    conn.execute(sa.insert(t.history), [event_row(arn, event)])
    return stamp


class ExecutionOperations(ExecutionReads):
    # --- start ------------------------------------------------------------------------------

    def start_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        machine_arn, test_case = split_test_case(params["stateMachineArn"])
        input_text, value = parse_input(params)
        name = params.get("name") or str(uuid.uuid4())
        check_name(name)
        store = self.platform.store
        runtime = self.sfn_runtime
        machine = resolve_for_execution(store, machine_arn)
        if test_case is not None:
            try:
                load_mock(machine.name, test_case)
            except MockConfigError as exc:
                raise sfn_error("ValidationException", str(exc)) from None
        if machine.type == "EXPRESS":
            run = self._express_run(ctx, machine, name, input_text, value)
            run.durable = True
            # At-least-once: the start is committed before the answer (express_durable).
            runtime.committer.run(
                lambda conn: runtime.express_ledger.record(
                    conn, run.spec, input_text, machine.definition, run.logging
                )
            )
            runtime.launch_express(run)
            return {"executionArn": run.spec.execution_arn, "startDate": run.spec.start_time}
        arn = f"arn:aws:states:{ctx.region}:{ctx.account_id}:execution:{machine.name}:{name}"
        values: dict[str, Any] = {
            "arn": arn,
            "account": ctx.account_id,
            "region": ctx.region,
            "state_machine_arn": machine.state_machine_arn,
            "state_machine_name": machine.name,
            "name": name,
            "status": RUNNING,
            "input": input_text,
            "trace_header": params.get("traceHeader"),
            "version_arn": machine.version_arn,
            "alias_arn": machine.alias_arn,
            "test_case": test_case,
            "redrive_count": 0,
            "definition": machine.definition,
            "role_arn": machine.role_arn,
            "logging": json.dumps(machine.logging_configuration),
            "revision_id": machine.revision_id,
        }
        started = _started_details(machine, input_text)

        def work(conn: Connection) -> dict[str, Any]:
            existing = conn.execute(_EXISTING, {"arn": arn}).first()
            if existing is not None:
                if existing.status == RUNNING and existing.input == input_text:
                    return {"executionArn": arn, "startDate": from_us(existing.start_us)}
                raise sfn_error("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
            start = now_us()
            conn.execute(_INSERT_EXECUTION, {**values, "start_us": start})
            event = HistoryEvent(1, 0, from_us(start), "ExecutionStarted", started, "")
            conn.execute(_INSERT_EVENT, [event_row(arn, event)])
            store.after_commit(conn, lambda: runtime.launch_standard(arn))
            return {"executionArn": arn, "startDate": from_us(start)}

        # Concurrent starts share a transaction (one fsync acknowledges them all) with the
        # running executions' events: one writer, so they never wait for each other's lock.
        return runtime.runner.write(work)

    def _express_run(
        self,
        ctx: RequestContext,
        machine: ResolvedMachine,
        name: str,
        input_text: str,
        value: Any,
    ) -> ExpressRun:
        arn = (
            f"arn:aws:states:{ctx.region}:{ctx.account_id}:express:{machine.name}:{name}:"
            f"{uuid.uuid4()}"
        )
        spec = ExecutionSpec(
            execution_arn=arn,
            state_machine_arn=machine.state_machine_arn,
            state_machine_name=machine.name,
            name=name,
            definition=parsed_definition(machine.definition),
            input=value,
            start_time=datetime.now(UTC),
            role_arn=machine.role_arn,
            region=ctx.region,
            account_id=ctx.account_id,
            type="EXPRESS",
            state_machine_version_arn=machine.version_arn,
            state_machine_alias_arn=machine.alias_arn,
        )
        return ExpressRun(
            spec=spec,
            input_text=input_text,
            journal=MemoryJournal(),
            logging=dict(machine.logging_configuration or {}),
        )

    async def start_sync_execution(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        machine_arn, _ = split_test_case(params["stateMachineArn"])
        input_text, value = parse_input(params)
        name = params.get("name") or str(uuid.uuid4())
        check_name(name)
        loop = asyncio.get_running_loop()
        machine = await loop.run_in_executor(
            None, resolve_for_execution, self.platform.store, machine_arn
        )
        if machine.type != "EXPRESS":
            raise sfn_error(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )
        run = self._express_run(ctx, machine, name, input_text, value)
        runtime = self.sfn_runtime
        outcome = await runtime.runner.run(run.spec.execution_arn, lambda: runtime.run_express(run))
        stop = run.stop or datetime.now(UTC)
        out: dict[str, Any] = {
            "executionArn": run.spec.execution_arn,
            "stateMachineArn": machine.state_machine_arn,
            "name": name,
            "startDate": run.spec.start_time,
            "stopDate": stop,
            "status": outcome.status,
            "input": input_text,
            "inputDetails": {"included": True},
            "billingDetails": {
                "billedMemoryUsedInMB": 64,
                "billedDurationInMilliseconds": max(
                    100, -(-int((stop - run.spec.start_time).total_seconds() * 1000) // 100) * 100
                ),
            },
        }
        if params.get("traceHeader"):
            out["traceHeader"] = params["traceHeader"]
        if outcome.status == "SUCCEEDED":
            out["output"] = json.dumps(outcome.output, separators=(",", ":"))
            out["outputDetails"] = {"included": True}
        else:
            if outcome.error is not None:
                out["error"] = outcome.error
            if outcome.cause is not None:
                out["cause"] = outcome.cause
        return out

    # --- stop and redrive -------------------------------------------------------------------

    def stop_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        runtime = self.sfn_runtime
        store = self.platform.store
        with store.begin() as conn:
            row = execution_row(conn, ctx, arn)
            if row.status != RUNNING:
                return {"stopDate": from_us(row.stop_us or row.start_us)}
            details = {
                key: params[key] for key in ("error", "cause") if params.get(key) is not None
            }
            stamp = _append_now(conn, arn, "ExecutionAborted", details)
            conn.execute(
                sa.update(t.executions)
                .where(t.executions.c.arn == arn)
                .values(
                    status="ABORTED",
                    stop_us=stamp,
                    error=params.get("error"),
                    cause=params.get("cause"),
                    output=None,
                )
            )
            conn.execute(sa.delete(t.activity_tasks).where(t.activity_tasks.c.execution_arn == arn))
            store.after_commit(conn, lambda: runtime.runner.cancel(arn))
        return {"stopDate": from_us(stamp)}

    def redrive_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        runtime = self.sfn_runtime
        store = self.platform.store
        with store.begin() as conn:
            row = execution_row(conn, ctx, arn)
            status, reason = redrive_status(row, datetime.now(UTC))
            if status != "REDRIVABLE":
                raise sfn_error(
                    "ExecutionNotRedrivable", f"Execution '{arn}' cannot be redriven: {reason}"
                )
            count = row.redrive_count + 1
            stamp = _append_now(conn, arn, "ExecutionRedriven", {"redriveCount": count})
            conn.execute(
                sa.update(t.executions)
                .where(t.executions.c.arn == arn)
                .values(
                    status=RUNNING,
                    stop_us=None,
                    error=None,
                    cause=None,
                    output=None,
                    redrive_count=count,
                    redrive_us=stamp,
                )
            )
            store.after_commit(conn, lambda: runtime.launch_standard(arn))
        return {"redriveDate": from_us(stamp)}

    # --- nested executions ------------------------------------------------------------------

    async def await_execution(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution's output for ``execution_arn`` once it has ended (for the nested
        ``states:startExecution.sync`` integration)."""
        runtime = self.sfn_runtime
        await runtime.wait_closed(execution_arn)
        express = runtime.express_done.get(execution_arn)
        if express is not None:
            return express_description(express)
        loop = asyncio.get_running_loop()
        row, _ = await loop.run_in_executor(None, runtime._load, execution_arn)
        if row is None:
            raise sfn_error("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")
        return describe_row(row)


def express_description(run: ExpressRun) -> dict[str, Any]:
    """DescribeExecution's shape for a finished Express run."""
    spec, outcome = run.spec, run.outcome
    out: dict[str, Any] = {
        "executionArn": spec.execution_arn,
        "stateMachineArn": spec.state_machine_arn,
        "name": spec.name,
        "status": outcome.status if outcome else "RUNNING",
        "startDate": spec.start_time,
        "input": run.input_text,
        "inputDetails": {"included": True},
    }
    if run.stop is not None:
        out["stopDate"] = run.stop
    if outcome is not None and outcome.status == "SUCCEEDED":
        out["output"] = json.dumps(outcome.output, separators=(",", ":"))
        out["outputDetails"] = {"included": True}
    elif outcome is not None:
        if outcome.error is not None:
            out["error"] = outcome.error
        if outcome.cause is not None:
            out["cause"] = outcome.cause
    return out
