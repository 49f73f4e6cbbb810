"""Checks of the values inside a state: paths, payload templates, JSONata strings, Assign,
Retry/Catch (Choice rules are in ``validation_choice``). ``validation_states`` decides which field gets which check.

Invariants:
- JSONPath-mode text is checked with the evaluators' own parsers (``validation_hooks``), so a
  definition that passes here cannot fail to parse at run time;
- in JSONata mode only ``{% %}`` strings are expressions; any other string is a literal and is
  never checked as a path;
- ``Catch[].Next`` and ``Choices[].Next`` / ``Default`` targets are gathered by the caller for the
  graph checks; this module only checks their shape.
"""

from __future__ import annotations

import re
from typing import Any

from lambdamaker.engines.workflows import validation_hooks as hooks
from lambdamaker.engines.workflows.validation_core import (
    INVALID_VARIABLE,
    JSONATA,
    RESERVED_VARIABLE,
    Collector,
    child,
    is_expression,
    item,
)

ALL = "States.ALL"
NO_DOLLAR = "NO_DOLLAR"
NO_DOLLAR_MESSAGE = (
    "The value of the field '{}' looks like a JSONPath or an intrinsic function, but the field "
    "name does not end with '.$'"
)
PASS_RESULT_IS_STATIC = "PASS_RESULT_IS_STATIC"
_DYNAMIC = re.compile(r"\$\$?(?:[.\[].*)?|States\.[A-Za-z.]+\(.*\)", re.DOTALL)


def looks_dynamic(value: Any) -> bool:
    """A string a user probably meant as a path or an intrinsic (``$.x``, ``States.Format(..)``)."""
    return isinstance(value, str) and bool(_DYNAMIC.fullmatch(value))


def static_result(c: Collector, value: Any, location: str) -> None:
    """A Pass state's Result is copied as is: a ``.$`` key in it is a mistake worth a warning."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key.endswith(".$"):
                c.warning(
                    PASS_RESULT_IS_STATIC,
                    "The Result of a Pass state is static: the field name ending in '.$' is not evaluated",
                    child(location, key),
                )
            static_result(c, sub, child(location, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            static_result(c, sub, item(location, index))


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_VARIABLE_NAME = 80


# --- paths and expressions ----------------------------------------------------------------------


def path(c: Collector, value: Any, field: str, location: str, *, nullable: bool = False) -> None:
    """A JSONPath field (InputPath, OutputPath, ItemsPath, SecondsPath...): ``$``, ``$$`` or a variable."""
    if value is None and nullable:
        return
    if not c.expect(value, str, location):
        return
    if hooks.path_problem(value) is not None:
        c.schema(f"The value for the field '{field}' must be a valid JSONPath", location)


def reference_path(c: Collector, value: Any, location: str, *, nullable: bool = False) -> None:
    """A Reference Path field (ResultPath): one node of the state's data."""
    if value is None and nullable:
        return
    if not c.expect(value, str, location):
        return
    problem = hooks.reference_path_problem(value)
    if problem is not None:
        c.schema(f"Value is not a Reference Path: {problem}", location)


def path_or_intrinsic(c: Collector, value: Any, field: str, location: str) -> None:
    """The value of a ``.$`` key, ErrorPath or CausePath: a path or an intrinsic call."""
    if not c.expect(value, str, location):
        return
    if value.startswith("States."):
        problem = hooks.intrinsic_problem(value)
    else:
        problem = hooks.path_problem(value)
    if problem is not None:
        c.schema(
            f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic "
            "function call",
            location,
        )


def expression(c: Collector, value: str, location: str) -> None:
    """A string in a JSONata field: an expression when wrapped in ``{% %}``, else a literal."""
    if is_expression(value):
        problem = hooks.jsonata_problem(value[2:-2])
        if problem is not None:
            c.error(problem[0], problem[1], location)
    elif value.startswith("{%"):
        c.schema("JSONata string must start with {% and end with %}", location)


