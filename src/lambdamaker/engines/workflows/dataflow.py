"""A state's input and output processing, in its query language.

JSONPath (AWS's "Input and Output Processing")::

    raw input -> InputPath -> Parameters ----------------> effective input (the task's payload)
    result    -> ResultSelector -> Assign (sees this)      (variables for the next states)
              -> ResultPath (into a copy of the raw input) -> OutputPath -> state output

JSONata: ``$states.input`` is the raw input; ``Arguments`` is the payload; the result is
``$states.result``; ``Output`` (default: the result, or the input for states without one) and
``Assign`` are both evaluated against the variables as they were when the state began.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdamaker.engines.workflows import jsonata_eval, paths, templates, variables

JSONATA = "JSONata"

_ABSENT: Any = object()


def effective_input(
    state: Mapping[str, Any],
    raw: Any,
    context: Mapping[str, Any],
    scope: Mapping[str, Any],
    *,
    jsonata: bool,
    template_field: str = "Parameters",
) -> Any:
    """The payload a state works on: InputPath + Parameters, or JSONata Arguments."""
    if jsonata:
        if "Arguments" in state:
            return jsonata_eval.render(
                state["Arguments"], states_binding(raw, context), scope, field="Arguments"
            )
        return raw
    data = raw
    if "InputPath" in state:
        data = paths.select(state["InputPath"], raw, context, scope, field="InputPath")
    if template_field in state:
        data = templates.render(state[template_field], data, context, scope, field=template_field)
    return data


def states_binding(raw: Any, context: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    binding = {"input": raw, "context": context}
    binding.update(extra)
    return binding


def jsonpath_output(
    state: Mapping[str, Any],
    raw: Any,
    result: Any,
    context: Mapping[str, Any],
    scope: Mapping[str, Any],
    *,
    selector: bool = True,
) -> tuple[Any, dict[str, Any] | None]:
    """``(output, assigned)`` of a JSONPath state that produced ``result``."""
    if selector and "ResultSelector" in state:
        result = templates.render(
            state["ResultSelector"], result, context, scope, field="ResultSelector"
        )
    assigned = None
    if "Assign" in state:
        assigned = variables.evaluate_assign(state["Assign"], result, context, scope)
    result_path = state.get("ResultPath", "$")
    if result_path is None:
        output = raw
    elif result_path == "$":
        output = result
    else:
        output = paths.apply_result_path(raw, result, result_path)
    if "OutputPath" in state:
        output = paths.select(state["OutputPath"], output, context, scope, field="OutputPath")
    return output, assigned


def passthrough_output(
    state: Mapping[str, Any],
    effective: Any,
    context: Mapping[str, Any],
    scope: Mapping[str, Any],
) -> tuple[Any, dict[str, Any] | None]:
    """JSONPath Choice/Wait/Succeed: Assign sees the effective input; OutputPath selects."""
    assigned = None
    if "Assign" in state:
        assigned = variables.evaluate_assign(state["Assign"], effective, context, scope)
    output = effective
    if "OutputPath" in state:
        output = paths.select(state["OutputPath"], output, context, scope, field="OutputPath")
    return output, assigned


def jsonata_output(
    state: Mapping[str, Any],
    raw: Any,
    context: Mapping[str, Any],
    scope: Mapping[str, Any],
    *,
    result: Any = _ABSENT,
    error_output: Any = _ABSENT,
) -> tuple[Any, dict[str, Any] | None]:
    """``(output, assigned)`` of a JSONata state (or catcher), both against the old variables."""
    binding = states_binding(raw, context)
    default = raw
    if result is not _ABSENT:
        binding["result"] = result
        default = result
    if error_output is not _ABSENT:
        binding["errorOutput"] = error_output
        default = error_output
    assigned = None
    if "Assign" in state:
        assigned = jsonata_eval.evaluate_assign(state["Assign"], binding, scope)
    if "Output" in state:
        output = jsonata_eval.render(state["Output"], binding, scope, field="Output")
    else:
        output = default
    return output, assigned
