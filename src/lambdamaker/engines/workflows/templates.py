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

from collections.abc import Callable, Mapping
from typing import Any

from lambdamaker.engines.workflows import intrinsics
from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.paths import (
    MISSING,
    PathError,
    compiled,
    field_not_found_cause,
    read_path,
)


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


# An object template compiled once: ``(output key, kind, value, template key)`` per key, so a
# render is one loop with no per-key string tests. Cached by the template's identity (the
# entry holds the template, so its id cannot be reused while cached): definitions are parsed
# once per state machine and never mutated, so the same objects come back on every visit.
_LITERAL, _NESTED, _PATH, _OTHER = range(4)
_Entry = tuple[str, int, Any, str]
_COMPILED: dict[int, tuple[Any, tuple[_Entry, ...]]] = {}
_COMPILED_MAX = 4096


def _compiled(template: Mapping[str, Any]) -> tuple[_Entry, ...]:
    cached = _COMPILED.get(id(template))
    if cached is not None and cached[0] is template:
        return cached[1]
    entries: list[_Entry] = []
    for key, value in template.items():
        if key.endswith(".$"):
            # A path ("$..."): read directly; anything else (an intrinsic, or not a string)
            # goes through ``resolve``, which words the errors.
            plain = isinstance(value, str) and value[:1] == "$"
            entries.append((key[:-2], _PATH if plain else _OTHER, value, key))
        elif isinstance(value, (dict, list)):
            entries.append((key, _NESTED, value, key))
        else:
            entries.append((key, _LITERAL, value, key))
    compiled = tuple(entries)
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[id(template)] = (template, compiled)
    return compiled


def _render_object(
    template: Mapping[str, Any],
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for out_key, kind, value, key in _compiled(template):
        if kind == _LITERAL:
            out[out_key] = value
        elif kind == _PATH:
            try:
                out[out_key] = read_path(value, data, context, variables)
            except PathError as exc:
                raise StatesError(RUNTIME, field_not_found_cause(exc.path, key, data)) from None
        elif kind == _NESTED:
            out[out_key] = render(value, data, context, variables, field=field)
        else:
            out[out_key] = resolve(key, value, data, context, variables)
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


def data_renderer(template: Any) -> Callable[[Any], Any]:
    """``render`` of a template whose every ``.$`` binding is a data path (``$...``, never
    ``$$``, a variable or an intrinsic; the caller checks), compiled to one function of the
    data: same output, same errors, no per-render lookups."""
    if isinstance(template, list):
        parts = [data_renderer(item) for item in template]
        return lambda data: [part(data) for part in parts]
    if not isinstance(template, dict):
        return lambda data: template
    entries: list[tuple[str, int, Any, str]] = []
    for out_key, kind, value, key in _compiled(template):
        if kind == _PATH:
            entries.append((out_key, kind, compiled(value)[2], key))
        elif kind == _NESTED:
            entries.append((out_key, kind, data_renderer(value), key))
        elif kind == _LITERAL:
            entries.append((out_key, kind, value, key))
        else:
            raise ValueError("not a data template")
    fixed = tuple(entries)
    paths_of = {key: value for key, value in template.items()}

    def render_data(data: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for out_key, kind, value, key in fixed:
            if kind == _PATH:
                found = value(data)
                if found is MISSING:
                    raise StatesError(RUNTIME, field_not_found_cause(paths_of[key], key, data))
                out[out_key] = found
            elif kind == _LITERAL:
                out[out_key] = value
            else:
                out[out_key] = value(data)
        return out

    return render_data