def jsonata_value(c: Collector, value: Any, location: str) -> None:
    """Every ``{% %}`` string anywhere inside a JSONata payload (Arguments, Output, ...)."""
    if isinstance(value, str):
        expression(c, value, location)
    elif isinstance(value, dict):
        for key, sub in value.items():
            jsonata_value(c, sub, child(location, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            jsonata_value(c, sub, item(location, index))


def template(c: Collector, value: Any, location: str) -> None:
    """A JSONPath payload template (Parameters, ResultSelector, ItemSelector, Assign values)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            where = child(location, key)
            if key.endswith(".$"):
                path_or_intrinsic(c, sub, key, where)
            elif looks_dynamic(sub):
                c.warning(NO_DOLLAR, NO_DOLLAR_MESSAGE.format(key), where)
            else:
                template(c, sub, where)
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            template(c, sub, item(location, index))


def template_object(c: Collector, value: Any, location: str, language: str) -> None:
    """Parameters/ResultSelector/ItemSelector (an object), or Arguments in JSONata mode."""
    if language == JSONATA:
        if not (is_expression(value) or c.expect(value, dict, location)):
            return
        jsonata_value(c, value, location)
    elif c.expect(value, dict, location):
        template(c, value, location)


def assign(c: Collector, value: Any, location: str, language: str) -> None:
    """Assign: variable names, then each value as a template or JSONata payload."""
    if not c.expect(value, dict, location):
        return
    for name, sub in value.items():
        where = child(location, name)
        bare = name[:-2] if language != JSONATA and name.endswith(".$") else name
        if bare == "states":
            c.error(RESERVED_VARIABLE, "Cannot assign to reserved variable '$states'.", where)
        elif not _VARIABLE_NAME.fullmatch(bare) or len(bare) > _MAX_VARIABLE_NAME:
            c.error(
                INVALID_VARIABLE,
                f"Invalid variable name '{bare}': the variable name contains invalid characters.",
                where,
            )
        if language == JSONATA:
            jsonata_value(c, sub, where)
        elif name.endswith(".$"):
            path_or_intrinsic(c, sub, name, where)
        else:
            template(c, sub, where)


# --- Retry and Catch ----------------------------------------------------------------------------


def _error_equals(c: Collector, obj: dict[str, Any], location: str, last: bool) -> None:
    where = child(location, "ErrorEquals")
    names = obj["ErrorEquals"]
    if not c.expect(names, list, where):
        return
    if not names:
        c.schema("Value cannot be empty", where)
        return
    for index, name in enumerate(names):
        c.expect(name, str, item(where, index))
    if ALL in names and (len(names) > 1 or not last):
        c.schema("States.ALL must appear alone and at end of list", where)


_RETRIER = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
_MAX_RETRY_INT = 99999999


def retry(c: Collector, value: Any, location: str) -> None:
    if not c.expect(value, list, location):
        return
    for index, retrier in enumerate(value):
        where = item(location, index)
        if not c.expect(retrier, dict, where):
            continue
        c.fields(retrier, _RETRIER, where)
        if "ErrorEquals" not in retrier:
            c.required(["ErrorEquals"], where)
        else:
            _error_equals(c, retrier, where, index == len(value) - 1)
        if "IntervalSeconds" in retrier:
            c.integer(
                retrier["IntervalSeconds"], child(where, "IntervalSeconds"), 1, _MAX_RETRY_INT
            )
        if "MaxAttempts" in retrier:
            c.integer(retrier["MaxAttempts"], child(where, "MaxAttempts"), 0, _MAX_RETRY_INT)
        if "MaxDelaySeconds" in retrier:
            c.integer(
                retrier["MaxDelaySeconds"], child(where, "MaxDelaySeconds"), 1, _MAX_RETRY_INT
            )
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            rate_at = child(where, "BackoffRate")
            if c.expect(rate, float, rate_at) and rate < 1.0:
                c.schema("Value must be greater than or equal to 1.0", rate_at)
        if "JitterStrategy" in retrier:
            c.one_of(retrier["JitterStrategy"], ("FULL", "NONE"), child(where, "JitterStrategy"))
        if "Comment" in retrier:
            c.expect(retrier["Comment"], str, child(where, "Comment"))


def catch(
    c: Collector, value: Any, location: str, language: str, targets: list[tuple[str, str]]
) -> None:
    """Catch; appends ``(target, location)`` for each catcher's Next."""
    if not c.expect(value, list, location):
        return
    allowed = {"ErrorEquals", "Next", "Comment", "Assign"}
    allowed |= {"Output"} if language == JSONATA else {"ResultPath"}
    for index, catcher in enumerate(value):
        where = item(location, index)
        if not c.expect(catcher, dict, where):
            continue
        other = language_field(catcher, language)
        for name in catcher:
            if name in other:
                c.schema(language_message(language, name), where)
            elif name not in allowed:
                c.not_supported(name, where)
        missing = [name for name in ("ErrorEquals", "Next") if name not in catcher]
        if missing:
            c.required(missing, where)
        if "ErrorEquals" in catcher:
            _error_equals(c, catcher, where, index == len(value) - 1)
        if "Next" in catcher and c.expect(catcher["Next"], str, child(where, "Next")):
            targets.append((catcher["Next"], child(where, "Next")))
        if "ResultPath" in catcher and language != JSONATA:
            reference_path(c, catcher["ResultPath"], child(where, "ResultPath"), nullable=True)
        if "Output" in catcher and language == JSONATA:
            jsonata_value(c, catcher["Output"], child(where, "Output"))
        if "Assign" in catcher:
            assign(c, catcher["Assign"], child(where, "Assign"), language)


# --- query language -----------------------------------------------------------------------------

JSONPATH_ONLY = frozenset(
    {
        "InputPath",
        "OutputPath",
        "ResultPath",
        "Parameters",
        "ResultSelector",
        "Result",
        "ItemsPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "SecondsPath",
        "TimestampPath",
        "MaxConcurrencyPath",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentagePath",
        "ErrorPath",
        "CausePath",
        "Variable",
    }
)
JSONATA_ONLY = frozenset({"Arguments", "Output", "Items", "Condition"})


def language_field(obj: dict[str, Any], language: str) -> frozenset[str]:
    """The fields of ``obj`` that belong to the other query language."""
    other = JSONPATH_ONLY if language == JSONATA else JSONATA_ONLY
    return frozenset(name for name in obj if name in other)


def language_message(language: str, name: str) -> str:
    other = "JSONPath" if language == JSONATA else "JSONata"
    return (
        f"The QueryLanguage is set to '{language}', but field '{name}' is only supported for the "
        f"'{other}' QueryLanguage"
    )
