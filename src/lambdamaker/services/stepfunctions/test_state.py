"""TestState: run one state on its own and show its data flow (``engines.workflows.inspection``).

The request names the state two ways: ``definition`` is the state itself (the default), or,
with ``stateName``, a whole state machine in which the state is found (top level, Parallel
branches, Map processors). Either way the definition is validated as a state machine first:
a lone state is wrapped in a machine whose other states are stubs for the names it points to,
so its own fields get every rule CreateStateMachine applies, and a bad one is
``InvalidDefinition`` with AWS's message.

What AWS's TestState refuses without a ``mock`` is refused here too (``ValidationException``):
Map and Parallel states, activities, ``.sync`` and ``.waitForTaskToken`` Tasks; a mock is only
for Task, Map and Parallel states; ``context`` only with a mock. A Task without a mock calls
the platform's real integrations (the service's integration registry), as AWS calls the real
service with ``roleArn``.

The run has no retries and no waiting: Wait states return at once, a matching retrier gives
``RETRIABLE``, a matching catcher ``CAUGHT_ERROR``. ``inspectionData`` (DEBUG and TRACE) carries
JSON strings, as the API's ``SensitiveData`` members do.

Invariants: nothing is stored; the run happens on the executions' runner loop (where the
integrations run) under TestState's five-minute limit.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lambdamaker.engines.workflows import validation
from lambdamaker.engines.workflows.errors import TIMEOUT
from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec
from lambdamaker.engines.workflows.inspection import (
    FAILED,
    Mock,
    MockTokens,
    SingleResult,
    SingleState,
    mock_registry,
    run_single,
)
from lambdamaker.engines.workflows.interpreter import dumps
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.tasks import split_pattern
from lambdamaker.engines.workflows.validation_core import ERROR, MISSING_END
from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions.common import check_role_arn, sfn_error
from lambdamaker.services.stepfunctions.launch import RuntimeHolder

DEFAULT_NAME = "StateName"
"""The state's name when ``definition`` is a lone state (what ``$$.State.Name`` reads)."""
LIMIT_SECONDS = 300.0
_MOCKABLE = frozenset({"Task", "Map", "Parallel"})
_INSPECTED = frozenset({"DEBUG", "TRACE"})


def _validation(message: str) -> Exception:
    return sfn_error("ValidationException", message)


def _invalid_definition(message: str) -> Exception:
    return sfn_error("InvalidDefinition", message)


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _validation(f"Invalid {what}: '{exc}'") from None


def _targets(state: dict[str, Any]) -> Iterator[str]:
    """The state names a lone state points to (they become stubs in its wrapper machine)."""
    for key in ("Next", "Default"):
        if isinstance(state.get(key), str):
            yield state[key]
    for group in ("Choices", "Catch"):
        for rule in state.get(group) or ():
            if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                yield rule["Next"]


