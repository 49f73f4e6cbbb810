"""One state run on its own, with its data flow laid open: the engine side of TestState.

``run_single(test, spec, services)`` visits ``test.state`` once through the interpreter's own
handlers (``interpreter.HANDLERS``), in a ``Visit`` of a ``Run`` like any execution's, and
reports what AWS's TestState reports:

- ``status``: ``SUCCEEDED`` (with ``output`` and ``next_state``: the state's ``Next``, a Choice
  rule's target, or None at an end), ``FAILED`` (``error``/``cause``), ``RETRIABLE`` (a retrier
  matches and has attempts left after ``retry_count`` retries: TestState never retries, it
  says so, with the retrier's index and its backoff) or ``CAUGHT_ERROR`` (a catcher matches:
  ``output`` is the catcher's output, ``next_state`` its ``Next``);
- ``inspection``: the intermediate values. They are taken from the run where the run records
  them (a Task's payload and raw result are its Scheduled / Succeeded events), and otherwise
  recomputed with the same functions the handlers use (``paths.select``,
  ``templates.render``, ``paths.apply_result_path``), so there is one implementation of the
  data flow.

A ``Mock`` replaces what the state's work returns (a Task's resource, a Map's iterations or a
Parallel's branches): the result, or an ``error``/``cause`` raised in its place.

Invariants:
- the state's Retry and Catch are taken off before the visit, so the handler runs exactly one
  attempt and an error reaches this module; Retry/Catch are then judged with ``retries``, and
  a catcher's output comes from ``Visit.caught`` itself;
- inspection values are JSON values; the caller serialises them; nothing here raises for a
  user's input (engine errors become ``FAILED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from lambdamaker.engines.workflows import paths, retries, templates, variables
from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec
from lambdamaker.engines.workflows.interpreter import HANDLERS, Run, Visit
from lambdamaker.engines.workflows.steps import Step, Thread
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskRequest

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
RETRIABLE = "RETRIABLE"
CAUGHT_ERROR = "CAUGHT_ERROR"

_NO_VALUE: Any = object()
_RESULT_EVENTS = frozenset({"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded"})
_PAYLOAD_EVENTS = {
    "TaskScheduled": "parameters",
    "LambdaFunctionScheduled": "input",
    "ActivityScheduled": "input",
}
_PASSTHROUGH = frozenset({"Choice", "Wait", "Succeed", "Fail"})


@dataclass
class Mock:
    """A mocked outcome of the state's work: ``result``, or ``error``/``cause`` raised."""

    result: Any = None
    error: str | None = None
    cause: str | None = None

    def outcome(self) -> Any:
        if self.error is not None or self.cause is not None:
            raise StatesError(self.error or "", self.cause or "")
        return self.result


@dataclass
class SingleState:
    """What to run: one state (as written, with its Retry/Catch) and its surroundings."""

    name: str
    state: dict[str, Any]
    input: Any
    variables: dict[str, Any] = field(default_factory=dict)
    mock: Mock | None = None
    retry_count: int = 0
    context: dict[str, Any] | None = None
    """Members of the context object to use instead of the run's own (deep-merged)."""


@dataclass
class SingleResult:
    status: str
    output: Any = _NO_VALUE
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection: dict[str, Any] = field(default_factory=dict)
    """input, afterInputPath, afterParameters, afterArguments, result, afterResultSelector,
    afterResultPath, variables, errorDetails: whichever the state's run produced."""

    @property
    def has_output(self) -> bool:
        return self.output is not _NO_VALUE


class MockTokens:
    """Task tokens for a mocked ``.waitForTaskToken`` or activity Task: the "callback" is the
    mock itself, so waiting returns (or raises) the mocked outcome at once."""

    def __init__(self, mock: Mock) -> None:
        self.mock = mock

    def new_token(self, execution_arn: str, step: str) -> str:
        return f"{execution_arn}#{step}"

    async def wait(self, token: str, heartbeat_seconds: float | None) -> Any:
        return self.mock.outcome()

    def discard(self, token: str) -> None:
        return None


def mock_registry(mock: Mock) -> IntegrationRegistry:
    """Every resource answers with the mock (token resources only get their token delivered,
    and the wait answers through ``MockTokens``)."""

    async def handler(request: TaskRequest) -> Any:
        if request.task_token is not None:
            return None
        return mock.outcome()

    registry = IntegrationRegistry()
    registry.register_prefix("", handler)
    return registry


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = dict(base[key])
            _merge(base[key], value)
        else:
            base[key] = value


async def _work(visit: Visit, mock: Mock | None) -> tuple[Any, str | None]:
    """The visit itself: the state's handler, or for a mocked Map/Parallel the mock as the
    result of its iterations/branches, through the same output processing."""
    kind = visit.kind
    if kind in ("Map", "Parallel") and mock is not None:
        await visit.enter()
        visit.input_for_work(template_field="")
        output, assigned = visit.output_of(mock.outcome())
        return await visit.leave(output, assigned, visit.next_state())
    return await HANDLERS[kind](visit)


