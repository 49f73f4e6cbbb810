"""JSONata for ASL: ``{% %}`` strings, ``$states``, templates and ``Assign``.

A JSONata state writes expressions as strings of the form ``"{% expr %}"`` anywhere a value may
go (Arguments, Output, Items, ItemSelector, Condition, Assign, ...). The expression sees two
kinds of bindings and nothing else: ``$states`` (``input``, ``context``, ``result``,
``errorOutput``, each present only when AWS binds it) and the workflow variables, each as
``$name``. There is no context value: AWS refuses ``$``, ``$$`` and bare field names at the
top level when it validates the definition (``check``).

Built on ``jsonata-python`` (the library DESIGN.md names), wrapped where it differs from what
Step Functions does:

- compiled expressions are cached by text (the AST is immutable once built); each evaluation
  runs on a shallow copy of the compiled object, because the library keeps per-evaluation
  state (current input, environment, the ``$now()`` timestamp) on the instance it finds in a
  thread-local. The copy is installed there for the duration of one evaluation, so ``$now()``
  and ``$millis()`` return one instant per evaluation (and one per ``render``/``evaluate_assign``
  call: a template is one evaluation in AWS's sense);
- JSON null and "undefined" are kept apart (``Utils.NULL_VALUE`` inside, ``None`` outside) so
  an expression that returns nothing fails as AWS fails it, while one that returns ``null``
  yields ``None``;
- numbers come out as JSON numbers the way JSONata (one number type) prints them: an integral
  result is an ``int`` (``$sum([1.5, 1.5])`` is ``3``); infinities and NaN are errors;
- AWS's functions are added and ``$eval`` removed (``jsonata_functions``).

Invariants:
- every failure is ``StatesError(States.QueryEvaluationError, cause)`` with AWS's sentence
  ``The JSONata expression '<expr>' specified for the field '<field>' ...``; the interpreter
  prefixes the state part (``An error occurred while executing the state ...``);
- ``field`` names the position: a template extends it with ``/key`` per object key and
  ``[i]`` per array index (``Output/result``, ``Arguments/items[0]``);
- values passed in are never mutated; results share no mutable structure with the library.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from lambdamaker.engines.workflows.errors import QUERY_EVALUATION_ERROR, StatesError
from lambdamaker.engines.workflows.jsonata_check import CheckError, check_ast
from lambdamaker.engines.workflows.jsonata_functions import AWS_FRAME, FunctionError
from lambdamaker.engines.workflows.jsonata_lib import (
    JException,
    Jsonata,
    Timebox,
    Utils,
    deep_recursion,
)

__all__ = [
    "CheckError",
    "check",
    "evaluate",
    "evaluate_assign",
    "is_expression",
    "render",
    "type_name",
]

_OPEN = "{%"
_CLOSE = "%}"
# A JS number prints without an exponent below 1e21: integral values below that are ints.
_INT_LIMIT = 1e21
# Runaway guards: evaluation time and JSONata evaluation depth (each level is a few Python
# frames; evaluations run under ``jsonata_lib.deep_recursion``).
_TIMEOUT_MS = 10_000
_MAX_DEPTH = 2_000


def is_expression(value: Any) -> bool:
    """True for a string ``"{% ... %}"`` (no space before ``{%`` or after ``%}``)."""
    return (
        isinstance(value, str)
        and len(value) >= 4
        and value.startswith(_OPEN)
        and value.endswith(_CLOSE)
    )


def _inner(value: str) -> str:
    return value[2:-2].strip()


class _Unsupported(Exception):
    """A result JSON cannot hold (a function, a regex)."""


@functools.lru_cache(maxsize=4096)
def _compile(expression: str) -> Jsonata:
    compiled = Jsonata(expression)
    # Parent frame: JSONata's built-ins plus AWS's functions; the per-call frame hangs below.
    compiled.environment = Jsonata.Frame(AWS_FRAME)
    return compiled


def check(expression: str) -> None:
    """Validate an expression's text (inside ``{% %}``) as AWS does on create/validate.

    Raises ``CheckError`` (a ``ValueError``; ``code`` is ``INVALID_JSONATA_EXPRESSION`` for a
    syntax error, ``UNSUPPORTED_JSONATA_EXPRESSION`` for ``$``/``$$``/a bare field name at the
    top level) with AWS's message.
    """
    text = expression.strip()
    if not text:
        raise CheckError("INVALID_JSONATA_EXPRESSION", "The JSONata expression is empty.")
    try:
        compiled = _compile(text)
    except JException as exc:
        raise CheckError("INVALID_JSONATA_EXPRESSION", jsonata_message(exc)) from None
    except Exception as exc:  # the library's parser fails on some inputs with plain errors
        raise CheckError("INVALID_JSONATA_EXPRESSION", f"Invalid expression: {exc}") from None
    check_ast(compiled.ast)


def _to_jsonata(value: Any) -> Any:
    # Only a top-level None is ambiguous (the library reads it as undefined); nested nulls
    # are read as JSON null when a path reaches them.
    return Utils.NULL_VALUE if value is None else value


def _from_jsonata(value: Any) -> Any:
    if value is Utils.NULL_VALUE or value is None:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JException("D1001", -1, value)
        if value.is_integer() and abs(value) < _INT_LIMIT:
            return int(value)
        return value
    if isinstance(value, dict):
        return {key: _from_jsonata(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_jsonata(item) for item in value]
    raise _Unsupported


def _run(expression: str, bindings: Mapping[str, Any], now_ms: int) -> Any:
    """Evaluate; the raw JSONata result (``None`` = undefined). Library errors propagate."""
    compiled = _compile(expression)
    instance = copy.copy(compiled)
    instance.timestamp = now_ms
    frame = Jsonata.Frame(compiled.environment)
    for name, value in bindings.items():
        frame.bind(name, _to_jsonata(value))
    frame.bind("$", None)
    # Bound runaway expressions (AWS fails them too): D1011 too deep, D1012 too long.
    Timebox(frame, _TIMEOUT_MS, _MAX_DEPTH)
    current = Jsonata.CURRENT
    previous = getattr(current, "jsonata", None)
    current.jsonata = instance
    try:
        return instance.eval(instance.ast, None, frame)
    finally:
        current.jsonata = previous


def type_name(value: Any) -> str:
    """JSONata's name for a JSON value's type (``$type``): AWS uses it in its causes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fail(expression: str, field: str, tail: str) -> StatesError:
    return StatesError(
        QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{expression}' specified for the field '{field}' {tail}",
    )


