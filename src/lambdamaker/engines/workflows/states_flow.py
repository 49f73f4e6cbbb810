"""The states that only move data and control: Pass, Choice, Wait, Succeed, Fail."""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.workflows import choice, dataflow, intrinsics, jsonata_eval, paths, waits
from lambdamaker.engines.workflows.errors import (
    NO_CHOICE_MATCHED,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    StatesError,
)
from lambdamaker.engines.workflows.interpreter import HANDLERS, Visit


async def visit_pass(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    state = visit.state
    if visit.jsonata:
        output, assigned = dataflow.jsonata_output(state, visit.raw, visit.context, visit.scope)
    else:
        effective = visit.input_for_work()
        result = state.get("Result", effective)
        output, assigned = dataflow.jsonpath_output(
            state, visit.raw, result, visit.context, visit.scope, selector=False
        )
    return await visit.leave(output, assigned, visit.next_state())


async def visit_choice(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    state = visit.state
    if visit.jsonata:
        binding = dataflow.states_binding(visit.raw, visit.context)
        for rule in state.get("Choices", ()):
            matched = jsonata_eval.render(
                rule["Condition"], binding, visit.scope, field="Condition"
            )
            if not isinstance(matched, bool):
                raise StatesError(
                    QUERY_EVALUATION_ERROR,
                    f"The Condition of a Choice rule in state '{visit.name}' must evaluate to "
                    f"a boolean, but evaluated to {dataflow_dump(matched)}.",
                )
            if matched:
                source = rule if ("Output" in rule or "Assign" in rule) else state
                output, assigned = dataflow.jsonata_output(
                    source, visit.raw, visit.context, visit.scope
                )
                return await visit.leave(output, assigned, str(rule["Next"]))
        following = _default(visit)
        output, assigned = dataflow.jsonata_output(state, visit.raw, visit.context, visit.scope)
        return await visit.leave(output, assigned, following)
    effective = visit.input_for_work(template_field="")
    rule = choice.matching_rule(state.get("Choices", []), effective, visit.context, visit.scope)
    if rule is not None:
        source = rule if "Assign" in rule else state
        output, assigned = dataflow.passthrough_output(
            source, effective, visit.context, visit.scope
        )
        if source is rule and "OutputPath" in state:
            output = paths.select(
                state["OutputPath"], effective, visit.context, visit.scope, field="OutputPath"
            )
        return await visit.leave(output, assigned, str(rule["Next"]))
    following = _default(visit)
    output, assigned = dataflow.passthrough_output(state, effective, visit.context, visit.scope)
    return await visit.leave(output, assigned, following)


def _default(visit: Visit) -> str:
    default = visit.state.get("Default")
    if default is None:
        raise StatesError(NO_CHOICE_MATCHED, f"No Matches! in state '{visit.name}'")
    return str(default)


def dataflow_dump(value: Any) -> str:
    from lambdamaker.engines.workflows.interpreter import dumps

    return dumps(value)


async def visit_wait(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    state = visit.state
    entered = visit.last_time
    if visit.jsonata:
        binding = dataflow.states_binding(visit.raw, visit.context)
        seconds = timestamp = None
        if "Seconds" in state:
            seconds = jsonata_eval.render(state["Seconds"], binding, visit.scope, field="Seconds")
        if "Timestamp" in state:
            timestamp = jsonata_eval.render(
                state["Timestamp"], binding, visit.scope, field="Timestamp"
            )
        deadline = waits.deadline_from(seconds, timestamp, entered)
        await visit.run.sleep_until(deadline)
        output, assigned = dataflow.jsonata_output(state, visit.raw, visit.context, visit.scope)
    else:
        effective = visit.input_for_work(template_field="")
        deadline = waits.wait_deadline(state, effective, visit.context, visit.scope, entered)
        await visit.run.sleep_until(deadline)
        output, assigned = dataflow.passthrough_output(state, effective, visit.context, visit.scope)
    return await visit.leave(output, assigned, visit.next_state())


async def visit_succeed(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    if visit.jsonata:
        output, assigned = dataflow.jsonata_output(
            visit.state, visit.raw, visit.context, visit.scope
        )
    else:
        effective = visit.input_for_work(template_field="")
        output, assigned = dataflow.passthrough_output(
            visit.state, effective, visit.context, visit.scope
        )
    return await visit.leave(output, assigned, None)


async def visit_fail(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    error = _fail_field(visit, "Error")
    cause = _fail_field(visit, "Cause")
    raise StatesError(error if error is not None else "", cause if cause is not None else "")


def _fail_field(visit: Visit, field: str) -> str | None:
    state = visit.state
    if visit.jsonata:
        if field not in state:
            return None
        binding = dataflow.states_binding(visit.raw, visit.context)
        value = jsonata_eval.render(state[field], binding, visit.scope, field=field)
        return value if isinstance(value, str) else dataflow_dump(value)
    if field in state:
        return str(state[field])
    path = state.get(field + "Path")
    if path is None:
        return None
    try:
        if intrinsics.is_intrinsic(path):
            value = intrinsics.evaluate(path, visit.raw, visit.context, visit.scope)
        else:
            value = paths.read_path(path, visit.raw, visit.context, visit.scope)
    except paths.PathError:
        raise StatesError(
            RUNTIME,
            f"The JSONPath '{path}' specified for the field '{field}Path' could not be found "
            f"in the input '{dataflow_dump(visit.raw)}'",
        ) from None
    return value if isinstance(value, str) else dataflow_dump(value)


HANDLERS.update(
    Pass=visit_pass,
    Choice=visit_choice,
    Wait=visit_wait,
    Succeed=visit_succeed,
    Fail=visit_fail,
)
