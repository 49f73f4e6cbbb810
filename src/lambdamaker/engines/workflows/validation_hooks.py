"""Static checks borrowed from the modules that evaluate paths, intrinsics, JSONata and Choice.

Validation must accept exactly what the evaluators accept, so it asks them rather than keeping
its own grammar: ``paths.check_path`` / ``paths.check_reference_path``, ``intrinsics.check``,
``jsonata_eval.check`` and ``choice.COMPARATORS``. Each hook is looked up when first needed; a
module or function not there yet falls back to a conservative local check (so the validator
works while the rest of the engine is being written, and wires itself when it lands).

A checker may report a problem by raising (``str(e)`` is the detail), by returning a non-empty
string (the detail) or by returning ``False``; anything else means the text is valid. The hooks
here return ``None`` for valid text and the detail string otherwise, and never raise.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

_PACKAGE = "lambdamaker.engines.workflows"
JSONATA_INVALID = "INVALID_JSONATA_EXPRESSION"
JSONATA_UNSUPPORTED = "UNSUPPORTED_JSONATA_EXPRESSION"

# The Choice comparators of the ASL specification, used until ``choice.COMPARATORS`` exists.
_FALLBACK_COMPARATORS = frozenset(
    [
        f"{kind}{op}{suffix}"
        for kind, ops in (
            (
                "String",
                ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
            ),
            (
                "Numeric",
                ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
            ),
            (
                "Timestamp",
                ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
            ),
            ("Boolean", ("Equals",)),
        )
        for op in ops
        for suffix in ("", "Path")
    ]
    + ["StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"]
)

# Fallback grammar: ``$``, ``$$`` or ``$name`` then dotted names, bracketed names or indexes.
_STEP = r"(?:\.[A-Za-z_][A-Za-z0-9_\-]*|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])"
_REFERENCE = re.compile(rf"\$(?:\$|[A-Za-z_][A-Za-z0-9_]*)?{_STEP}*")
# A general JSONPath may also use wildcards, slices, filters and deep scans.
_PATH_CHARS = re.compile(r"\$[^\s]*")


def _lookup(module: str, name: str) -> Any:
    try:
        mod = importlib.import_module(f"{_PACKAGE}.{module}")
    except ImportError:
        return None
    return getattr(mod, name, None)


def _run(check: Callable[[str], Any], text: str) -> str | None:
    """Call another module's checker and bring its answer to ``None`` or a detail string."""
    try:
        result = check(text)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return _answer(result)


def _answer(result: Any) -> str | None:
    if result is False:
        return "invalid"
    if isinstance(result, str) and result:
        return result
    if isinstance(result, (list, tuple)) and result:
        return str(result[0])
    return None


def path_problem(text: str) -> str | None:
    """``None`` when ``text`` is a JSONPath AWS accepts for InputPath/OutputPath/Variable."""
    check = _lookup("paths", "check_path")
    if check is not None:
        return _run(check, text)
    if not text.startswith("$"):
        return "Path didn't start with '$'"
    if _REFERENCE.fullmatch(text) or _PATH_CHARS.fullmatch(text):
        return None
    return "Invalid path"


def reference_path_problem(text: str) -> str | None:
    """``None`` when ``text`` is a Reference Path (one node: no wildcards, filters, slices)."""
    check = _lookup("paths", "check_reference_path")
    if check is not None:
        return _run(check, text)
    if not text.startswith("$"):
        return "Reference path didn't start with '$'"
    if _REFERENCE.fullmatch(text):
        return None
    return "Reference path contains an invalid step"


def intrinsic_problem(text: str) -> str | None:
    """``None`` when ``text`` is a well-formed intrinsic function call (name, arity, nesting)."""
    check = _lookup("intrinsics", "check_arity") or _lookup("intrinsics", "check")
    if check is not None:
        return _run(check, text)
    if not re.fullmatch(r"States\.[A-Za-z0-9.]+\(.*\)", text, re.DOTALL):
        return "Invalid intrinsic function call"
    depth = 0
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return "Unbalanced parentheses"
    return None if depth == 0 and not quoted else "Unbalanced parentheses"


@functools.lru_cache(maxsize=1024)
def jsonata_problem(expression: str) -> tuple[str, str] | None:
    """``None`` when the JSONata ``expression`` (without ``{% %}``) is accepted, else AWS's
    ``(code, message)``: ``INVALID_JSONATA_EXPRESSION`` when it does not parse,
    ``UNSUPPORTED_JSONATA_EXPRESSION`` when it reads what Step Functions does not offer."""
    check = _lookup("jsonata_eval", "check")
    try:
        if check is not None:
            detail = _answer(check(expression))
        else:
            import jsonata

            jsonata.Jsonata(expression)
            detail = None
    except Exception as exc:
        code = getattr(exc, "code", None)
        message = getattr(exc, "message", None) or str(exc) or "Invalid JSONata expression"
        return (code if isinstance(code, str) else JSONATA_INVALID, str(message))
    return None if detail is None else (JSONATA_INVALID, detail)


def comparators() -> frozenset[str]:
    """The Choice comparator names (``choice.COMPARATORS`` once it exists)."""
    found = _lookup("choice", "COMPARATORS")
    if found:
        return frozenset(found)
    return _FALLBACK_COMPARATORS
