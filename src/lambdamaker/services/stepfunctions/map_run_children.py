"""A Distributed Map run's child executions, as views over the parent's history.

The interpreter walks a Distributed Map's iterations inside the parent execution: their events
are in the parent's journal under the step prefix ``<map step>/<attempt>.<index>/`` (each
iteration's ``MapIteration*`` events under ``.../$iteration``). AWS shows each iteration as a
child execution with its own ARN and history, and the parent's history without them. This
module computes both views from the parent's recorded events; nothing extra is stored, so the
views are exactly as durable (and as replay-safe) as the parent's journal.

- Child ARN: ``arn:<partition>:states:<region>:<account>:execution:<machine>/<label or run
  id>:<child name>`` (``MapRun.child_execution_prefix`` + ``MapRun.child_name(index)``).
- A run's iterations are the events under the map step's prefix between its MapRunStarted and
  the next MapRunStarted of the same step (a retried Map starts a new run).
- Child history: ``ExecutionStarted {input}``, the iteration's state events renumbered from 2
  (``previousEventId`` following the renumbering), then ``ExecutionSucceeded {output}`` /
  ``ExecutionFailed {error, cause}`` once the iteration ended (``ExecutionAborted`` when the
  run or the parent ended with the iteration unfinished, e.g. cancelled when the run failed).
- Parent history: every event under a Distributed Map's iteration prefix is hidden and the
  rest renumbered from 1, ``previousEventId`` pointing at the nearest visible event.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambdamaker.engines.workflows.execution import ExecutionSpec
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.map_runs import MapRun

ITERATION = "$iteration"
_RUN_ENDS = frozenset({"MapRunSucceeded", "MapRunFailed", "MapRunAborted"})


@dataclass
class ChildView:
    index: int
    arn: str
    name: str
    state_machine_arn: str
    map_run_arn: str
    status: str = "RUNNING"
    start: datetime | None = None
    stop: datetime | None = None
    input: str = "{}"
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    events: list[HistoryEvent] = field(default_factory=list)
    """The iteration's own events (not its ``$iteration`` markers), parent numbering."""


def naming(map_run_arn: str, parent_arn: str, machine_arn: str) -> MapRun:
    """The run's naming helper (child ARNs and the child state machine ARN)."""
    spec = ExecutionSpec(
        execution_arn=parent_arn,
        state_machine_arn=machine_arn,
        state_machine_name="",
        name="",
        definition={},
        input=None,
        start_time=datetime.now(),
    )
    return MapRun(map_run_arn, spec, None)


def distributed_prefixes(events: list[HistoryEvent]) -> list[str]:
    """The iteration step prefixes of every Distributed Map visit in ``events``."""
    return sorted({event.step + "/" for event in events if event.type == "MapRunStarted"})


def children(
    events: list[HistoryEvent], map_run_arn: str, naming_run: MapRun, parent_status: str
) -> list[ChildView] | None:
    """The run's children in index order; None when no MapRunStarted names the run."""
    started = next(
        (
            e
            for e in events
            if e.type == "MapRunStarted" and e.details.get("mapRunArn") == map_run_arn
        ),
        None,
    )
    if started is None:
        return None
    prefix = started.step + "/"
    end = min(
        (
            e.id
            for e in events
            if e.type == "MapRunStarted" and e.step == started.step and e.id > started.id
        ),
        default=None,
    )
    views: dict[int, ChildView] = {}
    over = parent_status != "RUNNING"
    for event in events:
        if event.id <= started.id or (end is not None and event.id >= end):
            continue
        if event.step == started.step and event.type in _RUN_ENDS:
            over = True
        if not event.step.startswith(prefix):
            continue
        head, _, rest = event.step[len(prefix) :].partition("/")
        try:
            index = int(head.partition(".")[2])
        except ValueError:
            continue
        view = views.get(index)
        if view is None:
            name = naming_run.child_name(index)
            view = views[index] = ChildView(
                index=index,
                arn=naming_run.child_execution_prefix + name,
                name=name,
                state_machine_arn=naming_run.child_machine_arn,
                map_run_arn=map_run_arn,
            )
        if rest == ITERATION:
            _mark(view, event)
        else:
            view.events.append(event)
    out = [views[index] for index in sorted(views)]
    for view in out:
        _summarize(view, over)
    return out


