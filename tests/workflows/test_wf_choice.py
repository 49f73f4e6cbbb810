"""Choice rules: every comparator family, *Path forms, And/Or/Not, timestamps and errors."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.engines.workflows.choice import COMPARATORS, matching_rule
from lambdamaker.engines.workflows.errors import RUNTIME, StatesError


def holds(rule: dict[str, Any], data: Any, context: Any = None, variables: Any = None) -> bool:
    rule = {**rule, "Next": "Yes"}
    return matching_rule([rule], data, context or {}, variables or {}) is rule


def test_comparators_name_every_operator_family() -> None:
    for family in ("String", "Numeric", "Timestamp"):
        for suffix in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"):
            assert f"{family}{suffix}" in COMPARATORS
            assert f"{family}{suffix}Path" in COMPARATORS
    assert {
        "BooleanEquals",
        "BooleanEqualsPath",
        "StringMatches",
        "IsPresent",
        "IsNull",
    } <= COMPARATORS
    assert {"IsNumeric", "IsString", "IsBoolean", "IsTimestamp"} <= COMPARATORS
    assert "StringMatchesPath" not in COMPARATORS and "And" not in COMPARATORS


def test_first_matching_rule_wins_and_none_when_nothing_matches() -> None:
    choices = [
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
        {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Medium", "Assign": {"x": 1}},
        {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Small"},
    ]
    assert matching_rule(choices, {"n": 5}, {}, {}) is choices[1]
    assert matching_rule(choices, {"n": 0}, {}, {}) is None


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "abd", False),
        ("StringEquals", "1", 1, False),
        ("StringLessThan", "b", "a", True),
        ("StringLessThan", "a", "a", False),
        ("StringLessThanEquals", "a", "a", True),
        ("StringGreaterThan", "a", "b", True),
        ("StringGreaterThan", "", "", False),
        ("StringGreaterThanEquals", "", "", True),
        ("StringGreaterThan", "a", None, False),
    ],
)
def test_string_comparators(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert holds({"Variable": "$.v", operator: operand}, {"v": value}) is expected


def test_strings_order_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FF61 (as in Java), unlike code points.
    assert holds({"Variable": "$.v", "StringLessThan": "\uff61"}, {"v": "\U0001f600"})


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 1.5, 1.5, True),
        ("NumericEquals", 1, "1", False),
        ("NumericEquals", 1, True, False),
        ("NumericEquals", 0, False, False),
        ("NumericLessThan", 2, 1.999, True),
        ("NumericLessThan", 2, 2, False),
        ("NumericLessThanEquals", 2, 2.0, True),
        ("NumericGreaterThan", -1, 0, True),
        ("NumericGreaterThanEquals", 10**20, 10**20, True),
        ("NumericGreaterThan", 0, None, False),
    ],
)
def test_numeric_comparators(operator: str, operand: Any, value: Any, expected: bool) -> None:
    assert holds({"Variable": "$.v", operator: operand}, {"v": value}) is expected


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        (True, True, True),
        (False, False, True),
        (True, False, False),
        (True, 1, False),
        (False, 0, False),
    ],
)
def test_boolean_equals(operand: bool, value: Any, expected: bool) -> None:
    assert holds({"Variable": "$.v", "BooleanEquals": operand}, {"v": value}) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("log-*.txt", "log-2024.txt", True),
        ("log-*.txt", "log-.txt", True),
        ("log-*.txt", "log-2024.csv", False),
        ("*", "", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "acb", False),
        ("exact", "exact", True),
        ("exact", "exactly", False),
        ("star\\*", "star*", True),
        ("star\\*", "starry", False),
        ("back\\\\*", "back\\slash", True),
        ("a.c", "abc", False),
        ("(x)+", "(x)+", True),
        ("line*", "line1\nline2", True),
    ],
)
def test_string_matches_wildcards_and_escapes(pattern: str, value: str, expected: bool) -> None:
    assert holds({"Variable": "$.v", "StringMatches": pattern}, {"v": value}) is expected


def test_string_matches_on_a_non_string_is_false() -> None:
    assert not holds({"Variable": "$.v", "StringMatches": "*"}, {"v": 1})


@pytest.mark.parametrize(
    ("operator", "operand", "value", "expected"),
    [
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T02:59:00+01:00", True),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00.000Z", True),
        (
            "TimestampLessThan",
            "2016-03-14T01:59:00.000000002Z",
            "2016-03-14T01:59:00.000000001Z",
            True,
        ),
        ("TimestampGreaterThan", "2016-03-14T01:59:00Z", "2016-03-14T01:59:01Z", True),
        ("TimestampGreaterThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampLessThanEquals", "2016-03-14T01:59:00Z", "2016-03-13T23:59:59-03:00", False),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00", False),
        ("TimestampLessThan", "2016-03-14T01:59:00Z", "yesterday", False),
        ("TimestampLessThan", "2016-03-14T01:59:00Z", 0, False),
    ],
)
def test_timestamp_comparators(operator: str, operand: str, value: Any, expected: bool) -> None:
    assert holds({"Variable": "$.v", operator: operand}, {"v": value}) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-10-09T19:00:55Z", True),
        ("2012-10-09T19:00:55.123456789Z", True),
        ("2012-10-09T19:00:55+01:00", True),
        ("2012-10-09T19:00:55", False),
        ("2012-10-09 19:00:55Z", False),
        ("2012-10-09t19:00:55z", False),
        ("2023-02-24", False),
        ("2012-13-09T19:00:55Z", False),
        ("2012-02-30T19:00:55Z", False),
        (20121009, False),
    ],
)
def test_is_timestamp(value: Any, expected: bool) -> None:
    assert holds({"Variable": "$.v", "IsTimestamp": True}, {"v": value}) is expected
    assert holds({"Variable": "$.v", "IsTimestamp": False}, {"v": value}) is not expected


@pytest.mark.parametrize(
    ("operator", "true_for", "false_for"),
    [
        ("IsNull", [None], [0, "", False, [], {}]),
        ("IsNumeric", [0, 1.5, -3], [True, "1", None, [1]]),
        ("IsString", ["", "x", "2012-10-09T19:00:55Z"], [1, None, ["x"], {"a": "b"}]),
        ("IsBoolean", [True, False], [0, 1, "true", None]),
    ],
)
def test_type_tests(operator: str, true_for: list[Any], false_for: list[Any]) -> None:
    for value in true_for:
        assert holds({"Variable": "$.v", operator: True}, {"v": value}), value
        assert not holds({"Variable": "$.v", operator: False}, {"v": value}), value
    for value in false_for:
        assert not holds({"Variable": "$.v", operator: True}, {"v": value}), value
        assert holds({"Variable": "$.v", operator: False}, {"v": value}), value


def test_is_present_reads_missing_paths_without_error() -> None:
    assert holds({"Variable": "$.v", "IsPresent": True}, {"v": None})
    assert not holds({"Variable": "$.v", "IsPresent": True}, {})
    assert holds({"Variable": "$.v", "IsPresent": False}, {})
    assert holds({"Variable": "$.a.b[3]", "IsPresent": False}, {"a": {"b": [1]}})
    assert holds({"Variable": "$undefined", "IsPresent": False}, {})


@pytest.mark.parametrize("operator", ["StringEquals", "IsNull", "IsString", "NumericEquals"])
def test_a_missing_variable_is_a_runtime_error_for_other_comparators(operator: str) -> None:
    operand: Any = {"StringEquals": "x", "IsNull": True, "IsString": False, "NumericEquals": 1}[
        operator
    ]
    with pytest.raises(StatesError) as caught:
        holds({"Variable": "$.missing", operator: operand}, {"v": 1})
    assert caught.value.error == RUNTIME
    assert caught.value.cause == (
        "Invalid path '$.missing': The choice state's condition path references an invalid value."
    )


def test_path_comparators_read_the_right_hand_side() -> None:
    data = {"a": 3, "b": 3.0, "s": "x", "t": "2016-03-14T01:59:00Z", "yes": True, "str_b": "3"}
    assert holds({"Variable": "$.a", "NumericEqualsPath": "$.b"}, data)
    assert holds({"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"}, data)
    assert not holds({"Variable": "$.a", "NumericLessThanPath": "$.b"}, data)
    assert not holds({"Variable": "$.a", "NumericEqualsPath": "$.str_b"}, data)
    assert holds({"Variable": "$.s", "StringEqualsPath": "$.s"}, data)
    assert holds({"Variable": "$.s", "StringGreaterThanPath": "$.str_b"}, data)
    assert holds({"Variable": "$.yes", "BooleanEqualsPath": "$.yes"}, data)
    assert not holds({"Variable": "$.yes", "BooleanEqualsPath": "$.a"}, data)
    assert holds({"Variable": "$.t", "TimestampEqualsPath": "$.t"}, data)
    assert not holds({"Variable": "$.t", "TimestampEqualsPath": "$.s"}, data)


def test_a_missing_right_hand_path_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as caught:
        holds({"Variable": "$.a", "NumericEqualsPath": "$.nope"}, {"a": 1})
    assert caught.value.error == RUNTIME
    assert "Invalid path '$.nope'" in caught.value.cause


def test_variables_and_context_paths() -> None:
    context = {"Execution": {"Input": {"input-value": 0}}}
    assert holds(
        {"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}, {}, context
    )
    variables = {"guess": "the_answer", "answer": "the_answer"}
    assert holds({"Variable": "$guess", "StringEqualsPath": "$answer"}, {}, None, variables)
    assert holds(
        {"Variable": "$.n", "NumericEqualsPath": "$limits.max"},
        {"n": 5},
        None,
        {"limits": {"max": 5}},
    )


def test_and_or_not_nest() -> None:
    in_range = {
        "And": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 20},
            {"Variable": "$.n", "NumericLessThan": 30},
        ]
    }
    assert holds(in_range, {"n": 20})
    assert not holds(in_range, {"n": 30})
    either = {"Or": [{"Variable": "$.t", "StringEquals": "Private"}, in_range]}
    assert holds(either, {"t": "Private", "n": 0})
    assert holds(either, {"t": "Public", "n": 25})
    assert not holds(either, {"t": "Public", "n": 0})
    assert holds({"Not": either}, {"t": "Public", "n": 0})
    assert not holds({"Not": {"Not": either}}, {"t": "Public", "n": 0})


def test_and_or_short_circuit_before_a_missing_path() -> None:
    guarded = {
        "And": [
            {"Variable": "$.opt", "IsPresent": True},
            {"Variable": "$.opt", "StringEquals": "on"},
        ]
    }
    assert not holds(guarded, {})
    assert holds(guarded, {"opt": "on"})
    fallback = {
        "Or": [{"Variable": "$.opt", "IsPresent": False}, {"Variable": "$.opt", "NumericEquals": 1}]
    }
    assert holds(fallback, {})


def test_a_not_over_a_missing_path_is_still_an_error() -> None:
    with pytest.raises(StatesError):
        holds({"Not": {"Variable": "$.missing", "StringEquals": "x"}}, {})


def test_matching_does_not_mutate_inputs() -> None:
    data = {"a": [1, 2], "t": "2016-03-14T01:59:00Z"}
    choices = [{"Variable": "$.t", "TimestampLessThanEqualsPath": "$.t", "Next": "N"}]
    snapshot = repr((data, choices))
    assert matching_rule(choices, data, {}, {}) is choices[0]
    assert repr((data, choices)) == snapshot