# jsonata-js names an array signature's item type in the plural (T0412).
_ARRAY_ITEM_TYPES = {
    "a": "arrays",
    "b": "booleans",
    "f": "functions",
    "n": "numbers",
    "o": "objects",
    "s": "strings",
}
# Where the library's wording differs from jsonata-js beyond "Object" for "function".
_JS_TEMPLATES = {
    "D1011": "Stack overflow error: Check for non-terminating recursive function.  "
    "Consider rewriting as tail-recursive.",
    "D1012": "Expression evaluation timeout: Check for infinite loop",
}
_PLACEHOLDER = re.compile(r"\{\{\{\w+\}\}\}|\{\{\w+\}\}")


def _js_json(value: Any) -> str:
    """``JSON.stringify`` of a message argument, as jsonata-js fills its templates."""
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(str(value))


def jsonata_message(exc: JException) -> str:
    """A library error's text as jsonata-js (and so AWS) writes it.

    The library's catalogue came from a Java port that replaced the word "function" with
    "Object" and fills placeholders without JSON quoting; this rebuilds the jsonata-js text
    from the template and the exception's arguments (in the template's placeholder order).
    """
    template = _JS_TEMPLATES.get(exc.error) or JException.error_codes.get(exc.error)
    if template is None:
        return str(exc)
    template = re.sub(r"\bObject\b", "function", template)
    args = [exc.current, exc.expected, exc.extra]
    if exc.error == "T0412" and isinstance(exc.extra, str):
        args[2] = _ARRAY_ITEM_TYPES.get(exc.extra, exc.extra)
    position = iter(range(len(args)))

    def fill(match: re.Match[str]) -> str:
        index = next(position, None)
        value = args[index] if index is not None else None
        if match.group(0).startswith("{{{"):
            return "" if value is None else str(value)
        return _js_json(value)

    return _PLACEHOLDER.sub(fill, template)


