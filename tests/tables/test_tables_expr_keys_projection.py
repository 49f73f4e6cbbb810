"""KeyConditionExpression narrowing and ProjectionExpression."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.engines.tables import (
    ExpressionAttributes,
    KeyCondition,
    KeyConditions,
    parse_key_condition,
    parse_key_conditions,
    parse_projection,
    project,
)
from lambdamaker.errors import ValidationError

V = {":h": {"S": "user"}, ":a": {"N": "1"}, ":b": {"N": "5"}, ":p": {"S": "ord#"}}


def keys(text: str, values: dict[str, Any], names: dict[str, str] | None = None) -> KeyConditions:
    return parse_key_condition(text, ExpressionAttributes(names, values or None), "pk", "sk")


def test_hash_only_and_hash_with_range() -> None:
    only = keys("pk = :h", {":h": V[":h"]})
    assert only.hash == KeyCondition("pk", "=", (V[":h"],)) and only.range is None
    both = keys(
        "(#p = :h) AND sk BETWEEN :a AND :b", {k: V[k] for k in (":h", ":a", ":b")}, {"#p": "pk"}
    )
    assert both.range == KeyCondition("sk", "BETWEEN", (V[":a"], V[":b"]))
    assert both.range.matches({"N": "3"}) and not both.range.matches({"N": "6"})


def test_range_first_value_on_left_and_begins_with() -> None:
    flipped = keys(":a < sk AND pk = :h", {":a": V[":a"], ":h": V[":h"]})
    assert flipped.range == KeyCondition("sk", ">", (V[":a"],))
    prefix = keys("begins_with(sk, :p) AND pk = :h", {":p": V[":p"], ":h": V[":h"]})
    assert prefix.range is not None and prefix.range.matches({"S": "ord#12"})
    assert not prefix.range.matches({"N": "1"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pk = :h OR sk = :a", "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :h AND NOT sk = :a", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk = :h AND sk <> :a", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "pk = :h AND attribute_exists(sk)",
            "Invalid operator used in KeyConditionExpression: attribute_exists",
        ),
        ("pk = :h AND pk = :a", "KeyConditionExpressions must only contain one condition per key"),
        ("pk = :h AND sk = :a AND x = :b", "Conditions can be of length 1 or 2 only"),
        (
            "pk = :h AND pk.x = :a",
            "KeyConditionExpressions cannot have conditions on nested attributes",
        ),
        ("pk = :h AND size(sk) = :a", "KeyConditionExpressions cannot contain nested operations"),
        (
            "pk = sk",
            "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
        ),
        (":h = :a", "Invalid condition in KeyConditionExpression: No key attribute specified"),
        (
            "pk = :h AND begins_with(:p, sk)",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        ("pk = :h AND sk IN (:a)", "Invalid operator used in KeyConditionExpression: IN"),
        (
            "pk = :h AND contains(sk, :a)",
            "Invalid operator used in KeyConditionExpression: contains",
        ),
        ("sk = :a", "Query condition missed key schema element: pk"),
        ("pk < :h", "Query key condition not supported"),
        ("pk = :h AND extra = :a", "Query condition missed key schema element: sk"),
    ],
)
def test_key_condition_errors(text: str, message: str) -> None:
    values = {k: V[k] for k in V if k in text}
    with pytest.raises(ValidationError) as info:
        keys(text, values)
    assert info.value.message == message


def test_without_schema_returns_flat_list() -> None:
    result = parse_key_conditions(
        "a = :h AND b >= :a", ExpressionAttributes(None, {":h": V[":h"], ":a": V[":a"]})
    )
    assert result == [KeyCondition("a", "=", (V[":h"],)), KeyCondition("b", ">=", (V[":a"],))]


ITEM: dict[str, Any] = {
    "pk": {"S": "k"},
    "a": {"M": {"b": {"N": "1"}, "c": {"S": "x"}}},
    "lst": {"L": [{"N": "0"}, {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}, {"N": "2"}, {"N": "3"}]},
    "other": {"S": "o"},
}


def test_projection_selects_nested_paths_and_compacts_lists() -> None:
    attrs = ExpressionAttributes({"#o": "other"})
    paths = parse_projection("pk, a.b, lst[3], lst[1].y, #o, nope, a.zz", attrs)
    attrs.check_unused()
    assert project(ITEM, paths) == {
        "pk": {"S": "k"},
        "a": {"M": {"b": {"N": "1"}}},
        "lst": {"L": [{"M": {"y": {"N": "2"}}}, {"N": "3"}]},
        "other": {"S": "o"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a, a.b",
            "Invalid ProjectionExpression: Two document paths overlap with each other; must"
            " remove or rewrite one of these paths; path one: [a], path two: [a, b]",
        ),
        ("a,", 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","'),
        (
            "size",
            "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: size",
        ),
    ],
)
def test_projection_errors(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_projection(text, ExpressionAttributes())
    assert info.value.message == message


def test_hash_only_schema_rejects_other_attributes() -> None:
    attrs = ExpressionAttributes(None, {":h": V[":h"], ":a": V[":a"]})
    with pytest.raises(ValidationError, match=r"^Query key condition not supported$"):
        parse_key_condition("pk = :h AND sk = :a", attrs, "pk")
