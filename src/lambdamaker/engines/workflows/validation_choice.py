"""Choice rule checks: JSONPath rules (Variable + one comparator, And/Or/Not) and JSONata rules
(Condition). Top-level rules carry ``Next`` (and may ``Assign``); nested rules must not."""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.workflows import validation_hooks as hooks
from lambdamaker.engines.workflows.validation_core import JSONATA, Collector, child, is_number, item
from lambdamaker.engines.workflows.validation_rules import (
    JSONATA_ONLY,
    JSONPATH_ONLY,
    assign,
    expression,
    language_message,
    path,
)

# --- Choice rules -------------------------------------------------------------------------------

_NUMERIC = ("Numeric",)
_COMBINATORS = ("And", "Or", "Not")


def _comparator_value(c: Collector, name: str, value: Any, location: str) -> None:
    if name.endswith("Path"):
        path(c, value, name, location)
    elif name.startswith("Is") or name.startswith("Boolean"):
        c.expect(value, bool, location)
    elif name.startswith(_NUMERIC):
        if not is_number(value):
            c.schema("Expected value of type [NUMBER]", location)
    else:  # String*, StringMatches, Timestamp*
        c.expect(value, str, location)


def choice_rule(
    c: Collector, rule: Any, location: str, language: str, targets: list[tuple[str, str]], top: bool
) -> None:
    """One Choice rule; ``top`` rules carry Next (and may Assign), nested ones must not."""
    if not c.expect(rule, dict, location):
        return
    if top:
        if "Next" not in rule:
            c.required(["Next"], location)
        elif c.expect(rule["Next"], str, child(location, "Next")):
            targets.append((rule["Next"], child(location, "Next")))
        if "Assign" in rule:
            assign(c, rule["Assign"], child(location, "Assign"), language)
    allowed_extra = {"Comment"} | ({"Next", "Assign"} if top else set())
    if language == JSONATA:
        allowed_extra |= {"Output"} if top else set()
        for name in rule:
            if name == "Condition" or name in allowed_extra:
                continue
            if name in JSONPATH_ONLY or name in _COMBINATORS or name in hooks.comparators():
                c.schema(language_message(language, name), location)
            else:
                c.not_supported(name, location)
        if "Condition" not in rule:
            c.required(["Condition"], location)
        else:
            condition = rule["Condition"]
            where = child(location, "Condition")
            if isinstance(condition, bool):
                return
            if c.expect(condition, str, where):
                expression(c, condition, where)
        return
    _jsonpath_rule(c, rule, location, language, targets, allowed_extra)


def _jsonpath_rule(
    c: Collector,
    rule: dict[str, Any],
    location: str,
    language: str,
    targets: list[tuple[str, str]],
    allowed_extra: set[str],
) -> None:
    comparators = hooks.comparators()
    found = [name for name in rule if name in comparators]
    combinators = [name for name in rule if name in _COMBINATORS]
    for name in rule:
        if (
            name in comparators
            or name in _COMBINATORS
            or name == "Variable"
            or name in allowed_extra
        ):
            continue
        if name in JSONATA_ONLY:
            c.schema(language_message(language, name), location)
        else:
            c.not_supported(name, location)
    if "Variable" in rule:
        path(c, rule["Variable"], "Variable", child(location, "Variable"))
        if combinators:
            for name in combinators:
                c.not_supported(name, location)
        if len(found) != 1:
            c.schema(
                f"There should only be one of the following fields: [{', '.join(sorted(comparators))}]",
                location,
            )
        for name in found:
            _comparator_value(c, name, rule[name], child(location, name))
        return
    if found:
        c.required(["Variable"], location)
    if len(combinators) != 1:
        if not found:
            c.schema(
                "The object must have only one of the following fields, [And, Or, Not, Variable]",
                location,
            )
        return
    name = combinators[0]
    where = child(location, name)
    if name == "Not":
        choice_rule(c, rule[name], where, language, targets, top=False)
        return
    operands = rule[name]
    if not c.expect(operands, list, where):
        return
    if not operands:
        c.schema("Value cannot be empty", where)
    for index, operand in enumerate(operands):
        choice_rule(c, operand, item(where, index), language, targets, top=False)
