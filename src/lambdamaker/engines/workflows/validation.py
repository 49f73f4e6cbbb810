"""Static validation of a state machine definition, with AWS's diagnostics.

Two entry points, one walk:

- ``diagnose(text)`` is ValidateStateMachineDefinition: every finding as a ``Diagnostic``
  (severity, code, message, location); it never raises, whatever the string;
- ``parse_valid(text)`` is what CreateStateMachine/UpdateStateMachine (and the interpreter) use:
  the parsed definition, or ``InvalidDefinition`` whose ``str`` is AWS's exception message,
  ``Invalid State Machine Definition: '<CODE>: <message> at <location>, <CODE>: ...'`` (a finding
  with no location prints ``at null``, as AWS does).

Modules: ``validation_core`` (Diagnostic, the collector, message vocabulary),
``validation_states`` (machines, states, transitions, reachability), ``validation_rules`` (paths,
templates, JSONata, Assign, Retry/Catch), ``validation_choice`` (Choice rules), ``validation_tasks`` (Task, Fail),
``validation_maps`` (Map, Wait), ``validation_fields`` (fields per state type and language),
``validation_hooks`` (the parsers of paths, intrinsics and JSONata that the evaluators use).

Invariants:
- a definition ``parse_valid`` returns has no ERROR diagnostic, so the interpreter can trust its
  shape (types, required fields, targets) without checking again;
- only ERROR diagnostics block creation; WARNINGs are advice;
- the JSON text is parsed once, duplicate keys are noticed (AWS rejects a duplicated state name)
  and ``NaN``/``Infinity`` are not JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from lambdamaker.engines.workflows.validation_core import (
    ERROR,
    INVALID_JSON,
    JSONATA,
    JSONPATH,
    MISSING_DESCRIPTION,
    SCHEMA,
    Collector,
    Diagnostic,
)
from lambdamaker.engines.workflows.validation_hooks import JSONATA_INVALID, JSONATA_UNSUPPORTED
from lambdamaker.engines.workflows.validation_states import Walk

__all__ = ["Diagnostic", "InvalidDefinition", "diagnose", "format_message", "parse_valid"]

_PREFIX = "Invalid State Machine Definition: "
_JSONATA_CODES = frozenset({JSONATA_INVALID, JSONATA_UNSUPPORTED})


class InvalidDefinition(Exception):
    """A definition CreateStateMachine refuses; ``str(e)`` is AWS's message."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__(format_message(diagnostics))


def format_message(diagnostics: list[Diagnostic]) -> str:
    """AWS's InvalidDefinition message for the ERROR diagnostics of a definition."""
    errors = [d for d in diagnostics if d.severity == ERROR]
    # A JSONata diagnostic is reported on its own: alone when nothing else is wrong, left out
    # when something else is.
    others = [d for d in errors if d.code not in _JSONATA_CODES]
    chosen = others or errors[:1]
    parts = []
    for d in chosen:
        if d.code == INVALID_JSON:
            parts.append(f"{d.code}: {d.message}")
        else:
            parts.append(f"{d.code}: {d.message} at {d.location or 'null'}")
    return f"{_PREFIX}'{', '.join(parts)}'"


class _JsonProblem(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _JsonProblem(
        f"Non-standard token '{name}': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow"
    )


def _parse(text: str) -> tuple[Any, dict[int, list[str]]]:
    """``json.loads`` that also reports each object's duplicated keys (by the object's id)."""
    duplicates: dict[int, list[str]] = {}

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        repeated: list[str] = []
        for key, value in pairs:
            if key in obj:
                repeated.append(key)
            obj[key] = value
        if repeated:
            duplicates[id(obj)] = repeated
        return obj

    def number(raw: str) -> float:
        value = float(raw)
        if math.isinf(value):
            raise _JsonProblem(f"Numeric value ({raw}) out of range of double")
        return value

    value = json.loads(
        text, object_pairs_hook=build, parse_constant=_reject_constant, parse_float=number
    )
    return value, duplicates


def _json_message(text: str, exc: json.JSONDecodeError) -> str:
    """A Jackson-style description of a syntax error (AWS parses definitions with Jackson)."""
    if exc.pos >= len(text.rstrip()):
        what = "Unexpected end-of-input"
    else:
        char = text[exc.pos]
        what = (
            f"Unexpected character ('{char}' (code {ord(char)})): {exc.msg[0].lower()}{exc.msg[1:]}"
        )
    source = text if len(text) <= 500 else text[:500] + "[truncated]"
    return f'{what}\n at [Source: (String)"{source}"; line: {exc.lineno}, column: {exc.colno}]'


def _diagnose(text: Any, express: bool) -> tuple[Any, list[Diagnostic]]:
    if not isinstance(text, str) or not text.strip():
        return None, [
            Diagnostic(ERROR, MISSING_DESCRIPTION, "Received a null or empty workflow input", "")
        ]
    try:
        doc, duplicates = _parse(text)
    except json.JSONDecodeError as exc:
        return None, [Diagnostic(ERROR, INVALID_JSON, _json_message(text, exc), "")]
    except (_JsonProblem, RecursionError, ValueError) as exc:
        return None, [Diagnostic(ERROR, INVALID_JSON, str(exc) or "Invalid JSON", "")]
    language = JSONPATH
    if isinstance(doc, dict) and doc.get("QueryLanguage") == JSONATA:
        language = JSONATA
    collector = Collector(language, express)
    if not isinstance(doc, dict):
        collector.schema("Expected value of type [OBJECT]", "/")
        return doc, collector.diagnostics
    try:
        Walk(collector, duplicates).machine(doc, "")
    except RecursionError:
        collector.error("TOO_DEEPLY_NESTED", "The states are too deeply nested.", "")
    return doc, collector.diagnostics


def diagnose(definition: str, *, express: bool = False) -> list[Diagnostic]:
    """ValidateStateMachineDefinition: every ERROR and WARNING finding; never raises.

    ``express`` adds the rules of EXPRESS state machines (no activities, no ``.sync`` or
    ``.waitForTaskToken`` integrations)."""
    try:
        return _diagnose(definition, express)[1]
    except Exception as exc:
        return [Diagnostic(ERROR, SCHEMA, f"Unexpected validation failure: {exc}", "")]


def parse_valid(definition: str, *, express: bool = False) -> dict[str, Any]:
    """The parsed definition, or ``InvalidDefinition`` with AWS's message (``express``: as for
    ``diagnose``)."""
    doc, diagnostics = _diagnose(definition, express)
    errors = [d for d in diagnostics if d.severity == ERROR]
    if errors or not isinstance(doc, dict):
        raise InvalidDefinition(errors)
    return doc
