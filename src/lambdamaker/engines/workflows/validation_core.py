"""The diagnostics collector the validation walk writes into, and AWS's message vocabulary.

Locations are JSON-pointer-like, as AWS prints them: object members are ``/Name`` and array
elements ``[i]`` (``/States/Choose/Choices[0]/Next``). The walk never stops at the first problem:
every check records what it finds and goes on with the next one, except that a value of the
wrong type is not looked into further.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR = "ERROR"
WARNING = "WARNING"

SCHEMA = "SCHEMA_VALIDATION_FAILED"
MISSING_TARGET = "MISSING_TRANSITION_TARGET"
MISSING_END = "MISSING_END_STATE"
DUPLICATE_NAME = "DUPLICATE_STATE_NAME"
INVALID_NAME = "INVALID_STATE_NAME"
INVALID_RESOURCE = "INVALID_RESOURCE"
INVALID_JSON = "INVALID_JSON_DESCRIPTION"
MISSING_DESCRIPTION = "MISSING_DESCRIPTION"
INVALID_VARIABLE = "INVALID_VARIABLE_NAME"
RESERVED_VARIABLE = "RESERVED_VARIABLE_NAME"
INVALID_LABEL = "INVALID_LABEL_NAME"

JSONPATH = "JSONPath"
JSONATA = "JSONata"


@dataclass(frozen=True)
class Diagnostic:
    """One finding, as ValidateStateMachineDefinition returns it."""

    severity: str  # "ERROR" | "WARNING"
    code: str
    message: str
    location: str


def child(location: str, name: str) -> str:
    return f"{location}/{name}"


def item(location: str, index: int) -> str:
    return f"{location}[{index}]"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_expression(value: Any) -> bool:
    """A JSONata ``{% ... %}`` string."""
    return (
        isinstance(value, str)
        and value.startswith("{%")
        and value.endswith("%}")
        and len(value) >= 4
    )


_TYPE_NAMES = {str: "STRING", int: "INTEGER", bool: "BOOLEAN", dict: "OBJECT", list: "ARRAY"}


class Collector:
    """Where the checks write; ``language`` is the state machine's top-level QueryLanguage,
    ``express`` whether the definition is for an EXPRESS state machine."""

    def __init__(self, language: str, express: bool = False) -> None:
        self.language = language
        self.express = express
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic(ERROR, code, message, location))

    def warning(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic(WARNING, code, message, location))

    def schema(self, message: str, location: str) -> None:
        self.error(SCHEMA, message, location)

    # --- shapes -------------------------------------------------------------------------------

    def not_supported(self, name: str, location: str) -> None:
        self.schema(f"Field '{name}' is not supported", location)

    def required(self, names: list[str], location: str) -> None:
        self.schema(f"These fields are required: [{', '.join(names)}]", location)

    def expect(self, value: Any, kind: type, location: str) -> bool:
        """Record a type error unless ``value`` is of ``kind`` (ints are not bools here)."""
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float:
            ok = is_number(value)
        if not ok:
            name = "NUMBER" if kind is float else _TYPE_NAMES.get(kind, kind.__name__.upper())
            self.schema(f"Expected value of type [{name}]", location)
        return ok

    def one_of(self, value: Any, allowed: tuple[str, ...], location: str) -> bool:
        if not self.expect(value, str, location):
            return False
        if value not in allowed:
            self.schema(f"Value should be one of the following: [{', '.join(allowed)}]", location)
            return False
        return True

    def integer(self, value: Any, location: str, minimum: int, maximum: int | None = None) -> bool:
        """An integer in ``[minimum, maximum]``."""
        if not self.expect(value, int, location):
            return False
        if value < minimum:
            self.schema(f"Value must be greater than or equal to {minimum}", location)
            return False
        if maximum is not None and value > maximum:
            self.schema(f"Value must be less than or equal to {maximum}", location)
            return False
        return True

    def fields(self, obj: dict[str, Any], allowed: frozenset[str], location: str) -> None:
        for name in obj:
            if name not in allowed:
                self.not_supported(name, location)

    def has_errors(self) -> bool:
        return any(d.severity == ERROR for d in self.diagnostics)
