"""The 18 intrinsic functions of JSONPath-mode ASL: ``States.Format('{}', $.a)`` and friends.

Public interface:

- ``is_intrinsic(text)``: whether a ``.$`` value is an intrinsic call (``States.Xxx(...)``)
  rather than a path;
- ``evaluate(expression, data, context, variables)``: the call's value. Path arguments are
  read with ``paths.read_path`` (``$`` data, ``$$`` context object, ``$name`` a variable);
- ``check(expression)``: the static check AWS makes when it validates a definition (syntax,
  known function names); raises ``ValueError``;
- ``check_arity(expression)``: argument counts, statically. AWS does *not* reject a wrong
  count at CreateStateMachine (``States.Hash()`` fails when it runs), so validation should
  only call this where it wants to be stricter than AWS.

Invariants:
- an expression is parsed once (``parser.parse`` is cached); evaluation walks the tree,
  arguments first, left to right;
- a bad argument fails with ``StatesError(States.Runtime, "Invalid arguments in States.X")``
  as AWS does (``common.ERROR``); a path argument that selects nothing raises the
  ``paths.PathError`` unchanged, for the caller to phrase with its field name
  (AWS: ``The JsonPath argument for the field 'x.$' could not be found in the input ...``);
- nothing else escapes ``evaluate`` for a user's input, and no argument is mutated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.intrinsics.common import ERROR, invalid
from lambdamaker.engines.workflows.intrinsics.functions import FUNCTIONS, arity_ok
from lambdamaker.engines.workflows.intrinsics.parser import (
    Call,
    IntrinsicSyntaxError,
    Literal,
    Node,
    PathArg,
    parse,
)
from lambdamaker.engines.workflows.paths import read_path

__all__ = ["FUNCTIONS", "IntrinsicSyntaxError", "check", "check_arity", "evaluate", "is_intrinsic"]

_CALL_PREFIX = re.compile(r"\s*States\.[A-Za-z0-9_]*\s*\(")


def is_intrinsic(text: str) -> bool:
    """Whether ``text`` is written as an intrinsic call (it may still be a malformed one)."""
    return isinstance(text, str) and _CALL_PREFIX.match(text) is not None


def _walk(node: Call) -> list[Call]:
    calls = [node]
    for arg in node.args:
        if isinstance(arg, Call):
            calls.extend(_walk(arg))
    return calls


def check(expression: str) -> None:
    """ValueError when ``expression`` is not a well-formed call of known intrinsics."""
    tree = parse(expression)
    for call in _walk(tree):
        if call.name not in FUNCTIONS:
            raise ValueError(f"Unsupported intrinsic function: {call.name} in '{expression}'")


def check_arity(expression: str) -> None:
    """``check`` plus argument counts: ValueError naming the call with the wrong count."""
    check(expression)
    for call in _walk(parse(expression)):
        spec = FUNCTIONS[call.name]
        if not arity_ok(spec, len(call.args)):
            if spec.max_args is None:
                expected = f"at least {spec.min_args}"
            elif spec.min_args == spec.max_args:
                expected = str(spec.min_args)
            else:
                expected = f"{spec.min_args} to {spec.max_args}"
            raise ValueError(
                f"The intrinsic function {call.name} expects {expected} argument(s) "
                f"but received {len(call.args)} in '{expression}'"
            )


def evaluate(
    expression: str, data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]
) -> Any:
    """The value of the intrinsic call ``expression`` against the state's data."""
    try:
        tree = parse(expression)
    except IntrinsicSyntaxError as exc:
        raise StatesError(ERROR, str(exc)) from None
    try:
        return _call(tree, data, context, variables)
    except (RecursionError, OverflowError, MemoryError):
        raise StatesError(ERROR, f"Invalid arguments in {tree.name}") from None


def _value(node: Node, data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, PathArg):
        return read_path(node.path, data, context, variables)
    return _call(node, data, context, variables)


def _call(node: Call, data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]) -> Any:
    spec = FUNCTIONS.get(node.name)
    if spec is None:
        raise StatesError(ERROR, f"Unsupported intrinsic function: {node.name}")
    if not arity_ok(spec, len(node.args)):
        invalid(node.name)
    args = [_value(arg, data, context, variables) for arg in node.args]
    first = node.args[0] if node.args else None
    raw = first.raw if isinstance(first, Literal) else None
    return spec.function(args, raw)
