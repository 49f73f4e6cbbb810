"""Static checks of a JSONata expression's AST, as Step Functions applies them at create time.

A Step Functions expression has no context value: AWS refuses ``$``, ``$$`` and a bare field
name (``phone``, ``a.b``) where they would be read against the root, with
``UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported.``.
"Top level" is what the root context reaches: operands, function arguments, blocks,
conditionals, constructors and the first step of a path. Later path steps, predicates and
lambda bodies have a context of their own and are not checked.

Invariant: only the parsed AST is read (the library's ``Parser.Symbol``); nothing is evaluated.
"""

from __future__ import annotations

from typing import Any

INVALID = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED = "UNSUPPORTED_JSONATA_EXPRESSION"


class CheckError(ValueError):
    """A definition-time diagnostic: ``code`` is AWS's diagnostic code, ``message`` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unsupported(reference: str) -> CheckError:
    return CheckError(UNSUPPORTED, f"Reference to '{reference}' at the top level is not supported.")


def _children(node: Any) -> list[Any]:
    """The sub-expressions evaluated against the same context as ``node``."""
    kind = getattr(node, "type", None)
    out: list[Any] = []
    if kind == "path":
        steps = getattr(node, "steps", None) or []
        return steps[:1]
    if kind == "lambda":
        return []
    for attr in ("lhs", "rhs", "expression", "condition", "then", "_else", "procedure"):
        child = getattr(node, attr, None)
        if child is not None and hasattr(child, "type"):
            out.append(child)
    if kind == "bind":
        out = [child for child in out if child is not getattr(node, "lhs", None)]
    for attr in ("arguments", "expressions"):
        for child in getattr(node, attr, None) or []:
            if hasattr(child, "type"):
                out.append(child)
    for pair in getattr(node, "lhs_object", None) or []:
        out.extend(item for item in pair if hasattr(item, "type"))
    return out


def check_ast(node: Any) -> None:
    """Raise ``CheckError`` for a top-level ``$``, ``$$`` or field-name reference."""
    stack = [node]
    while stack:
        current = stack.pop()
        kind = getattr(current, "type", None)
        if kind == "name":
            raise _unsupported(str(current.value))
        if kind == "variable" and current.value in ("", "$"):
            raise _unsupported("$" + str(current.value))
        stack.extend(_children(current))
