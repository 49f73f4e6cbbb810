"""Payload templates of JSONPath states: Parameters, ResultSelector, ItemSelector, Assign values.

A template is any JSON value. Objects are rebuilt key by key: a key ending in ``.$`` takes its
value from a path (``$...`` data, ``$$...`` context, ``$name...`` a variable) or an intrinsic
function call (``States.Format(...)``) and loses its ``.$`` suffix; any other key keeps its value,
rendered recursively (objects and arrays nested at any depth are templates too). Strings under
keys without ``.$`` are literals even when they look like paths (``"a": "$.x"`` stays ``"$.x"``).

Invariants:
- ``render`` never mutates the template or the data; selected values are shared with ``data``
  (the engine never mutates values in place, so sharing is safe and saves copies);
- a path that matches nothing is ``States.Runtime`` with AWS's cause ``The JSONPath '<path>'
  specified for the field '<key>.$' could not be found in the input '<data>'`` (AWS names
  ``States.ParameterPathFailure`` in the spec, but real executions report ``States.Runtime``
  with this cause, which ``States.ALL`` does not catch); intrinsic failures propagate as the
  ``StatesError`` the intrinsics module raises (``States.IntrinsicFailure``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdamaker.engines.workflows import intrinsics
from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.paths import PathError, field_not_found_cause, read_path


def render(
    template: Any,
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    *,
    field: str = "Parameters",
) -> Any:
    """``template`` with every ``.$`` key resolved against ``data`` / ``context`` / ``variables``.

    ``field`` is the state field being rendered (``Parameters``, ``ResultSelector``,
    ``ItemSelector``, ``Assign``); it only affects diagnostics.
    """
    if isinstance(template, dict):
        return _render_object(template, data, context, variables, field)
    if isinstance(template, list):
        return [render(item, data, context, variables, field=field) for item in template]
    return template


def _render_object(
    template: Mapping[str, Any],
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            out[key[:-2]] = resolve(key, value, data, context, variables)
        elif isinstance(value, (dict, list)):
            out[key] = render(value, data, context, variables, field=field)
        else:
            out[key] = value
    return out


def resolve(
    key: str,
    expression: Any,
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> Any:
    """The value of one ``key.$`` binding: an intrinsic call or a path."""
    if not isinstance(expression, str):
        # Validation rejects this; at run time it is still a user error, never a crash.
        raise StatesError(
            RUNTIME,
            f"The value for the field '{key}' must be a STRING that contains a JSONPath "
            "or an intrinsic function",
        )
    try:
        # Paths start with "$", intrinsics with "States."; test the cheap case first.
        if expression[:1] != "$" and intrinsics.is_intrinsic(expression):
            return intrinsics.evaluate(expression, data, context, variables)
        return read_path(expression, data, context, variables)
    except PathError as exc:
        # For an intrinsic, the path is the argument that matched nothing.
        raise StatesError(RUNTIME, field_not_found_cause(exc.path, key, data)) from None