async def run_single(
    test: SingleState, spec: ExecutionSpec, services: ExecutionServices
) -> SingleResult:
    """Visit ``test.state`` once (see the module docstring)."""
    from lambdamaker.engines.workflows import states_flow, states_map, states_parallel, states_task

    del states_flow, states_map, states_parallel, states_task  # they fill HANDLERS
    state = test.state
    retriers = list(state.get("Retry") or ())
    catchers = list(state.get("Catch") or ())
    bare = {key: value for key, value in state.items() if key not in ("Retry", "Catch")}
    run = Run(spec, services)
    thread = Thread(1)
    scope = variables.branch_scope(test.variables)
    visit = Visit(
        run, test.name, bare, test.input, scope, Step(run.journal, f"0.{test.name}", thread), thread
    )
    if retriers:
        visit.context["State"]["RetryCount"] = test.retry_count
    if test.context:
        _merge(visit.context, test.context)
    in_task = state.get("Type") == "Task"
    details: dict[str, Any] = {}
    try:
        output, following = await _work(visit, test.mock)
        result = SingleResult(SUCCEEDED, output=output, next_state=following)
    except StatesError as error:
        result = await _judge(visit, error, retriers, catchers, test.retry_count, in_task, details)
    result.inspection = _inspection(visit, test, result, details)
    return result


async def _judge(
    visit: Visit,
    error: StatesError,
    retriers: list[dict[str, Any]],
    catchers: list[dict[str, Any]],
    retry_count: int,
    in_task: bool,
    details: dict[str, Any],
) -> SingleResult:
    """An error out of the single attempt: RETRIABLE, CAUGHT_ERROR or FAILED."""
    index = retries.find(retriers, error, in_task=in_task)
    if index is not None:
        delay = retries.retry_delay(retriers[index], retry_count + 1)
        if delay is not None:
            details.update(retryIndex=index, retryBackoffIntervalSeconds=int(delay))
            return SingleResult(RETRIABLE, error=error.error, cause=error.cause)
    index = retries.find(catchers, error, in_task=in_task)
    if index is None:
        return SingleResult(FAILED, error=error.error, cause=error.cause)
    visit.state = {**visit.state, "Catch": catchers}
    try:
        output, following = await visit.caught(error, in_task=in_task)
    except StatesError as failure:  # the catcher's own ResultPath / Output failed
        return SingleResult(FAILED, error=failure.error, cause=failure.cause)
    details["catchIndex"] = index
    return SingleResult(
        CAUGHT_ERROR, output=output, error=error.error, cause=error.cause, next_state=following
    )


def _recorded(visit: Visit) -> tuple[Any, Any]:
    """(payload, raw result) of a Task as its events recorded them (``_NO_VALUE`` if none)."""
    payload = result = _NO_VALUE
    events = getattr(visit.run.journal, "events", ())
    for event in events:
        key = _PAYLOAD_EVENTS.get(event.type)
        if key is not None and key in event.details:
            payload = orjson.loads(event.details[key])
        elif event.type in _RESULT_EVENTS:
            result = orjson.loads(event.details.get("output", "null"))
    return payload, result


def _inspection(
    visit: Visit, test: SingleState, outcome: SingleResult, details: dict[str, Any]
) -> dict[str, Any]:
    data: dict[str, Any] = {"input": test.input}
    try:
        if visit.jsonata:
            _jsonata_steps(visit, test, data)
        else:
            _jsonpath_steps(visit, test, data)
    except StatesError:
        pass  # the run failed at this step too: show what came before it
    scope = dict(visit.scope)
    if scope:
        data["variables"] = scope
    if details:
        data["errorDetails"] = details
    return data


def _mocked_result(test: SingleState) -> Any:
    if test.mock is None or test.mock.error is not None or test.mock.cause is not None:
        return _NO_VALUE
    return test.mock.result


def _jsonata_steps(visit: Visit, test: SingleState, data: dict[str, Any]) -> None:
    kind = visit.kind
    payload, result = _recorded(visit)
    if kind in ("Map", "Parallel"):
        result = _mocked_result(test)
    if "Arguments" in visit.state and payload is not _NO_VALUE:
        data["afterArguments"] = payload
    if result is not _NO_VALUE:
        data["result"] = result


def _jsonpath_steps(visit: Visit, test: SingleState, data: dict[str, Any]) -> None:
    state, raw, context, scope = visit.state, test.input, visit.context, test.variables
    kind = visit.kind
    if kind == "Pass" and "Result" in state:
        result: Any = state["Result"]
    else:
        after_input = raw
        if "InputPath" in state:
            after_input = paths.select(state["InputPath"], raw, context, scope, field="InputPath")
        data["afterInputPath"] = after_input
        if kind in _PASSTHROUGH:
            return
        payload, result = _recorded(visit)
        if kind == "Map":
            if "ItemsPath" in state:
                data["afterItemsPath"] = paths.select(
                    state["ItemsPath"], after_input, context, scope, field="ItemsPath"
                )
        elif payload is _NO_VALUE:
            payload = after_input
            if "Parameters" in state:
                payload = templates.render(
                    state["Parameters"], after_input, context, scope, field="Parameters"
                )
        if kind != "Map":
            data["afterParameters"] = payload
        if kind == "Pass":
            result = payload
        elif kind in ("Map", "Parallel"):
            result = _mocked_result(test)
        if result is _NO_VALUE:
            return
    if kind != "Pass" or "Result" in state:
        data["result"] = result
    selected = result
    if "ResultSelector" in state:
        selected = templates.render(
            state["ResultSelector"], result, context, scope, field="ResultSelector"
        )
    data["afterResultSelector"] = selected
    data["afterResultPath"] = paths.apply_result_path(raw, selected, state.get("ResultPath", "$"))


__all__ = [
    "CAUGHT_ERROR",
    "FAILED",
    "RETRIABLE",
    "SUCCEEDED",
    "Mock",
    "MockTokens",
    "SingleResult",
    "SingleState",
    "mock_registry",
    "run_single",
]
