"""Definition checks for Create/UpdateStateMachine and ValidateStateMachineDefinition.

The rules live in ``engines.workflows.validation``; this module only turns them into the API's
shapes: ``InvalidDefinition`` (400, AWS's message) and the diagnostic list. It adds the one
rule that depends on the state machine's type: an EXPRESS machine cannot wait (activities,
``.sync``, ``.waitForTaskToken``), since its executions live at most five minutes in memory.

Invariant: ``check_definition`` returns only for a definition the runtime can run; on error it
raises and the caller has written nothing yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lambdamaker.engines.workflows import validation
from lambdamaker.services.stepfunctions.common import sfn_error

_SCHEMA = "SCHEMA_VALIDATION_FAILED"
_WAITING_SUFFIXES = (".sync:2", ".sync", ".waitForTaskToken")


def _states(states: Any, location: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state of a States object, nested ones (Parallel branches, Map processors) too."""
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        here = f"{location}/{name}"
        yield here, state
        for i, branch in enumerate(state.get("Branches") or ()):
            if isinstance(branch, dict):
                yield from _states(branch.get("States"), f"{here}/Branches[{i}]/States")
        for key in ("ItemProcessor", "Iterator"):
            processor = state.get(key)
            if isinstance(processor, dict):
                yield from _states(processor.get("States"), f"{here}/{key}/States")


def express_problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(message, location) of each Task an EXPRESS state machine cannot run."""
    found = []
    for location, state in _states(doc.get("States"), "/States"):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        if resource.startswith("arn:") and ":activity:" in resource:
            message = "Express state machine does not support Activity ARN"
            found.append((message, location + "/Resource"))
            continue
        for suffix in _WAITING_SUFFIXES:
            if resource.startswith("arn:aws:states:::") and resource.endswith(suffix):
                # AWS's text, trailing space included.
                message = f"Express state machine does not support '{suffix}' service integration "
                found.append((message, location + "/Resource"))
                break
    return found


def check_definition(definition: str) -> dict[str, Any]:
    """The parsed definition; InvalidDefinition unless it is a valid state machine."""
    try:
        return validation.parse_valid(definition)
    except validation.InvalidDefinition as exc:
        raise sfn_error("InvalidDefinition", str(exc)) from None


def check_type(doc: dict[str, Any], kind: str) -> None:
    """InvalidDefinition if a valid definition cannot run as a state machine of type ``kind``."""
    problems = express_problems(doc) if kind == "EXPRESS" else []
    if problems:
        listed = ", ".join(f"{_SCHEMA}: {m} at {loc}" for m, loc in problems)
        raise sfn_error("InvalidDefinition", f"Invalid State Machine Definition: '{listed}'")


def diagnostics(definition: str, kind: str = "STANDARD") -> list[dict[str, Any]]:
    """Every finding about ``definition`` in the API's diagnostic shape, ERRORs first."""
    found: list[dict[str, Any]] = []
    for d in validation.diagnose(definition):
        item = {"severity": d.severity, "code": d.code, "message": d.message}
        if d.location:
            item["location"] = d.location
        found.append(item)
    if kind == "EXPRESS" and not found:
        doc = validation.parse_valid(definition)
        for message, location in express_problems(doc):
            found.append(
                {"severity": "ERROR", "code": _SCHEMA, "message": message, "location": location}
            )
    found.sort(key=lambda d: d["severity"] != "ERROR")
    return found