def _mark(view: ChildView, event: HistoryEvent) -> None:
    if event.type == "MapIterationStarted":
        view.start = event.timestamp
    elif event.type == "MapIterationSucceeded":
        view.status, view.stop = "SUCCEEDED", event.timestamp
    elif event.type == "MapIterationFailed":
        view.status, view.stop = "FAILED", event.timestamp
        view.error = event.details.get("error")
        view.cause = event.details.get("cause")


def _summarize(view: ChildView, run_over: bool) -> None:
    for event in view.events:
        if "input" in event.details:
            view.input = str(event.details["input"])
            break
    if view.start is None and view.events:
        view.start = view.events[0].timestamp
    for event in reversed(view.events):
        if view.status == "SUCCEEDED" and "output" in event.details:
            view.output = str(event.details["output"])
            break
        if view.status == "FAILED" and view.error is None and "error" in event.details:
            view.error = event.details.get("error")
            view.cause = event.details.get("cause")
            break
    if view.status == "RUNNING" and run_over:
        # Cancelled when the run failed (or the parent ended): AWS aborts such children.
        view.status = "ABORTED"
        view.stop = view.events[-1].timestamp if view.events else view.start


def child_history(view: ChildView, role_arn: str) -> list[HistoryEvent]:
    """The child's history as AWS shows a child execution's (see the module docstring)."""
    start = view.start or datetime.now()
    out = [
        HistoryEvent(
            1,
            0,
            start,
            "ExecutionStarted",
            {"input": view.input, "inputDetails": {"truncated": False}, "roleArn": role_arn},
            "",
        )
    ]
    out.extend(_renumber(view.events, first_previous=1, offset=1))
    last = out[-1].id
    stop = view.stop or start
    if view.status == "SUCCEEDED":
        details: dict[str, Any] = {
            "output": view.output if view.output is not None else "null",
            "outputDetails": {"truncated": False},
        }
        out.append(HistoryEvent(last + 1, last, stop, "ExecutionSucceeded", details, ""))
    elif view.status == "FAILED":
        details = {k: v for k, v in (("error", view.error), ("cause", view.cause)) if v}
        out.append(HistoryEvent(last + 1, last, stop, "ExecutionFailed", details, ""))
    elif view.status == "ABORTED":
        out.append(HistoryEvent(last + 1, last, stop, "ExecutionAborted", {}, ""))
    return out


def parent_history(events: list[HistoryEvent]) -> list[HistoryEvent]:
    """The parent's history without its Distributed Maps' iterations, renumbered."""
    prefixes = tuple(distributed_prefixes(events))
    if not prefixes:
        return events
    visible = [e for e in events if not e.step.startswith(prefixes)]
    return _renumber(visible, first_previous=0, offset=0)


def _renumber(
    events: list[HistoryEvent], *, first_previous: int, offset: int
) -> list[HistoryEvent]:
    """``events`` numbered ``offset + 1...``; a previous id not among them points at the
    nearest earlier kept event (or ``first_previous``)."""
    old_ids = [e.id for e in events]
    out: list[HistoryEvent] = []
    for number, event in enumerate(events, start=offset + 1):
        position = bisect.bisect_right(old_ids, event.previous_event_id) - 1
        previous = position + offset + 1 if position >= 0 else first_previous
        out.append(dataclasses.replace(event, id=number, previous_event_id=previous))
    return out


def run_state_name(events: list[HistoryEvent], map_run_arn: str) -> str | None:
    """The name of the Map state that started the run (from its step key ``<seq>.<name>``)."""
    for event in events:
        if event.type == "MapRunStarted" and event.details.get("mapRunArn") == map_run_arn:
            return event.step.rsplit("/", 1)[-1].partition(".")[2]
    return None


def find_map_state(definition: Any, name: str) -> dict[str, Any] | None:
    """The Map state ``name`` anywhere in ``definition`` (branches and item processors too)."""
    if not isinstance(definition, dict):
        return None
    for state_name, state in (definition.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        if state_name == name and state.get("Type") == "Map":
            return state
        nested = [*state.get("Branches", [])]
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor is not None:
            nested.append(processor)
        for inner in nested:
            found = find_map_state(inner, name)
            if found is not None:
                return found
    return None
