"""Error precedence and texts for filter expressions, case by case (cases DynamoDB-compatible
emulators pin against the real service)."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.engines.tables import ExpressionAttributes, parse_condition
from lambdamaker.errors import ValidationError

KIND = "FilterExpression"


def message(
    text: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> str:
    with pytest.raises(ValidationError) as info:
        parse_condition(text, ExpressionAttributes(names, values), KIND)
    return info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "things are not gonna be ok",
        "attribute_exists(Pictures-RearView)",
        'attribute_exists("Pictures.RearView")',
        "attribute_exists(Pictures..RearView)",
        "attribute_exists(Pi#ctures.RearView)",
        "attribute_exists(asdf[a])",
        "a in b, c",
        "a > between",
        "a in b",
        "a in (b,c,)",
        "(a)between(b.(c.d))and(c)",
        "(a)between(b.c.d)and((c)",
        "#$.b > a",
        "a > :things.stuff",
        "b[:a] > a",
        "b[#_] > a",
        "\u00fc > a",
        "(a)between(b.c[4.5].#d)and(:a)",
        "(size(a)).b > a",
        "size(a)[0] > a",
    ],
)
def test_syntax_errors(text: str) -> None:
    assert message(text).startswith(f"Invalid {KIND}: Syntax error; token: ")


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("a=a and attribute_exists((views), (#a)) > b", "attribute_exists"),
        ("attribute_not_exists(things) > b", "attribute_not_exists"),
        ("contains(:things, c) > b", "contains"),
        ("size(things)", "size"),
        ("a between b and attribute_exists(things)", "attribute_exists"),
        ("a in (b, attribute_exists(things))", "attribute_exists"),
    ],
)
def test_misused_functions_outrank_everything_but_unknown_ones(text: str, function: str) -> None:
    assert message(text) == (
        f"Invalid {KIND}: The function is not allowed to be used this way in an expression;"
        f" function: {function}"
    )


@pytest.mark.parametrize(
    ("text", "word"), [("attribute_exists(views, #a)", "views"), (":a < abOrT", "abOrT")]
)
def test_reserved_words_outrank_per_condition_errors(text: str, word: str) -> None:
    assert (
        message(text)
        == f"Invalid {KIND}: Attribute name is a reserved keyword; reserved keyword: {word}"
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("attribute_exists(#Pictures.RearView, :a) and a=a", "#Pictures"),
        ("begins_with(Pictures.#RearView)", "#RearView"),
        ("(#P between :lo and :hi) and (#PC in (:cat1, :cat2))", "#P"),
        ("#4g > a", "#4g"),
        ("#_ > a", "#_"),
        ("(a)between(b.c[45].#d)and(:a)", "#d"),
    ],
)
def test_undefined_names(text: str, name: str) -> None:
    assert message(text) == (
        f"Invalid {KIND}: An expression attribute name used in the document path is not"
        f" defined; attribute name: {name}"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("begins_with(:hello, #a, #b)", ":hello"), (":a < :b", ":a"), (":_ > a", ":_")],
)
def test_undefined_values(text: str, value: str) -> None:
    assert message(text) == (
        f"Invalid {KIND}: An expression attribute value used in expression is not defined;"
        f" attribute value: {value}"
    )


@pytest.mark.parametrize(
    ("text", "function", "count"),
    [
        ("attribute_exists(things, a) and a=a", "attribute_exists", 2),
        ("attribute_type(things)", "attribute_type", 1),
        ("begins_with(things, size(a), b)", "begins_with", 3),
        ("contains(things)", "contains", 1),
        ("size(things, a) > b", "size", 2),
    ],
)
def test_operand_counts(text: str, function: str, count: int) -> None:
    assert message(text) == (
        f"Invalid {KIND}: Incorrect number of operands for operator or function; operator or"
        f" function: {function}, number of operands: {count}"
    )


@pytest.mark.parametrize(
    ("text", "function", "value"),
    [
        ("attribute_type(a, size(a)) and a=a and a=:a", "attribute_type", {"N": "1"}),
        ("attribute_type(a, :a)", "attribute_type", {"BOOL": True}),
        ("attribute_type(a, :a)", "attribute_type", {"L": []}),
        ("begins_with(a, size(a)) and a=:a", "begins_with", {"N": "1"}),
        ("begins_with(:a, a)", "begins_with", {"SS": ["1"]}),
        ("begins_with(a, :a)", "begins_with", {"M": {}}),
        ("size(size(a)) > :a", "size", {"N": "1"}),
        ("attribute_not_exists(size(:a))", "size", {"N": "1"}),
        ("size(:a) > a", "size", {"NULL": True}),
    ],
)
def test_operand_types(text: str, function: str, value: dict[str, Any]) -> None:
    kind = next(iter(value))
    assert message(text, {":a": value}) == (
        f"Invalid {KIND}: Incorrect operand type for operator or function; operator or function:"
        f" {function}, operand type: {kind}"
    )


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ("attribute_exists(:a) and a=b", "attribute_exists"),
        ("attribute_not_exists(size(:a))", "attribute_not_exists"),
    ],
)
def test_document_path_required(text: str, function: str) -> None:
    assert message(text, {":a": {"S": "1"}}) == (
        f"Invalid {KIND}: Operator or function requires a document path; operator or function:"
        f" {function}"
    )


@pytest.mark.parametrize(
    ("text", "operator", "path"),
    [
        ("a = a AND #a = b AND :views > a", "=", "[a]"),
        ("#a <> a", "<>", "[a]"),
        ("((a=a) OR (a=a))", "=", "[a]"),
        ("contains(ab.bc[1].a, ab.bc[1].#a)", "contains", "[ab, bc, [1], a]"),
        ("attribute_type(ab.bc[1].#a, ab.bc[1].a)", "attribute_type", "[ab, bc, [1], a]"),
        ("begins_with(ab.bc[1].a, ab.bc[1].#a)", "begins_with", "[ab, bc, [1], a]"),
    ],
)
def test_operands_must_be_distinct(text: str, operator: str, path: str) -> None:
    assert message(text, names={"#a": "a"}) == (
        f"Invalid {KIND}: The first operand must be distinct from the remaining operands for this"
        f" operator or function; operator: {operator}, first operand: {path}"
    )
