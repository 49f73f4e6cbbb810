"""Map runs: DescribeMapRun, ListMapRuns, UpdateMapRun; and a Distributed Map's child
executions in ListExecutions (``mapRunArn``), DescribeExecution and GetExecutionHistory.

Runs are rows of ``sfn_map_runs`` (written by ``map_run_store.StoredMapRuns``); child
executions are views over the parent's history (``map_run_children``). This group sits before
``ExecutionOperations`` in the provider, so its ``list_executions`` / ``describe_execution`` /
``get_execution_history`` see a request first and hand everything that is not about a map run
or a child execution on to the ordinary reads.

Invariants:
- a map run ARN of another account or region, or unknown, is ResourceNotFound; a malformed one
  is InvalidArn;
- a child execution ARN (``execution:<machine>/<label>:<name>``) is answered from its parent's
  recorded events only (DescribeStateMachineForExecution: the Map's item processor, from the
  definition the parent runs), and the parent's GetExecutionHistory hides its Distributed Maps'
  iterations (ids renumbered from 1).
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.common import (
    decode_token,
    encode_token,
    invalid_arn,
    resource_not_found,
    sfn_error,
)
from lambdamaker.services.stepfunctions.execution_reads import (
    ExecutionReads,
    execution_not_found,
    execution_row,
    history_item,
)
from lambdamaker.services.stepfunctions.journal import from_us, load_events
from lambdamaker.services.stepfunctions.map_run_children import (
    ChildView,
    child_history,
    children,
    find_map_state,
    naming,
    parent_history,
    run_state_name,
)
from lambdamaker.services.stepfunctions.map_run_store import api_counts

_MAP_RUN_ARN = re.compile(
    r"arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):mapRun:([^/:]+)/([^:]+):(.+)"
)
_CHILD_ARN = re.compile(
    r"arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):execution:([^/:]+)/([^:]+):(.+)"
)
MAX_PAGE = 1000

_RUNS = sa.select(
    t.map_runs,
    t.executions.c.status.label("parent_status"),
    t.executions.c.stop_us.label("parent_stop_us"),
).select_from(t.map_runs.outerjoin(t.executions, t.executions.c.arn == t.map_runs.c.execution_arn))


def _status(row: Any) -> tuple[str, int | None]:
    """The run's status and stop time; a run left RUNNING by a parent that ended another way
    (StopExecution, a time-out: the engine never finished it) is ABORTED when the parent ended."""
    if row.status == "RUNNING" and row.parent_status not in (None, "RUNNING"):
        return "ABORTED", row.parent_stop_us
    return row.status, row.stop_us


def _page(params: dict[str, Any]) -> int:
    return min(max(int(params.get("maxResults") or 100), 1), MAX_PAGE)


def _offset(params: dict[str, Any]) -> int:
    position = decode_token(params)
    if position is None:
        return 0
    if not isinstance(position, int) or position < 0:
        raise sfn_error("InvalidToken", f"Invalid Token: '{params['nextToken']}'")
    return position


class MapRunOperations(ExecutionReads):
    # --- map run rows -----------------------------------------------------------------------

    def _map_run(self, ctx: RequestContext, arn: str) -> Any:
        match = _MAP_RUN_ARN.fullmatch(arn)
        if match is None:
            raise invalid_arn(arn)
        if match.group(1) != ctx.region or match.group(2) != ctx.account_id:
            raise resource_not_found(arn)
        with self.platform.store.read() as conn:
            row = conn.execute(_RUNS.where(t.map_runs.c.arn == arn)).first()
        if row is None:
            raise resource_not_found(arn)
        return row

    def describe_map_run(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._map_run(ctx, params["mapRunArn"])
        out: dict[str, Any] = {
            "mapRunArn": row.arn,
            "executionArn": row.execution_arn,
            "status": _status(row)[0],
            "startDate": from_us(row.start_us),
            "maxConcurrency": row.max_concurrency,
            "toleratedFailurePercentage": row.tolerated_failure_percentage,
            "toleratedFailureCount": row.tolerated_failure_count,
            "itemCounts": api_counts(row.counts),
            "executionCounts": api_counts(row.counts),
            "redriveCount": 0,
        }
        status, stop_us = _status(row)
        if stop_us is not None and status != "RUNNING":
            out["stopDate"] = from_us(stop_us)
        return out

    def list_map_runs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        size, offset = _page(params), _offset(params)
        with self.platform.store.read() as conn:
            parent = execution_row(conn, ctx, arn)
            rows = list(
                conn.execute(
                    _RUNS.where(t.map_runs.c.execution_arn == arn)
                    .order_by(t.map_runs.c.start_us.desc(), t.map_runs.c.arn)
                    .offset(offset)
                    .limit(size + 1)
                )
            )
        items = []
        for row in rows[:size]:
            run = naming(row.arn, arn, parent.state_machine_arn)
            item: dict[str, Any] = {
                "executionArn": arn,
                "mapRunArn": row.arn,
                "stateMachineArn": run.child_machine_arn,
                "startDate": from_us(row.start_us),
            }
            status, stop_us = _status(row)
            if stop_us is not None and status != "RUNNING":
                item["stopDate"] = from_us(stop_us)
            items.append(item)
        out: dict[str, Any] = {"mapRuns": items}
        if len(rows) > size:
            out["nextToken"] = encode_token(offset + size)
        return out

    def update_map_run(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["mapRunArn"]
        values: dict[str, Any] = {}
        if params.get("maxConcurrency") is not None:
            values["max_concurrency"] = int(params["maxConcurrency"])
        if params.get("toleratedFailureCount") is not None:
            values["tolerated_failure_count"] = int(params["toleratedFailureCount"])
        if params.get("toleratedFailurePercentage") is not None:
            values["tolerated_failure_percentage"] = float(params["toleratedFailurePercentage"])
        if not values:
            raise sfn_error(
                "ValidationException",
                "At least one of the parameters maxConcurrency, toleratedFailurePercentage or "
                "toleratedFailureCount must be specified.",
            )
        row = self._map_run(ctx, arn)
        if _status(row)[0] != "RUNNING":
            raise sfn_error(
                "ValidationException", f"Map Run '{arn}' is not running and cannot be updated."
            )
        with self.platform.store.begin() as conn:
            conn.execute(sa.update(t.map_runs).where(t.map_runs.c.arn == arn).values(**values))
        return {}

    # --- child executions -------------------------------------------------------------------

    def _children(self, ctx: RequestContext, map_run_arn: str) -> tuple[Any, list[ChildView]]:
        run = self._map_run(ctx, map_run_arn)
        with self.platform.store.read() as conn:
            parent = conn.execute(
                sa.select(t.executions).where(t.executions.c.arn == run.execution_arn)
            ).first()
            events = load_events(conn, run.execution_arn) if parent is not None else []
        if parent is None:
            raise resource_not_found(map_run_arn)
        names = naming(map_run_arn, parent.arn, parent.state_machine_arn)
        return parent, children(events, map_run_arn, names, parent.status) or []

    def _child(self, ctx: RequestContext, arn: str) -> tuple[Any, ChildView] | None:
        """``(parent row, child view)`` for a child execution ARN; None for any other ARN."""
        match = _CHILD_ARN.fullmatch(arn)
        if match is None:
            return None
        if match.group(1) != ctx.region or match.group(2) != ctx.account_id:
            raise execution_not_found(arn)
        run_prefix = arn.split(":execution:", 1)[0] + f":mapRun:{match.group(3)}/{match.group(4)}:"
        with self.platform.store.read() as conn:
            runs = list(
                conn.execute(
                    sa.select(t.map_runs.c.arn, t.map_runs.c.counts).where(
                        t.map_runs.c.arn.startswith(run_prefix)
                    )
                )
            )
        # Child names are uuid5(run ARN, index): find the run by its counted children first,
        # loading one parent's history, not every run's of this machine and label.
        child_name = match.group(5)
        likely = [row.arn for row in runs if _names_child(row.arn, row.counts, child_name)]
        for run_arn in [*likely, *(row.arn for row in runs if row.arn not in likely)]:
            parent, views = self._children(ctx, run_arn)
            for view in views:
                if view.arn == arn:
                    return parent, view
            if run_arn in likely:
                break
        raise execution_not_found(arn)

    def list_executions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        map_run = params.get("mapRunArn")
        if map_run is None or params.get("stateMachineArn") is not None:
            return super().list_executions(ctx, params)
        size, offset = _page(params), _offset(params)
        _, views = self._children(ctx, map_run)
        if params.get("statusFilter"):
            views = [v for v in views if v.status == params["statusFilter"]]
        if params.get("redriveFilter") == "REDRIVEN":
            views = []
        views.sort(key=lambda v: (-(v.start.timestamp() if v.start else 0.0), v.index))
        page = views[offset : offset + size]
        out: dict[str, Any] = {"executions": [_list_item(view) for view in page]}
        if len(views) > offset + size:
            out["nextToken"] = encode_token(offset + size)
        return out

    def describe_execution(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        found = self._child(ctx, params["executionArn"])
        if found is None:
            return super().describe_execution(ctx, params)
        _, view = found
        out = _list_item(view)
        del out["redriveCount"]
        out.update(
            input=view.input,
            inputDetails={"included": True},
            redriveCount=0,
            redriveStatus="NOT_REDRIVABLE",
            redriveStatusReason="Execution is a Map Run child execution",
        )
        if view.status == "SUCCEEDED" and view.output is not None:
            out["output"] = view.output
            out["outputDetails"] = {"included": True}
        if view.error is not None:
            out["error"] = view.error
        if view.cause is not None:
            out["cause"] = view.cause
        return out

    def describe_state_machine_for_execution(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        found = self._child(ctx, params["executionArn"])
        if found is None:
            return super().describe_state_machine_for_execution(ctx, params)
        parent, view = found
        with self.platform.store.read() as conn:
            events = load_events(conn, parent.arn)
        name = run_state_name(events, view.map_run_arn) or ""
        state = find_map_state(json.loads(parent.definition), name) or {}
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        machine_name = view.state_machine_arn.rsplit(":", 1)[-1]
        out: dict[str, Any] = {
            "stateMachineArn": view.state_machine_arn,
            "name": machine_name,
            "definition": json.dumps(processor, separators=(",", ":")),
            "roleArn": parent.role_arn,
            "updateDate": from_us(parent.start_us),
            "loggingConfiguration": json.loads(parent.logging)
            if parent.logging
            else {"level": "OFF"},
            "tracingConfiguration": {"enabled": False},
            "mapRunArn": view.map_run_arn,
            "label": machine_name.partition("/")[2],
        }
        if parent.revision_id:
            out["revisionId"] = parent.revision_id
        return out

    def get_execution_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        found = self._child(ctx, arn)
        if found is not None:
            parent, view = found
            return _history_page(child_history(view, parent.role_arn), params)
        with self.platform.store.read() as conn:
            has_runs = conn.execute(
                sa.select(t.map_runs.c.arn).where(t.map_runs.c.execution_arn == arn).limit(1)
            ).first()
            if has_runs is None:
                return super().get_execution_history(ctx, params)
            execution_row(conn, ctx, arn)
            events = load_events(conn, arn)
        return _history_page(parent_history(events), params)


def _names_child(run_arn: str, counts: str | None, name: str) -> bool:
    total = int(json.loads(counts or "{}").get("total", 0))
    run = naming(run_arn, "", "")
    return any(run.child_name(index) == name for index in range(total))


def _list_item(view: ChildView) -> dict[str, Any]:
    item: dict[str, Any] = {
        "executionArn": view.arn,
        "stateMachineArn": view.state_machine_arn,
        "name": view.name,
        "status": view.status,
        "startDate": view.start,
        "mapRunArn": view.map_run_arn,
        "redriveCount": 0,
    }
    if view.stop is not None and view.status != "RUNNING":
        item["stopDate"] = view.stop
    return item


def _history_page(events: list[HistoryEvent], params: dict[str, Any]) -> dict[str, Any]:
    """One page of ``events`` as GetExecutionHistory pages (token: the last id returned)."""
    size = _page(params)
    reverse = bool(params.get("reverseOrder", False))
    include_data = params.get("includeExecutionData", True) is not False
    position = decode_token(params)
    if position is not None and not isinstance(position, int):
        raise sfn_error("InvalidToken", f"Invalid Token: '{params['nextToken']}'")
    ordered = list(reversed(events)) if reverse else events
    if position is not None:
        ordered = [e for e in ordered if (e.id < position if reverse else e.id > position)]
    page = ordered[:size]
    out: dict[str, Any] = {"events": [history_item(event, include_data) for event in page]}
    if len(ordered) > size:
        out["nextToken"] = encode_token(page[-1].id)
    return out
