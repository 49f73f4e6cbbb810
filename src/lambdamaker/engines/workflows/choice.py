"""Choice rules of JSONPath states: every data-test comparator, and And / Or / Not.

``matching_rule`` returns the first top-level rule of ``Choices`` that matches; the interpreter
then follows its ``Next`` (applying its ``Assign``), or the state's ``Default``, or raises
``States.NoChoiceMatched``.

AWS's semantics, as implemented here:

- ``Variable`` is a path on the state's input (``$``), the context object (``$$``) or a
  workflow variable (``$name``). A path that selects nothing is false for ``IsPresent: true``
  and true for ``IsPresent: false``; for every other comparator it is a ``States.Runtime``
  error ("Invalid path ...: The choice state's condition path references an invalid value.").
  The same holds for the right-hand path of a ``*Path`` comparator.
- A type mismatch is simply false, never an error: ``StringEquals`` on a number,
  ``NumericEquals`` on a string or a boolean, ``Timestamp*`` on a string that is not a
  timestamp (either side), ``BooleanEquals`` on ``0``.
- Numbers compare by value across int and float (``1 == 1.0``); booleans are not numbers.
- Strings compare by UTF-16 code units, as AWS's Java runtime does (this differs from Python's
  code-point order only for characters outside the Basic Multilingual Plane).
- Timestamps compare as instants (offsets applied) with full nanosecond precision; what is a
  timestamp is ``waits.parse_timestamp``'s rule, shared with the Wait state.
- ``StringMatches``: ``*`` matches any run of characters (also none); ``\\*`` is a literal
  asterisk and ``\\\\`` a literal backslash; the whole string must match.
- ``Is*`` type tests compare the test's outcome with the rule's boolean (``IsNull: false``
  matches any present non-null value).

Invariants: rules are evaluated left to right with short-circuiting ``And`` / ``Or`` (a later
operand is not read once the result is known); nothing here mutates its arguments; the rule
dict returned is the one from ``choices`` itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.paths import PathError, read_path
from lambdamaker.engines.workflows.waits import timestamp_instant

_ORDER_SUFFIXES = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
_ORDERED_FAMILIES = ("String", "Numeric", "Timestamp")

# Comparators that take a literal (or, with the Path suffix, a path) right-hand side.
_BINARY: frozenset[str] = frozenset(
    [f"{family}{suffix}" for family in _ORDERED_FAMILIES for suffix in _ORDER_SUFFIXES]
    + ["BooleanEquals", "StringMatches"]
)
_BINARY_PATH: frozenset[str] = frozenset(
    f"{name}Path" for name in _BINARY if name != "StringMatches"
)
_TYPE_TESTS: frozenset[str] = frozenset(
    {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
)

COMPARATORS: frozenset[str] = _BINARY | _BINARY_PATH | _TYPE_TESTS
"""Every data-test operator name a Choice rule may use."""

_MISSING: Any = object()


def matching_rule(
    choices: list[dict[str, Any]],
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The first rule of ``choices`` that matches the state's input ``data``, or None."""
    for rule in choices:
        if _holds(rule, data, context, variables):
            return rule
    return None


def _holds(
    rule: Mapping[str, Any], data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]
) -> bool:
    if "And" in rule:
        return all(_holds(sub, data, context, variables) for sub in rule["And"])
    if "Or" in rule:
        return any(_holds(sub, data, context, variables) for sub in rule["Or"])
    if "Not" in rule:
        return not _holds(rule["Not"], data, context, variables)
    operator = next((key for key in rule if key in COMPARATORS), None)
    if operator is None:  # validation rejects such a rule; never match rather than crash
        return False
    operand = rule[operator]
    path = rule.get("Variable", "$")
    value = _lookup(path, data, context, variables)
    if operator == "IsPresent":
        return (value is not _MISSING) is operand
    if value is _MISSING:
        raise _invalid_path(path)
    if operator in _TYPE_TESTS:
        return _TYPE_TEST[operator](value) is operand
    if operator in _BINARY_PATH:
        operand = _lookup(operand, data, context, variables)
        if operand is _MISSING:
            raise _invalid_path(rule[operator])
        operator = operator[: -len("Path")]
    return _compare(operator, value, operand)


def _lookup(path: Any, data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
    try:
        return read_path(path, data, context, variables)
    except PathError:
        return _MISSING


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        RUNTIME,
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and timestamp_instant(value) is not None


_TYPE_TEST: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": _is_number,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": _is_timestamp,
}


def _utf16(text: str) -> str | bytes:
    # Big-endian UTF-16 bytes order exactly as UTF-16 code units do; only needed (and only paid
    # for) when a character lies outside the BMP.
    return text.encode("utf-16-be") if any(ord(ch) > 0xFFFF for ch in text) else text


def _ordered(suffix: str, left: Any, right: Any) -> bool:
    if suffix == "Equals":
        return bool(left == right)
    if suffix == "LessThan":
        return bool(left < right)
    if suffix == "GreaterThan":
        return bool(left > right)
    if suffix == "LessThanEquals":
        return bool(left <= right)
    return bool(left >= right)  # GreaterThanEquals


def _compare(operator: str, value: Any, operand: Any) -> bool:
    if operator == "BooleanEquals":
        return isinstance(value, bool) and isinstance(operand, bool) and value is operand
    if operator == "StringMatches":
        return (
            isinstance(value, str)
            and isinstance(operand, str)
            and _pattern(operand).fullmatch(value) is not None
        )
    if operator.startswith("String"):
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        left, right = _utf16(value), _utf16(operand)
        if type(left) is not type(right):  # one side outside the BMP: compare both as UTF-16
            left, right = value.encode("utf-16-be"), operand.encode("utf-16-be")
        return _ordered(operator[len("String") :], left, right)
    if operator.startswith("Numeric"):
        return (
            _is_number(value)
            and _is_number(operand)
            and _ordered(operator[len("Numeric") :], value, operand)
        )
    # Timestamp*
    if not (isinstance(value, str) and isinstance(operand, str)):
        return False
    left_instant, right_instant = timestamp_instant(value), timestamp_instant(operand)
    if left_instant is None or right_instant is None:
        return False
    return _ordered(operator[len("Timestamp") :], left_instant, right_instant)


@functools.lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    """A StringMatches pattern as a regex: ``*`` is any run, ``\\x`` is a literal ``x``."""
    parts: list[str] = []
    escaped = False
    for ch in pattern:
        if escaped:
            parts.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(ch))
    if escaped:  # a trailing lone backslash stands for itself
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.DOTALL)
