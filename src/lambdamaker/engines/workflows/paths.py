"""JSONPath reads and ResultPath writes for JSONPath-mode states.

A path's root picks what it reads: ``$...`` the state's data, ``$$...`` the context object,
``$name...`` the workflow variable ``name``. The rest is JSONPath as AWS (Jayway) accepts it.

Invariants:
- a path string is parsed once (``_compile`` is cached); plain dotted paths (``$.a.b[0]``) take
  a hand-written walk with no jsonpath-ng involvement, the interpreter's hot path;
- a *definite* path (only names and single indexes) returns the value itself; an *indefinite*
  path (``[*]``, ``..``, filters, slices, unions) returns the list of matches, possibly empty;
- a definite path with no match raises ``PathError`` (its ``str`` is AWS's message); callers turn
  it into the ``StatesError`` their field calls for;
- nothing here mutates its arguments: ``read_path`` returns the stored objects (callers must not
  mutate them either) and ``apply_result_path`` writes into a copy of the containers it changes.

Causes raised as ``StatesError`` are the field-specific part AWS writes; the interpreter
prefixes ``An error occurred while executing the state '<name>' (entered at the event id #N).``
where AWS does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonpath_ng import jsonpath as jp
from jsonpath_ng.ext import parse as _jsonpath_parse

from lambdamaker.engines.workflows.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError

_MISSING: Any = object()

# One step of a plain path: ``.name``, ``['any name']`` or ``[123]``. Group 1 or 3 is a name,
# group 2 an index.
_STEP_RE = r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\['([^'\\]*)'\]"
_PLAIN = re.compile(rf"(?:{_STEP_RE})*")
_STEP = re.compile(_STEP_RE)
# ``$name`` roots: a variable name is a letter or underscore then word characters.
_VARIABLE_ROOT = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class PathError(Exception):
    """A path that matched nothing, or is not a valid path; ``str(e)`` is AWS's message."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


# A compiled path: (root kind, variable name or "", reader). ``reader(value)`` returns the
# selection or ``_MISSING``.
_Reader = Callable[[Any], Any]


def _plain_reader(steps: tuple[str | int, ...]) -> _Reader:
    def read(value: Any) -> Any:
        for step in steps:
            if isinstance(step, str):
                if type(value) is not dict:
                    return _MISSING
                value = value.get(step, _MISSING)
                if value is _MISSING:
                    return _MISSING
            else:
                if type(value) is not list or step >= len(value):
                    return _MISSING
                value = value[step]
        return value

    return read


_MULTI_NODES = frozenset({"Descendants", "Union", "Intersect", "Wildcard", "Slice", "Filter"})


def _is_indefinite(node: Any) -> bool:
    # By class name: jsonpath-ng deprecates access to some classes (Union) and keeps Filter in
    # its ext package.
    if type(node).__name__.lstrip("_") in _MULTI_NODES:
        return True
    if isinstance(node, jp.Index) and len(node.indices) != 1:
        return True
    if isinstance(node, jp.Fields) and len(node.fields) != 1:
        return True
    if isinstance(node, (jp.Child, jp.Where, jp.WhereNot)):
        return _is_indefinite(node.left) or _is_indefinite(node.right)
    return False


def _generic_reader(expression: str) -> _Reader:
    try:
        parsed = _jsonpath_parse(expression)
    except Exception as exc:
        # jsonpath-ng raises several exception types for bad syntax; all mean "invalid path".
        raise ValueError(f"Invalid JSONPath syntax: {exc}") from None
    if _is_indefinite(parsed):

        def read_many(value: Any) -> Any:
            return [match.value for match in parsed.find(value)]

        return read_many

    def read_one(value: Any) -> Any:
        matches = parsed.find(value)
        return matches[0].value if matches else _MISSING

    return read_one


def _split_root(path: str) -> tuple[str, str, str]:
    """``(kind, variable name, rest)``: kind is "data", "context" or "variable"."""
    if path.startswith("$$"):
        return "context", "", path[2:]
    match = _VARIABLE_ROOT.match(path)
    if match:
        return "variable", match.group(1), path[match.end() :]
    return "data", "", path[1:]


