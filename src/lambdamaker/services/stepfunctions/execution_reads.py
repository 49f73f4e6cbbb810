"""Reads of executions: DescribeExecution, ListExecutions, GetExecutionHistory,
DescribeStateMachineForExecution.

Only Standard executions are stored; an Express execution ARN names nothing here (AWS does not
support these reads for Express either). An ARN of another account or region names nothing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions import tables as machine_tables
from lambdamaker.services.stepfunctions.common import (
    decode_token,
    encode_token,
    invalid_arn,
    parse_arn,
    sfn_error,
    state_machine_not_found,
)
from lambdamaker.services.stepfunctions.journal import RUNNING, event_of_row, from_us
from lambdamaker.services.stepfunctions.launch import RuntimeHolder

REDRIVE_WINDOW = timedelta(days=14)
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})
MAX_PAGE = 1000

_EXECUTION_ARN = re.compile(r"arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):(execution|express):.+")


def check_execution_arn(ctx: RequestContext, arn: str) -> bool:
    """Raise InvalidArn for a malformed ARN; False when it is another account's or region's."""
    match = _EXECUTION_ARN.fullmatch(arn)
    if match is None:
        raise invalid_arn(arn)
    return match.group(1) == ctx.region and match.group(2) == ctx.account_id


def execution_not_found(arn: str) -> Exception:
    return sfn_error("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")


def execution_row(conn: Connection, ctx: RequestContext, arn: str) -> Any:
    if not check_execution_arn(ctx, arn):
        raise execution_not_found(arn)
    row = conn.execute(sa.select(t.executions).where(t.executions.c.arn == arn)).first()
    if row is None:
        raise execution_not_found(arn)
    return row


def redrive_status(row: Any, now: datetime) -> tuple[str, str | None]:
    if row.map_run_arn:
        return "NOT_REDRIVABLE", "Execution is a Map Run child execution"
    if row.status not in REDRIVABLE:
        return "NOT_REDRIVABLE", f"Execution is {row.status} and cannot be redriven"
    if row.stop_us is not None and now - from_us(row.stop_us) > REDRIVE_WINDOW:
        return "NOT_REDRIVABLE", "Execution can no longer be redriven"
    return "REDRIVABLE", None


def _page_size(params: dict[str, Any]) -> int:
    size = int(params.get("maxResults") or 100)
    return min(max(size, 1), MAX_PAGE)


class ExecutionReads(RuntimeHolder):
    def describe_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            row = execution_row(conn, ctx, params["executionArn"])
        out = describe_row(row)
        if params.get("includedData") == "METADATA_ONLY":
            # AWS leaves out the (possibly KMS-encrypted) payloads on request.
            out.pop("input", None)
            out.pop("output", None)
            out["inputDetails"] = {"included": False}
            if "outputDetails" in out:
                out["outputDetails"] = {"included": False}
        return out

    def describe_state_machine_for_execution(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            row = execution_row(conn, ctx, params["executionArn"])
        out: dict[str, Any] = {
            "stateMachineArn": row.state_machine_arn,
            "name": row.state_machine_name,
            "definition": row.definition,
            "roleArn": row.role_arn,
            "updateDate": from_us(row.start_us),
            "loggingConfiguration": json.loads(row.logging) if row.logging else {"level": "OFF"},
            "tracingConfiguration": {"enabled": False},
        }
        if row.revision_id:
            out["revisionId"] = row.revision_id
        if row.map_run_arn:
            out["mapRunArn"] = row.map_run_arn
        return out

    def list_executions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        machine = params.get("stateMachineArn")
        map_run = params.get("mapRunArn")
        if (machine is None) == (map_run is None):
            raise sfn_error("ValidationException", "Must provide a StateMachine ARN or MapRun ARN")
        size = _page_size(params)
        position = decode_token(params)
        query = sa.select(t.executions)
        if machine is not None:
            parsed = parse_arn(machine)
            with self.platform.store.read() as conn:
                kind = conn.execute(
                    sa.select(machine_tables.state_machines.c.type).where(
                        machine_tables.state_machines.c.arn == parsed.base
                    )
                ).scalar()
            if kind is None or parsed.account != ctx.account_id or parsed.region != ctx.region:
                raise state_machine_not_found(machine)
            if kind == "EXPRESS":
                raise sfn_error(
                    "StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine",
                )
            query = query.where(t.executions.c.state_machine_arn == parsed.base)
            if parsed.version is not None:
                query = query.where(t.executions.c.version_arn == machine)
            elif parsed.alias is not None:
                query = query.where(t.executions.c.alias_arn == machine)
        else:
            query = query.where(t.executions.c.map_run_arn == map_run)
        if params.get("statusFilter"):
            query = query.where(t.executions.c.status == params["statusFilter"])
        redrive = params.get("redriveFilter")
        if redrive == "REDRIVEN":
            query = query.where(t.executions.c.redrive_count > 0)
        elif redrive == "NOT_REDRIVEN":
            query = query.where(t.executions.c.redrive_count == 0)
        if position is not None:
            try:
                start_us, arn = int(position[0]), str(position[1])
            except (TypeError, ValueError, IndexError, KeyError):
                raise sfn_error("InvalidToken", f"Invalid Token: '{params['nextToken']}'") from None
            query = query.where(
                sa.or_(
                    t.executions.c.start_us < start_us,
                    sa.and_(t.executions.c.start_us == start_us, t.executions.c.arn > arn),
                )
            )
        query = query.order_by(t.executions.c.start_us.desc(), t.executions.c.arn).limit(size + 1)
        with self.platform.store.read() as conn:
            rows = list(conn.execute(query))
        out: dict[str, Any] = {"executions": [list_item(row) for row in rows[:size]]}
        if len(rows) > size:
            last = rows[size - 1]
            out["nextToken"] = encode_token([last.start_us, last.arn])
        return out

    def get_execution_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        size = _page_size(params)
        reverse = bool(params.get("reverseOrder", False))
        include_data = params.get("includeExecutionData", True) is not False
        position = decode_token(params)
        query = sa.select(t.history).where(t.history.c.execution_arn == arn)
        if position is not None:
            if not isinstance(position, int):
                raise sfn_error("InvalidToken", f"Invalid Token: '{params['nextToken']}'")
            query = query.where(t.history.c.id < position if reverse else t.history.c.id > position)
        order = t.history.c.id.desc() if reverse else t.history.c.id
        with self.platform.store.read() as conn:
            execution_row(conn, ctx, arn)
            rows = list(conn.execute(query.order_by(order).limit(size + 1)))
        events = []
        for row in rows[:size]:
            events.append(history_item(event_of_row(row), include_data))
        out: dict[str, Any] = {"events": events}
        if len(rows) > size:
            out["nextToken"] = encode_token(rows[size - 1].id)
        return out


def history_item(event: HistoryEvent, include_data: bool) -> dict[str, Any]:
    """An event as GetExecutionHistory returns it; without ``includeExecutionData`` its details
    keep no input, output or parameters."""
    api = event.to_api()
    if not include_data:
        for member, details in list(api.items()):
            if member.endswith("EventDetails") and isinstance(details, dict):
                api[member] = {
                    k: v for k, v in details.items() if k not in ("input", "output", "parameters")
                }
    return api


def describe_row(row: Any, now: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "executionArn": row.arn,
        "stateMachineArn": row.state_machine_arn,
        "name": row.name,
        "status": row.status,
        "startDate": from_us(row.start_us),
        "input": row.input,
        "inputDetails": {"included": True},
        "redriveCount": row.redrive_count,
    }
    if row.stop_us is not None and row.status != RUNNING:
        out["stopDate"] = from_us(row.stop_us)
    if row.output is not None and row.status == "SUCCEEDED":
        out["output"] = row.output
        out["outputDetails"] = {"included": True}
    if row.error is not None:
        out["error"] = row.error
    if row.cause is not None:
        out["cause"] = row.cause
    for key, column in (
        ("traceHeader", "trace_header"),
        ("mapRunArn", "map_run_arn"),
        ("stateMachineVersionArn", "version_arn"),
        ("stateMachineAliasArn", "alias_arn"),
    ):
        value = getattr(row, column)
        if value:
            out[key] = value
    if row.redrive_us is not None:
        out["redriveDate"] = from_us(row.redrive_us)
    status, reason = redrive_status(row, now or datetime.now(UTC))
    out["redriveStatus"] = status
    if reason is not None:
        out["redriveStatusReason"] = reason
    return out


def list_item(row: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "executionArn": row.arn,
        "stateMachineArn": row.state_machine_arn,
        "name": row.name,
        "status": row.status,
        "startDate": from_us(row.start_us),
        "redriveCount": row.redrive_count,
    }
    if row.stop_us is not None and row.status != RUNNING:
        item["stopDate"] = from_us(row.stop_us)
    if row.version_arn:
        item["stateMachineVersionArn"] = row.version_arn
    if row.alias_arn:
        item["stateMachineAliasArn"] = row.alias_arn
    if row.map_run_arn:
        item["mapRunArn"] = row.map_run_arn
    if row.redrive_us is not None:
        item["redriveDate"] = from_us(row.redrive_us)
    return item
