"""``variableReferences`` of DescribeStateMachine: per state, the workflow variables it reads.

A state reads a variable through a JSONata expression (``{% $total + 1 %}``) or a JSONPath
reference (``"Parameters": {"x.$": "$total.items"}``, a Choice ``Variable``, a ``*Path`` field).
This is a lexical scan of a definition the validator accepted, not an evaluation.

Invariants:
- ``$states`` (JSONata's reserved input), ``$$`` (the context object), ``$`` alone and JSONata
  function calls (``$sum(...)``) are not variables; names a JSONata expression binds itself
  (``$x := ...``, function parameters) are not either;
- a state that reads no variable is absent from the map, and names are listed once each, in
  sorted order (as AWS lists them); nested states (Parallel branches, Map processors) are listed
  under their own names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_JSONATA = re.compile(r"^\s*\{%(.*)%\}\s*$", re.DOTALL)
_JSONATA_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)(\s*\()?")
_JSONATA_BOUND = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*:=")
_JSONATA_PARAMS = re.compile(r"function\s*\(([^)]*)\)")
_PATH_VAR = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(?=$|[.\[])")
_INTRINSIC_ARG = re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)")
_RESERVED = frozenset({"states"})
_NESTING = frozenset({"Branches", "ItemProcessor", "Iterator", "States"})


def _from_string(value: str, path_like: bool) -> Iterator[str]:
    match = _JSONATA.match(value)
    if match is not None:
        expression = match.group(1)
        bound = set(_JSONATA_BOUND.findall(expression))
        for params in _JSONATA_PARAMS.findall(expression):
            bound.update(name for name, _ in _JSONATA_VAR.findall(params))
        for name, call in _JSONATA_VAR.findall(expression):
            if not call and name not in _RESERVED and name not in bound:
                yield name
        return
    if not path_like:
        return
    if value.startswith("States."):
        # An intrinsic function's arguments may reference variables.
        for name in _INTRINSIC_ARG.findall(value):
            yield name
        return
    match = _PATH_VAR.match(value)
    if match is not None:
        yield match.group(1)


def _scan(value: Any, path_like: bool) -> Iterator[str]:
    if isinstance(value, str):
        yield from _from_string(value, path_like)
    elif isinstance(value, list):
        for item in value:
            yield from _scan(item, path_like)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in _NESTING:
                continue
            yield from _scan(item, key.endswith(("Path", ".$")) or key == "Variable")


def _states(states: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        yield name, state
        for branch in state.get("Branches") or ():
            if isinstance(branch, dict):
                yield from _states(branch.get("States"))
        for key in ("ItemProcessor", "Iterator"):
            processor = state.get(key)
            if isinstance(processor, dict):
                yield from _states(processor.get("States"))


def variable_references(doc: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, state in _states(doc.get("States")):
        names = sorted(set(_scan(state, False)))
        if names:
            out[name] = names
    return out