def _plain_steps(rest: str) -> tuple[str | int, ...] | None:
    """The steps of a plain path's tail, or None when it needs the full JSONPath parser."""
    if not _PLAIN.fullmatch(rest):
        return None
    steps: list[str | int] = []
    for m in _STEP.finditer(rest):
        if m.group(2) is not None:
            steps.append(int(m.group(2)))
        else:
            steps.append(m.group(1) if m.group(1) is not None else m.group(3))
    return tuple(steps)


@functools.lru_cache(maxsize=4096)
def _compile(path: str) -> tuple[str, str, _Reader]:
    """Split ``path`` into (root kind, variable name, reader of the rest); ValueError if bad."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError("The path must start with '$'")
    kind, name, rest = _split_root(path)
    steps = _plain_steps(rest)
    if steps is not None:
        return kind, name, _plain_reader(steps)
    return kind, name, _generic_reader("$" + rest)


def normalized_path(path: str) -> str:
    """AWS's (Jayway's) bracket form of a plain path: ``$.a.b[0]`` -> ``$['a']['b'][0]``."""
    steps = _plain_steps(_split_root(path)[2])
    if steps is None:
        return path
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in steps)


def _no_results(path: str) -> PathError:
    return PathError(path, f"Invalid path '{path}' : No results for path: {normalized_path(path)}")


def read_path(
    path: str, data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]
) -> Any:
    """The value ``path`` selects (a list for indefinite paths); PathError if nothing matches."""
    if path == "$":
        return data
    try:
        kind, name, reader = _compile(path)
    except (ValueError, TypeError) as exc:  # TypeError: not a string (unhashable)
        raise PathError(str(path), f"Invalid path '{path}' : {exc}") from None
    if kind == "data":
        root = data
    elif kind == "context":
        root = context
    else:
        root = variables.get(name, _MISSING)
        if root is _MISSING:
            raise PathError(path, f"Invalid path '{path}' : The variable '{name}' is not defined")
    value = reader(root)
    if value is _MISSING:
        raise _no_results(path)
    return value


def select(
    path: str | None,
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    *,
    field: str,
) -> Any:
    """InputPath / OutputPath / ItemsPath: ``None`` (JSON null) gives ``{}``; no match is
    ``States.Runtime`` with AWS's "Invalid path" cause. ``field`` names the field for callers'
    diagnostics (AWS's cause does not mention it)."""
    if path is None:
        return {}
    try:
        return read_path(path, data, context, variables)
    except PathError as exc:
        raise StatesError(RUNTIME, str(exc)) from None


def read_field(
    path: str,
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    *,
    field: str,
) -> Any:
    """A ``*Path`` field whose failure AWS words per field (Fail's ErrorPath / CausePath):
    ``The JSONPath '<path>' specified for the field '<field>' could not be found in the input
    '<data>'`` (``States.Runtime``)."""
    try:
        return read_path(path, data, context, variables)
    except PathError:
        raise StatesError(RUNTIME, field_not_found_cause(path, field, data)) from None


def field_not_found_cause(path: str, field: str, data: Any) -> str:
    """AWS's cause for a path that matched nothing in a named field (also Parameters' keys)."""
    return (
        f"The JSONPath '{path}' specified for the field '{field}' "
        f"could not be found in the input '{to_json(data)}'"
    )


# -- reference paths (ResultPath) --------------------------------------------------------------

_REFERENCE_NODES = ("Root", "Child", "Fields", "Index")


def _ast_steps(node: Any) -> list[str | int]:
    """Steps of a jsonpath-ng AST made only of single names and single indexes."""
    kind = type(node).__name__
    if kind == "Root":
        return []
    if kind == "Child":
        return _ast_steps(node.left) + _ast_steps(node.right)
    if kind == "Fields" and len(node.fields) == 1:
        return [node.fields[0]]
    if kind == "Index" and len(node.indices) == 1 and node.indices[0] >= 0:
        return [node.indices[0]]
    raise ValueError("not a reference path")


@functools.lru_cache(maxsize=1024)
def _reference_steps(path: str) -> tuple[str | int, ...]:
    """The steps of a reference path (``$`` then names and indexes only); ValueError if not."""
    if not isinstance(path, str) or not path.startswith("$") or path.startswith("$$"):
        raise ValueError("not a reference path")
    kind, _, rest = _split_root(path)
    if kind != "data":
        raise ValueError("not a reference path")
    steps = _plain_steps(rest)
    if steps is not None:
        return steps
    try:
        parsed = _jsonpath_parse(path)
    except Exception:  # jsonpath-ng raises assorted types for bad syntax
        raise ValueError("not a reference path") from None
    return tuple(_ast_steps(parsed))


def apply_result_path(state_input: Any, result: Any, result_path: str | None) -> Any:
    """ResultPath: ``result`` placed at ``result_path`` in a copy of ``state_input``.

    ``None`` (JSON null) discards the result; ``$`` replaces the input. Missing objects along
    the path are created; a step into a value that is not an object (or an index outside an
    array) is ``States.ResultPathMatchFailure``. Only the containers along the path are copied.
    """
    if result_path is None:
        return state_input
    if result_path == "$":
        return result
    try:
        steps = _reference_steps(result_path)
    except ValueError:
        raise StatesError(
            RESULT_PATH_MATCH_FAILURE, _match_failure(result_path, state_input)
        ) from None
    if not steps:
        return result
    return _write(state_input, steps, 0, result, result_path, state_input)


def write_steps(state_input: Any, steps: tuple[str | int, ...], result: Any, path: str) -> Any:
    """``apply_result_path`` with the path's (non-empty) steps already compiled."""
    return _write(state_input, steps, 0, result, path, state_input)


def reference_steps(path: str) -> tuple[str | int, ...]:
    """The steps of a reference path; ValueError if it is not one."""
    return _reference_steps(path)


def compiled(path: str) -> tuple[str, str, Callable[[Any], Any]]:
    """``(root kind, variable name, reader)`` of a path; ValueError / TypeError if bad. The
    reader returns ``MISSING`` when nothing matches."""
    return _compile(path)


MISSING = _MISSING


def _write(
    node: Any, steps: tuple[str | int, ...], i: int, result: Any, path: str, whole: Any
) -> Any:
    step = steps[i]
    last = i == len(steps) - 1
    if isinstance(step, str):
        if not isinstance(node, dict):
            raise StatesError(RESULT_PATH_MATCH_FAILURE, _match_failure(path, whole))
        copy = dict(node)
        if last:
            copy[step] = result
        else:
            child = node.get(step)
            copy[step] = _write({} if child is None else child, steps, i + 1, result, path, whole)
        return copy
    if not isinstance(node, list) or step >= len(node):
        raise StatesError(RESULT_PATH_MATCH_FAILURE, _match_failure(path, whole))
    items = list(node)
    items[step] = result if last else _write(node[step], steps, i + 1, result, path, whole)
    return items


def _match_failure(path: str, state_input: Any) -> str:
    return f"Unable to apply ReplacementPath '{path}' to input '{to_json(state_input)}'"


# -- validation --------------------------------------------------------------------------------


def check_path(path: str) -> None:
    """ValueError (a short detail; the validator words the diagnostic) unless ``path`` is a
    JSONPath AWS accepts: ``$``, ``$$`` or ``$variable`` rooted, the rest parseable."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError("Path didn't start with '$'")
    _compile(path)  # ValueError on bad syntax


def check_reference_path(path: str) -> None:
    """ValueError (a short detail) unless ``path`` is a reference path: ``$`` then single names
    and indexes only (what ResultPath accepts)."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValueError("Reference path didn't start with '$'")
    if _split_root(path)[0] != "data":
        raise ValueError("Reference path must start with '$' followed by '.' or '['")
    try:
        _reference_steps(path)
    except ValueError:
        raise ValueError("Reference path contains an invalid step") from None


def to_json(value: Any) -> str:
    """Compact JSON as AWS writes values into causes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