def _error_tail(exc: Exception) -> str:
    if isinstance(exc, FunctionError):
        return f"threw an error during evaluation. {exc.code}: {exc.message}"
    if isinstance(exc, JException):
        return f"threw an error during evaluation. {exc.error}: {jsonata_message(exc)}"
    if isinstance(exc, ZeroDivisionError | OverflowError):
        return "threw an error during evaluation. D1001: Number out of range"
    if isinstance(exc, RecursionError):
        # The interpreter's stack ran out before the depth guard: the same overflow.
        return (
            "threw an error during evaluation. D1011: Stack overflow error: Check for "
            "non-terminating recursive function.  Consider rewriting as tail-recursive."
        )
    return f"threw an error during evaluation: {exc}"


def _evaluate_at(
    expression: str,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str,
    now_ms: int,
    expected: str | None,
) -> Any:
    bindings = dict(variables)
    bindings["states"] = states
    try:
        with deep_recursion():
            raw = _run(expression, bindings, now_ms)
    except Exception as exc:  # any library failure is the user's expression failing
        raise _fail(expression, field, _error_tail(exc)) from None
    if raw is None:
        raise _fail(expression, field, "returned nothing (undefined).")
    try:
        value = _from_jsonata(raw)
    except _Unsupported:
        raise _fail(expression, field, "returned an unsupported result type.") from None
    except JException as exc:
        raise _fail(expression, field, _error_tail(exc)) from None
    if expected is not None and type_name(value) != expected:
        shown = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        raise _fail(
            expression,
            field,
            f"returned an unexpected result type. Expected '{expected}', "
            f"but was '{type_name(value)}' for value: {shown}",
        )
    return value


def _now_ms() -> int:
    return int(time.time() * 1000)


def evaluate(
    expression: str,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    *,
    field: str,
    expected: str | None = None,
) -> Any:
    """Evaluate the text inside ``{% %}``; ``expected`` (``"array"``, ``"object"``,
    ``"string"``, ``"number"``, ``"boolean"``) makes any other result type fail with AWS's
    "unexpected result type" cause (Map's ``Items`` passes ``"array"``)."""
    return _evaluate_at(expression.strip(), states, variables, field, _now_ms(), expected)


def _render_at(
    template: Any,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str,
    now_ms: int,
) -> Any:
    if isinstance(template, str):
        if is_expression(template):
            return _evaluate_at(_inner(template), states, variables, field, now_ms, None)
        return template
    if isinstance(template, dict):
        return {
            key: _render_at(value, states, variables, f"{field}/{key}", now_ms)
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [
            _render_at(value, states, variables, f"{field}[{index}]", now_ms)
            for index, value in enumerate(template)
        ]
    return template


def render(
    template: Any, states: Mapping[str, Any], variables: Mapping[str, Any], *, field: str
) -> Any:
    """A JSONata template: each ``{% %}`` string in objects/arrays evaluated, the rest literal.

    Literal containers are copied, so the result never aliases the definition.
    """
    return _render_at(template, states, variables, field, _now_ms())


def evaluate_assign(
    assign: Any, states: Mapping[str, Any], variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The bindings an ``Assign`` field makes, every value evaluated against the *old*
    variables (AWS: assignments in one ``Assign`` do not see each other)."""
    now_ms = _now_ms()
    if is_expression(assign):
        value = _evaluate_at(_inner(assign), states, variables, "Assign", now_ms, "object")
        return dict(value)
    if not isinstance(assign, dict):
        raise StatesError(QUERY_EVALUATION_ERROR, "The Assign field must be a JSON object.")
    return {
        name: _render_at(value, states, variables, f"Assign/{name}", now_ms)
        for name, value in assign.items()
    }