def _lone_state(text: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(name, state, machine)`` for a lone state definition, validated inside a machine."""
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    if not isinstance(state, dict):
        # Let the validator describe the text (invalid JSON, not an object...).
        _check_machine(text)
        raise _invalid_definition(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
            "Expected value of type [OBJECT] at /'"
        )
    states: dict[str, Any] = {DEFAULT_NAME: state}
    for target in _targets(state):
        if target != DEFAULT_NAME:
            states.setdefault(target, {"Type": "Succeed"})
    machine: dict[str, Any] = {"StartAt": DEFAULT_NAME, "States": states}
    # The wrapper's own findings (no terminal state when the lone state is broken) are noise.
    errors = [
        d
        for d in validation.diagnose(json.dumps(machine))
        if d.severity == ERROR and d.code != MISSING_END
    ]
    if errors:
        raise _invalid_definition(validation.format_message(errors))
    return DEFAULT_NAME, state, machine


def _check_machine(text: str) -> dict[str, Any]:
    try:
        return validation.parse_valid(text)
    except validation.InvalidDefinition as exc:
        raise _invalid_definition(str(exc)) from None


def _find(states: Any, name: str) -> dict[str, Any] | None:
    if not isinstance(states, dict):
        return None
    found = states.get(name)
    if isinstance(found, dict):
        return found
    for state in states.values():
        if not isinstance(state, dict):
            continue
        nested = [b.get("States") for b in state.get("Branches") or () if isinstance(b, dict)]
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                nested.append(state[key].get("States"))
        for inner in nested:
            hit = _find(inner, name)
            if hit is not None:
                return hit
    return None


def _named_state(text: str, name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    machine = _check_machine(text)
    state = _find(machine.get("States"), name)
    if state is None:
        raise _validation(f"State not found in definition: '{name}'")
    return name, state, machine


def _mock(params: dict[str, Any], kind: str) -> Mock | None:
    raw = params.get("mock")
    if raw is None:
        return None
    if kind not in _MOCKABLE:
        raise _validation(f"State type '{kind}' is not supported when a mock is specified")
    has_result = raw.get("result") is not None
    error_output = raw.get("errorOutput")
    if has_result == (error_output is not None):
        raise _validation("A mock must specify exactly one of 'result' and 'errorOutput'")
    if has_result:
        return Mock(result=_json(raw["result"], "mock result"))
    return Mock(error=error_output.get("error") or "", cause=error_output.get("cause") or "")


def _needs_mock(state: dict[str, Any]) -> str | None:
    """Why AWS refuses to run ``state`` for real (without a mock), or None."""
    kind = state.get("Type")
    if kind in ("Map", "Parallel"):
        return f"State type '{kind}' is supported only when a mock is specified"
    resource = state.get("Resource")
    if kind == "Task" and isinstance(resource, str):
        if ":activity:" in resource:
            return "Activity tasks are supported only when a mock is specified"
        pattern = split_pattern(resource)[1]
        if pattern:
            return (
                f"The '{pattern}' service integration pattern is supported only when a mock "
                f"is specified"
            )
    return None


class TestStateOperations(RuntimeHolder):
    """TestState."""

    async def test_state(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        text = params["definition"]
        state_name = params.get("stateName")
        if state_name is None:
            name, state, machine = _lone_state(text)
        else:
            name, state, machine = _named_state(text, state_name)
        kind = str(state["Type"])
        mock = _mock(params, kind)
        if mock is None:
            if params.get("context") is not None:
                raise _validation("The context field may only be specified with a mock")
            reason = _needs_mock(state)
            if reason is not None:
                raise _validation(reason)
        role_arn = params.get("roleArn")
        if role_arn is not None:
            check_role_arn(role_arn)
        value = self._test_input(params)
        variables = _json(params["variables"], "variables") if params.get("variables") else {}
        if not isinstance(variables, dict):
            raise _validation("Invalid variables: 'Expected a JSON object'")
        context = _json(params["context"], "context") if params.get("context") else None
        if context is not None and not isinstance(context, dict):
            raise _validation("Invalid Context object provided: 'Expected a JSON object'")
        configuration = params.get("stateConfiguration") or {}
        test = SingleState(
            name=name,
            state=state,
            input=value,
            variables=variables,
            mock=mock,
            retry_count=int(configuration.get("retrierRetryCount") or 0),
            context=context,
        )
        machine_name = f"TestState-{uuid.uuid4().hex[:12]}"
        execution_name = str(uuid.uuid4())
        spec = ExecutionSpec(
            execution_arn=(
                f"arn:aws:states:{ctx.region}:{ctx.account_id}:express:{machine_name}:"
                f"{execution_name}"
            ),
            state_machine_arn=(
                f"arn:aws:states:{ctx.region}:{ctx.account_id}:stateMachine:{machine_name}"
            ),
            state_machine_name=machine_name,
            name=execution_name,
            definition=machine,
            input=value,
            start_time=datetime.now(UTC),
            role_arn=role_arn or f"arn:aws:iam::{ctx.account_id}:role/TestState",
            region=ctx.region,
            account_id=ctx.account_id,
            type="EXPRESS",
        )
        runtime = self.sfn_runtime
        services = ExecutionServices(
            journal=MemoryJournal(),
            registry=mock_registry(mock) if mock is not None else runtime.registry(None),
            tokens=MockTokens(mock) if mock is not None else None,
            sleep=_no_wait,
        )
        if runtime.clock is not None:
            services.clock = runtime.clock

        async def bounded() -> SingleResult:
            try:
                return await asyncio.wait_for(run_single(test, spec, services), LIMIT_SECONDS)
            except TimeoutError:
                return SingleResult(FAILED, error=TIMEOUT, cause="")

        result = await runtime.runner.run(spec.execution_arn, bounded)
        return _response(result, params.get("inspectionLevel") or "INFO")

    @staticmethod
    def _test_input(params: dict[str, Any]) -> Any:
        text = params.get("input")
        if text is None:
            return {}
        try:
            return json.loads(text)
        except ValueError as exc:
            raise sfn_error(
                "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{exc}'"
            ) from None


async def _no_wait(seconds: float) -> None:
    """TestState does not wait: a Wait state's deadline passes at once."""
    return None


def _response(result: SingleResult, level: str) -> dict[str, Any]:
    out: dict[str, Any] = {"status": result.status}
    if result.has_output:
        out["output"] = dumps(result.output)
    if result.error is not None:
        out["error"] = result.error
    if result.cause is not None:
        out["cause"] = result.cause
    if result.next_state is not None:
        out["nextState"] = result.next_state
    if level in _INSPECTED:
        data: dict[str, Any] = {}
        for key, value in result.inspection.items():
            data[key] = value if key == "errorDetails" else dumps(value)
        out["inspectionData"] = data
    return out
