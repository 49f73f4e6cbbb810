"""Static checks borrowed from the modules that evaluate paths, intrinsics, JSONata and Choice.

Validation must accept exactly what the evaluators accept, so it asks them rather than keeping
its own grammar: ``paths.check_path`` / ``paths.check_reference_path``, ``intrinsics.check``,
``jsonata_eval.check`` and ``choice.COMPARATORS``. The hooks return ``None`` for valid text and
the detail string (or JSONata's ``(code, message)``) otherwise, and never raise.

Intrinsic calls are checked for syntax and function names only: AWS accepts a definition that
calls a function with the wrong number or types of arguments and fails the execution when the
call runs (``States.Runtime``, "Invalid arguments in States.<Name>").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lambdamaker.engines.workflows import choice, intrinsics, jsonata_eval, paths

JSONATA_INVALID = "INVALID_JSONATA_EXPRESSION"
JSONATA_UNSUPPORTED = "UNSUPPORTED_JSONATA_EXPRESSION"


def _run(check: Callable[[str], Any], text: str) -> str | None:
    try:
        check(text)
    except ValueError as exc:
        return str(exc) or type(exc).__name__
    return None


def path_problem(text: str) -> str | None:
    """``None`` when ``text`` is a JSONPath AWS accepts for InputPath/OutputPath/Variable."""
    return _run(paths.check_path, text)


def reference_path_problem(text: str) -> str | None:
    """``None`` when ``text`` is a Reference Path (one node: no wildcards, filters, slices)."""
    return _run(paths.check_reference_path, text)


def intrinsic_problem(text: str) -> str | None:
    """``None`` when ``text`` is a well-formed intrinsic function call (syntax and names)."""
    return _run(intrinsics.check, text)


@functools.lru_cache(maxsize=1024)
def jsonata_problem(expression: str) -> tuple[str, str] | None:
    """``None`` when the JSONata ``expression`` (without ``{% %}``) is accepted, else AWS's
    ``(code, message)``: ``INVALID_JSONATA_EXPRESSION`` when it does not parse,
    ``UNSUPPORTED_JSONATA_EXPRESSION`` when it reads what Step Functions does not offer."""
    try:
        jsonata_eval.check(expression)
    except jsonata_eval.CheckError as exc:
        return (exc.code, exc.message)
    except ValueError as exc:
        return (JSONATA_INVALID, str(exc) or "Invalid JSONata expression")
    return None


def comparators() -> frozenset[str]:
    """The Choice comparator names."""
    return choice.COMPARATORS
