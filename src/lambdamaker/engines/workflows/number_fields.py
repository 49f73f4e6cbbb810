"""Numeric state fields given as a literal, a JSONata expression or a ``*Path``.

Task ``TimeoutSeconds`` / ``HeartbeatSeconds``, Map ``MaxConcurrency`` /
``ToleratedFailureCount`` / ``ToleratedFailurePercentage``, ItemReader ``MaxItems`` and
ItemBatcher ``MaxItemsPerBatch`` / ``MaxInputBytesPerBatch`` each take a value one of three
ways: ``"Field": 5``, ``"Field": "{% expr %}"`` (JSONata states, against ``$states.input`` /
``$states.context``), or ``"FieldPath": "$.x"`` (read from the data the caller names: the raw
input for a Task, the effective input for a Map). ``resolve`` finds that value and checks it.

AWS words a bad value differently per field, so the checks are ``Rule`` s, one per wording:
``path_bad`` judges a value read through the ``*Path`` (cause ``The <field>Path field refers
to value "<v>" which is not a valid <path_kind>: <path>``), ``bad`` judges the value finally
used, however it was given (cause ``bad_cause``, a ``str.format`` template with ``field``,
``state`` and ``value``). Either may be absent: that field is not checked there.

Invariants: the literal wins over the ``*Path`` (definition validation allows only one); an
absent field and an absent ``*Path`` give None, unchecked; a value is returned as given (the
caller converts it); every failure is ``States.Runtime``; a path that does not resolve fails
with the path error's own text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.workflows import dataflow, jsonata_eval, paths
from lambdamaker.engines.workflows.errors import RUNTIME, StatesError

if TYPE_CHECKING:
    from lambdamaker.engines.workflows.interpreter import Visit

PATH_CAUSE = "The {field}Path field refers to value {quoted} which is not a valid {kind}: {path}"


@dataclass(frozen=True)
class Rule:
    """How one family of fields is checked (see the module docstring)."""

    path_bad: Callable[[Any], bool] | None = None
    path_kind: str = "integer"
    bad: Callable[[Any], bool] | None = None
    bad_cause: str = ""


def _not_number(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float)


def _not_integral(value: Any) -> bool:
    return _not_number(value) or not float(value).is_integer()


def _not_count(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int) or value < 0


# Task TimeoutSeconds / HeartbeatSeconds: any value, literal or read, must be above 0.
SECONDS = Rule(
    bad=lambda value: _not_number(value) or value <= 0,
    bad_cause="The {field} of state '{state}' must be a positive integer: {value!r}",
)
# Map MaxConcurrency / ToleratedFailureCount: a read value must be an integral number.
INTEGER = Rule(path_bad=_not_integral, path_kind="integer")
# Map ToleratedFailurePercentage: a read value must be a number (its range is the caller's).
FLOAT = Rule(path_bad=_not_number, path_kind="float")
# ItemReader MaxItems, ItemBatcher MaxItemsPerBatch / MaxInputBytesPerBatch: a read value must
# be a JSON integer >= 0, any other value a number >= 0.
COUNT = Rule(
    path_bad=_not_count,
    path_kind="integer",
    bad=lambda value: _not_number(value) or value < 0,
    bad_cause="The {field} field must be a positive integer: {value}",
)


def _quoted(value: Any) -> str:
    return '"' + (value if isinstance(value, str) else orjson.dumps(value).decode()) + '"'


def resolve(
    visit: Visit, fields: Mapping[str, Any], field: str, data: Any, rule: Rule
) -> Any | None:
    """The value of ``field`` in ``fields`` (the state, or its ReaderConfig / ItemBatcher):
    the literal, the JSONata expression's result, or ``<field>Path`` read from ``data``;
    None when none is given. Raises ``States.Runtime`` as ``rule`` says."""
    value = fields.get(field)
    if visit.jsonata and jsonata_eval.is_expression(value):
        binding = dataflow.states_binding(visit.raw, visit.context)
        value = jsonata_eval.render(value, binding, visit.scope, field=field)
    path = fields.get(field + "Path")
    if value is None and path is not None:
        try:
            value = paths.read_path(path, data, visit.context, visit.scope)
        except paths.PathError as exc:
            raise StatesError(RUNTIME, str(exc)) from None
        if rule.path_bad is not None and rule.path_bad(value):
            cause = PATH_CAUSE.format(
                field=field, quoted=_quoted(value), kind=rule.path_kind, path=path
            )
            raise StatesError(RUNTIME, cause)
    if value is None:
        return None
    if rule.bad is not None and rule.bad(value):
        cause = rule.bad_cause.format(field=field, state=visit.name, value=value)
        raise StatesError(RUNTIME, cause)
    return value
