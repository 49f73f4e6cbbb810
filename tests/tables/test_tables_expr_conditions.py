"""Condition / filter expressions: parsing, DynamoDB's error texts, evaluation semantics."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.engines.tables import ExpressionAttributes, parse_condition
from lambdamaker.errors import ValidationError

ITEM: dict[str, Any] = {
    "pk": {"S": "user#1"},
    "age": {"N": "42"},
    "nm": {"S": "Ada"},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2.5"]},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "bin": {"B": b"\x01\x02\x03"},
    "lst": {"L": [{"S": "x"}, {"N": "7"}, {"M": {"deep": {"S": "y"}}}]},
    "mp": {"M": {"leaf": {"N": "5"}, "dotted.key": {"S": "z"}}},
}


def check(
    text: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    item: dict[str, Any] | None = None,
) -> bool:
    attrs = ExpressionAttributes(names, values)
    condition = parse_condition(text, attrs)
    attrs.check_unused()
    return condition.evaluate(ITEM if item is None else item)


def error(
    text: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    kind: str = "ConditionExpression",
) -> str:
    attrs = ExpressionAttributes(names, values)
    with pytest.raises(ValidationError) as info:
        parse_condition(text, attrs, kind)
        attrs.check_unused()
    assert info.value.code == "ValidationException"
    assert info.value.status == 400
    return info.value.message


N = lambda v: {"N": v}  # noqa: E731
S = lambda v: {"S": v}  # noqa: E731


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("age = :v", {":v": N("42.0")}, True),
        ("age <> :v", {":v": N("42")}, False),
        ("age < :v", {":v": N("100")}, True),
        ("age <= :v", {":v": N("42")}, True),
        ("age > :v", {":v": N("9")}, True),
        ("age >= :v", {":v": N("43")}, False),
        ("nm < :v", {":v": S("B")}, True),
        ("age < :v", {":v": S("zzz")}, False),  # mixed types: false, not an error
        ("absent = :v", {":v": N("1")}, False),
        ("absent <> :v", {":v": N("1")}, True),
        ("age BETWEEN :lo AND :hi", {":lo": N("40"), ":hi": N("42")}, True),
        ("age BETWEEN :lo AND :hi", {":lo": N("43"), ":hi": N("50")}, False),
        ("nm IN (:a, :b)", {":a": S("Bob"), ":b": S("Ada")}, True),
        ("nm IN (:a)", {":a": S("Bob")}, False),
        ("tags = :s", {":s": {"SS": ["b", "a"]}}, True),
        ("nums = :s", {":s": {"NS": ["2.50", "1"]}}, True),
        ("lst[1] = :v", {":v": N("7")}, True),
        ("lst[2].deep = :v", {":v": S("y")}, True),
        ("lst[9] = :v", {":v": N("7")}, False),
        ("mp.leaf = :v", {":v": N("5")}, True),
        ("mp.leaf.x = :v", {":v": N("5")}, False),
        ("begins_with(pk, :p)", {":p": S("user#")}, True),
        ("begins_with(bin, :p)", {":p": {"B": b"\x01\x02"}}, True),
        ("contains(nm, :p)", {":p": S("d")}, True),
        ("contains(tags, :p)", {":p": S("b")}, True),
        ("contains(tags, :p)", {":p": N("1")}, False),
        ("contains(nums, :p)", {":p": N("2.5")}, True),
        ("contains(lst, :p)", {":p": S("x")}, True),
        ("attribute_type(flag, :t)", {":t": S("BOOL")}, True),
        ("attribute_type(age, :t)", {":t": S("S")}, False),
        ("size(nm) = :n", {":n": N("3")}, True),
        ("size(tags) > :n", {":n": N("1")}, True),
        ("size(mp) = :n", {":n": N("2")}, True),
        ("size(age) = :n", {":n": N("2")}, False),
        ("size(absent) <> :n", {":n": N("2")}, True),
        ("size(bin) = :n", {":n": N("3")}, True),
        ("age > mp.leaf", None, True),
    ],
)
def test_condition_evaluates_like_dynamodb(text: str, values: Any, expected: bool) -> None:
    assert check(text, values) is expected


def test_functions_on_existence() -> None:
    assert check("attribute_exists(age)")
    assert not check("attribute_exists(absent)")
    assert check("attribute_not_exists(absent)")
    assert check("attribute_exists(lst[2].deep)")
    assert not check("attribute_exists(lst[3])")


def test_precedence_not_and_or() -> None:
    values = {":t": {"BOOL": True}, ":f": {"BOOL": False}}
    # OR binds loosest: true OR (false AND false)
    assert check("flag = :t OR flag = :f AND flag = :f", values)
    assert not check("(flag = :t OR flag = :f) AND flag = :f", values)
    assert not check("NOT flag = :t OR flag = :f", values)
    assert check("NOT flag = :f AND flag = :t", values)
    assert check("not (flag = :f) and flag = :t", values)


def test_names_resolve_and_may_contain_dots() -> None:
    names = {"#m": "mp", "#k": "dotted.key", "#s": "status"}
    assert check("#m.#k = :v", {":v": S("z")}, {"#m": "mp", "#k": "dotted.key"})
    assert check("#m.#k = :v AND attribute_not_exists(#s)", {":v": S("z")}, names)


def test_filter_kind_labels_errors() -> None:
    assert error("a = ", {":v": N("1")}, kind="FilterExpression").startswith(
        "Invalid FilterExpression: Syntax error;"
    )


@pytest.mark.parametrize(
    ("text", "values", "names", "message"),
    [
        ("", None, None, "Invalid ConditionExpression: The expression can not be empty;"),
        (
            "a = :v AND",
            {":v": N("1")},
            None,
            'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"',
        ),
        (
            "a = = :v",
            {":v": N("1")},
            None,
            'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :v"',
        ),
        (
            "a :v",
            {":v": N("1")},
            None,
            'Invalid ConditionExpression: Syntax error; token: ":v", near: "a :v"',
        ),
        (
            "status = :v",
            {":v": N("1")},
            None,
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        (
            "#n = :v",
            {":v": N("1")},
            None,
            "Invalid ConditionExpression: An expression attribute name used in the document path is"
            " not defined; attribute name: #n",
        ),
        (
            "a = :w",
            {":v": N("1")},
            None,
            "Invalid ConditionExpression: An expression attribute value used in expression is not"
            " defined; attribute value: :w",
        ),
        (
            "a = :v",
            {":v": N("1"), ":x": N("2")},
            None,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}",
        ),
        (
            "a = :v",
            {":v": N("1")},
            {"#n": "x"},
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}",
        ),
        ("foo(a)", None, None, "Invalid ConditionExpression: Invalid function name; function: foo"),
        (
            "begins_with(a)",
            None,
            None,
            "Invalid ConditionExpression: Incorrect number of operands for operator or function;"
            " operator or function: begins_with, number of operands: 1",
        ),
        (
            "begins_with(a, :v)",
            {":v": N("1")},
            None,
            "Invalid ConditionExpression: Incorrect operand type for operator or function;"
            " operator or function: begins_with, operand type: N",
        ),
        (
            "attribute_exists(:v)",
            {":v": N("1")},
            None,
            "Invalid ConditionExpression: Operator or function requires a document path;"
            " operator or function: attribute_exists",
        ),
        (
            "attribute_type(a, :t)",
            {":t": S("X")},
            None,
            "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types:"
            " {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "size(a)",
            None,
            None,
            "Invalid ConditionExpression: The function is not allowed to be used this way in an"
            " expression; function: size",
        ),
        (
            "attribute_exists(a) = :v",
            {":v": N("1")},
            None,
            "Invalid ConditionExpression: The function is not allowed to be used this way in an"
            " expression; function: attribute_exists",
        ),
        (
            "a BETWEEN :hi AND :lo",
            {":lo": N("1"), ":hi": N("10")},
            None,
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater"
            " than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper"
            " bound operand: AttributeValue: {N:1}",
        ),
        (
            "a BETWEEN :lo AND :hi",
            {":lo": N("1"), ":hi": S("x")},
            None,
            "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower"
            " and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand:"
            " AttributeValue: {S:x}",
        ),
        (
            "a < :b",
            {":b": {"BOOL": True}},
            None,
            "Invalid ConditionExpression: Incorrect operand type for operator or function;"
            " operator or function: <, operand type: BOOL",
        ),
        (
            "a[x] = :v",
            {":v": N("1")},
            None,
            'Invalid ConditionExpression: Syntax error; token: "x", near: "[x]"',
        ),
    ],
)
def test_errors_carry_dynamodb_messages(text: str, values: Any, names: Any, message: str) -> None:
    assert error(text, values, names) == message


def test_in_accepts_at_most_100_operands() -> None:
    values = {f":v{i}": N(str(i)) for i in range(101)}
    text = "a IN (" + ", ".join(values) + ")"
    assert error(text, values).endswith("number of operands: 101")


def test_path_nesting_limit() -> None:
    text = "a" + ".b" * 32 + " = :v"
    assert "too many nesting levels; nesting levels: 33" in error(text, {":v": N("1")})


def test_attribute_maps_are_validated() -> None:
    with pytest.raises(ValidationError, match="ExpressionAttributeValues must not be empty"):
        ExpressionAttributes(None, {})
    with pytest.raises(ValidationError, match='invalid key: Syntax error; key: "v"'):
        ExpressionAttributes(None, {"v": N("1")})
    with pytest.raises(ValidationError, match="cannot be converted to a numeric value: abc"):
        ExpressionAttributes(None, {":v": N("abc")})


def test_evaluation_does_not_mutate_item() -> None:
    item = {"a": {"L": [{"N": "1"}]}}
    before = repr(item)
    check("size(a) = :n AND contains(a, :x)", {":n": N("1"), ":x": N("1")}, item=item)
    assert repr(item) == before


@pytest.mark.parametrize(
    "text",
    [
        "a=b and c > ((d))",
        "(a)between(((b.c)).d)and(c)",
        "a > whatever((:v), ((b)))",
        "a=b AND ((a=c AND a=d)) AND a=e",
        "a=b OR ((a=c OR (a=d OR a=e)))",
    ],
)
def test_redundant_parentheses(text: str) -> None:
    assert error(text, {":v": N("1")} if ":v" in text else None) == (
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    )


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("a=b and whatever((:v)) > a", "whatever"),
        ("attRIbute_exIsts((views), #a)", "attRIbute_exIsts"),
    ],
)
def test_unknown_function_names_are_case_sensitive(text: str, function: str) -> None:
    values = {":v": N("1")} if ":v" in text else None
    assert (
        error(text, values)
        == f"Invalid ConditionExpression: Invalid function name; function: {function}"
    )


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("a=b and attribute_exists((views)) > b", "attribute_exists"),
        ("attribute_type(things, :v) > b", "attribute_type"),
        ("begins_with(things, a) > b", "begins_with"),
        ("size(contains(a, b)) > a", "contains"),
    ],
)
def test_functions_used_as_operands(text: str, function: str) -> None:
    values = {":v": S("S")} if ":v" in text else None
    assert error(text, values) == (
        "Invalid ConditionExpression: The function is not allowed to be used this way in an"
        f" expression; function: {function}"
    )


def test_parenthesised_operands() -> None:
    values = {":lo": N("40"), ":hi": N("50")}
    assert check("(age)between(:lo)and(:hi)", values)
    assert check("(age) > (:lo) AND ((age) < :hi)", values)


@pytest.mark.parametrize(
    "text",
    [
        "size(a).b > a",
        "(size(a))[0] > a",
        "a > 4",
        "a IN b",
        "a BETWEEN b",
        "NOT",
        "(a = b",
        "a = b)",
        "a.b[1.5] = c",
        "a = b c",
    ],
)
def test_syntax_errors(text: str) -> None:
    assert error(text).startswith("Invalid ConditionExpression: Syntax error; token: ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must"
            " contain exactly one of the supported datatypes for key :v",
        ),
        (
            {"NULL": False},
            "One or more parameter values were invalid: Null attribute value types"
            " must have the value of true for key :v",
        ),
        (
            {"SS": []},
            "One or more parameter values were invalid: An string set  may not be empty for key :v",
        ),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a]"
            " contains duplicates. for key :v",
        ),
        ({"NS": ["1", "1.0"]}, "Input collection contains duplicates for key :v"),
        ({"N": "b"}, "The parameter cannot be converted to a numeric value: b for key :v"),
        (
            {"N": "1" * 39},
            "Attempting to store more than 38 significant digits in a Number for key :v",
        ),
    ],
)
def test_attribute_values_are_validated_like_dynamodb(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        ExpressionAttributes(None, {":v": value})
    assert info.value.message == "ExpressionAttributeValues contains invalid value: " + message


def test_operator_keywords_are_syntax_errors_where_a_name_is_expected() -> None:
    assert error("between = :v", {":v": N("1")}) == (
        'Invalid ConditionExpression: Syntax error; token: "between", near: "between ="'
    )
    assert error("a = b AND or", None).startswith(
        'Invalid ConditionExpression: Syntax error; token: "or"'
    )
