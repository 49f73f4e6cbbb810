"""The validation walk: a state machine, its states, and the Parallel/Map machines inside them.

Invariants:
- every (sub-)machine is its own scope: ``StartAt`` and every ``Next``/``Default``/``Catch`` target
  must name a state of the same ``States`` object, and every state of it must be reachable from
  its ``StartAt``;
- a state's QueryLanguage is its own field when it says exactly ``JSONPath`` or ``JSONata``,
  else the top-level machine's (nested machines inherit the top level, not the enclosing Map or
  Parallel, as AWS does);
- state names are unique across the whole definition, nested machines included;
- ``MISSING_END_STATE`` is a top-level rule, and when it fires the top level's reachability is not
  reported on top of it (AWS reports a loop with no exit as that one error).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from lambdamaker.engines.workflows import validation_rules as rules
from lambdamaker.engines.workflows.validation_choice import choice_rule
from lambdamaker.engines.workflows.validation_core import (
    DUPLICATE_NAME,
    INVALID_NAME,
    JSONATA,
    JSONPATH,
    MISSING_END,
    MISSING_TARGET,
    Collector,
    child,
    item,
)
from lambdamaker.engines.workflows.validation_fields import (
    BRANCH,
    MACHINE,
    PROCESSOR,
    STATE_TYPES,
    allowed,
)
from lambdamaker.engines.workflows.validation_maps import check_map, check_wait
from lambdamaker.engines.workflows.validation_tasks import check_fail, check_task

_MAX_STATE_NAME = 80
_MAX_TIMEOUT = 99999999

Targets = list[tuple[str, str]]


class Walk:
    """One definition's walk: the collector, the duplicate-key index and the names seen so far."""

    def __init__(self, collector: Collector, duplicates: dict[int, list[str]]) -> None:
        self.c = collector
        self.duplicates = duplicates
        self.names: set[str] = set()

    # --- machines -----------------------------------------------------------------------------

    def machine(self, doc: Any, location: str, kind: frozenset[str] = MACHINE) -> None:
        c = self.c
        if not c.expect(doc, dict, location or "/"):
            return
        where = location or "/"
        c.fields(doc, kind, where)
        missing = [name for name in ("StartAt", "States") if name not in doc]
        if missing:
            c.required(missing, where)
        if "Comment" in doc:
            c.expect(doc["Comment"], str, child(location, "Comment"))
        if kind is MACHINE:
            if "Version" in doc:
                c.expect(doc["Version"], str, child(location, "Version"))
            if "TimeoutSeconds" in doc:
                c.integer(doc["TimeoutSeconds"], child(location, "TimeoutSeconds"), 1, _MAX_TIMEOUT)
            if "QueryLanguage" in doc:
                c.one_of(
                    doc["QueryLanguage"], (JSONPATH, JSONATA), child(location, "QueryLanguage")
                )
        start = doc.get("StartAt")
        if "StartAt" in doc and c.expect(start, str, child(location, "StartAt")) and not start:
            c.schema("Value cannot be empty", child(location, "StartAt"))
        states = doc.get("States")
        states_at = child(location, "States")
        if "States" not in doc or not c.expect(states, dict, states_at):
            return
        if not states:
            c.schema("Value cannot be empty", states_at)
            return
        for name in self.duplicates.get(id(states), []):
            c.error(DUPLICATE_NAME, f"Duplicate State name: {name}", child(states_at, name))
        edges: dict[str, list[str]] = {}
        targets: Targets = []
        terminal = False
        for name, state in states.items():
            state_at = child(states_at, name)
            self._name(name, state_at)
            own: Targets = []
            terminal |= self.state(state, state_at, own)
            edges[name] = [target for target, _ in own]
            targets.extend(own)
        for target, where in targets:
            if target not in states:
                leaf = where.rsplit("/", 1)[-1]
                c.error(MISSING_TARGET, f"Missing '{leaf}' target: {target}", where)
        if isinstance(start, str) and start and start not in states:
            c.error(
                MISSING_TARGET, f"Missing 'StartAt' target: {start}", child(location, "StartAt")
            )
        if kind is MACHINE and not terminal:
            c.error(MISSING_END, "Workflow has no terminal state", "")
            return
        reached = _reachable(start if isinstance(start, str) else None, edges)
        for name in states:
            if name not in reached:
                c.error(MISSING_TARGET, f'State "{name}" is not reachable.', child(states_at, name))

    def _name(self, name: str, location: str) -> None:
        if not name or len(name) > _MAX_STATE_NAME:
            self.c.error(INVALID_NAME, f"Invalid State name: {name}", location)
        if name in self.names:
            self.c.error(DUPLICATE_NAME, f"Duplicate State name: {name}", location)
        self.names.add(name)

    # --- states -------------------------------------------------------------------------------

    def state(self, state: Any, location: str, targets: Targets) -> bool:
        """Check one state, append its transitions to ``targets``; True when it ends the machine."""
        c = self.c
        if not c.expect(state, dict, location):
            return False
        if "Type" not in state:
            c.required(["Type"], location)
            return _raw_transition(state, location, targets)
        kind = state["Type"]
        if not c.one_of(kind, STATE_TYPES, child(location, "Type")):
            return _raw_transition(state, location, targets)
        language = self._language(state, location)
        self._fields(state, kind, language, location)
        terminal = self._transition(state, kind, location, targets)
        self._data_flow(state, language, location)
        if kind in ("Task", "Parallel", "Map"):
            if "Retry" in state:
                rules.retry(c, state["Retry"], child(location, "Retry"))
            if "Catch" in state:
                rules.catch(c, state["Catch"], child(location, "Catch"), language, targets)
        if kind == "Choice":
            self._choice(state, location, language, targets)
        elif kind == "Task":
            check_task(c, state, location, language)
        elif kind == "Fail":
            check_fail(c, state, location, language)
        elif kind == "Wait":
            check_wait(c, state, location, language)
        elif kind == "Parallel":
            self._parallel(state, location)
        elif kind == "Map":
            check_map(c, state, location, language)
            for field in ("ItemProcessor", "Iterator"):
                if field in state:
                    self.machine(state[field], child(location, field), PROCESSOR)
        return terminal

    def _language(self, state: dict[str, Any], location: str) -> str:
        c = self.c
        if "QueryLanguage" not in state:
            return c.language
        declared = state["QueryLanguage"]
        c.one_of(declared, (JSONPATH, JSONATA), child(location, "QueryLanguage"))
        if declared == JSONPATH and c.language == JSONATA:
            c.schema(
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                location,
            )
        return JSONPATH if declared == JSONPATH else JSONATA

    def _fields(self, state: dict[str, Any], kind: str, language: str, location: str) -> None:
        ok = allowed(kind, language)
        other = rules.language_field(state, language)
        downgraded = (
            language == JSONPATH
            and state.get("QueryLanguage") == JSONPATH
            and self.c.language == JSONATA
        )
        for name in state:
            if name in ok:
                continue
            if name in other:
                if not downgraded:
                    self.c.schema(rules.language_message(language, name), location)
            else:
                self.c.not_supported(name, location)

    def _transition(
        self, state: dict[str, Any], kind: str, location: str, targets: Targets
    ) -> bool:
        c = self.c
        if kind in ("Succeed", "Fail"):
            return True
        if kind == "Choice":
            if "Default" in state and c.expect(state["Default"], str, child(location, "Default")):
                targets.append((state["Default"], child(location, "Default")))
            return False
        has_next = "Next" in state
        end = state.get("End")
        if "End" in state and not c.expect(end, bool, child(location, "End")):
            end = None
        if has_next and c.expect(state["Next"], str, child(location, "Next")):
            targets.append((state["Next"], child(location, "Next")))
        if has_next and end is True:
            c.schema("Only one of the fields 'Next' or 'End' may be set", location)
        elif not has_next and end is not True:
            c.schema(
                "Either the field 'Next' or the field 'End' with value true is required", location
            )
        return end is True

    def _data_flow(self, state: dict[str, Any], language: str, location: str) -> None:
        c = self.c
        if "Comment" in state:
            c.expect(state["Comment"], str, child(location, "Comment"))
        if language == JSONPATH:
            for field in ("InputPath", "OutputPath"):
                if field in state:
                    rules.path(c, state[field], field, child(location, field), nullable=True)
            if "ResultPath" in state:
                rules.reference_path(
                    c, state["ResultPath"], child(location, "ResultPath"), nullable=True
                )
            for field in ("Parameters", "ResultSelector"):
                if field in state:
                    rules.template_object(c, state[field], child(location, field), language)
        else:
            if "Arguments" in state:
                rules.template_object(c, state["Arguments"], child(location, "Arguments"), language)
            if "Output" in state:
                rules.jsonata_value(c, state["Output"], child(location, "Output"))
        if "Assign" in state:
            rules.assign(c, state["Assign"], child(location, "Assign"), language)
        if "Result" in state and language == JSONPATH:
            rules.static_result(c, state["Result"], child(location, "Result"))

    def _choice(
        self, state: dict[str, Any], location: str, language: str, targets: Targets
    ) -> None:
        c = self.c
        where = child(location, "Choices")
        if "Choices" not in state:
            c.required(["Choices"], location)
            return
        choices = state["Choices"]
        if not c.expect(choices, list, where):
            return
        if not choices:
            c.schema("Value cannot be empty", where)
        for index, rule in enumerate(choices):
            choice_rule(c, rule, item(where, index), language, targets, top=True)

    def _parallel(self, state: dict[str, Any], location: str) -> None:
        c = self.c
        where = child(location, "Branches")
        if "Branches" not in state:
            c.required(["Branches"], location)
            return
        branches = state["Branches"]
        if not c.expect(branches, list, where):
            return
        if not branches:
            c.schema("Value cannot be empty", where)
        for index, branch in enumerate(branches):
            self.machine(branch, item(where, index), BRANCH)


def _raw_transition(state: dict[str, Any], location: str, targets: Targets) -> bool:
    """The Next/End of a state whose type is unknown, so one mistake is reported once."""
    if isinstance(state.get("Next"), str):
        targets.append((state["Next"], child(location, "Next")))
    return state.get("End") is True


def _reachable(start: str | None, edges: dict[str, list[str]]) -> set[str]:
    if start is None or start not in edges:
        return set()
    seen = {start}
    queue = deque([start])
    while queue:
        for target in edges[queue.popleft()]:
            if target in edges and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
