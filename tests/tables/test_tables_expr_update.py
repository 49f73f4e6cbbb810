"""UpdateExpression: SET/REMOVE/ADD/DELETE application and DynamoDB's validation errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lambdamaker.engines.tables import ExpressionAttributes, apply_update, parse_update
from lambdamaker.errors import ValidationError

ITEM: dict[str, Any] = {
    "pk": {"S": "k"},
    "count": {"N": "10"},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2"]},
    "lst": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "mp": {"M": {"leaf": {"S": "x"}}},
    "title": {"S": "hello"},
}


def run(
    text: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    attrs = ExpressionAttributes(names, values)
    update = parse_update(text, attrs)
    attrs.check_unused()
    return apply_update(copy.deepcopy(ITEM) if item is None else item, update)


def error(
    text: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> str:
    with pytest.raises(ValidationError) as info:
        run(text, values, names)
    assert info.value.code == "ValidationException"
    return info.value.message


def test_set_plain_nested_and_arithmetic() -> None:
    new = run(
        "SET a = :v, mp.leaf = :s, #c = #c + :one, lst[1] = lst[2] - :one",
        {":v": {"S": "new"}, ":s": {"S": "y"}, ":one": {"N": "1"}},
        {"#c": "count"},
    )
    assert new["a"] == {"S": "new"}
    assert new["mp"] == {"M": {"leaf": {"S": "y"}}}
    assert new["count"] == {"N": "11"}
    assert new["lst"]["L"][1] == {"N": "1"}


def test_set_right_hand_sides_see_the_original_item() -> None:
    new = run("SET a = title, title = :v", {":v": {"S": "changed"}})
    assert new["a"] == {"S": "hello"}
    assert new["title"] == {"S": "changed"}


def test_set_past_end_of_list_appends() -> None:
    assert run("SET lst[10] = :v", {":v": {"N": "9"}})["lst"]["L"][-1] == {"N": "9"}


def test_if_not_exists_and_list_append() -> None:
    values = {":z": {"N": "0"}, ":l": {"L": [{"S": "e"}]}}
    new = run(
        "SET a = if_not_exists(a, :z), #c = if_not_exists(#c, :z), lst = list_append(:l, lst)",
        values,
        {"#c": "count"},
    )
    assert new["a"] == {"N": "0"}
    assert new["count"] == {"N": "10"}
    assert new["lst"]["L"][0] == {"S": "e"} and len(new["lst"]["L"]) == 5


def test_decimal_arithmetic_is_exact_and_normalised() -> None:
    new = run("SET x = :a + :b, y = :a - :a", {":a": {"N": "0.1"}, ":b": {"N": "0.20"}})
    assert new["x"] == {"N": "0.3"}
    assert new["y"] == {"N": "0"}


def test_arithmetic_beyond_38_digits_is_rejected() -> None:
    message = error("SET x = :a + :b", {":a": {"N": "1" + "0" * 37}, ":b": {"N": "0.1"}})
    assert message == "Attempting to store more than 38 significant digits in a Number"


def test_remove_attributes_and_list_indexes_from_original_positions() -> None:
    new = run("REMOVE title, lst[0], lst[2], mp.leaf, absent, lst[99]")
    assert "title" not in new
    assert new["lst"] == {"L": [{"N": "1"}, {"N": "3"}]}
    assert new["mp"] == {"M": {}}


def test_add_numbers_and_sets() -> None:
    new = run(
        "ADD #c :n, tags :s, fresh :n, nums :ns",
        {":n": {"N": "-3"}, ":s": {"SS": ["b", "c"]}, ":ns": {"NS": ["2.0", "5"]}},
        {"#c": "count"},
    )
    assert new["count"] == {"N": "7"}
    assert sorted(new["tags"]["SS"]) == ["a", "b", "c"]
    assert new["fresh"] == {"N": "-3"}
    assert sorted(new["nums"]["NS"]) == ["1", "2", "5"]


def test_delete_from_sets_and_empty_set_removes_attribute() -> None:
    new = run(
        "DELETE tags :a, nums :all, absent :a", {":a": {"SS": ["a"]}, ":all": {"NS": ["1", "2"]}}
    )
    assert new["tags"] == {"SS": ["b"]}
    assert "nums" not in new


def test_all_clauses_together_and_case_insensitive_keywords() -> None:
    new = run(
        "set a = :v remove title add #c :n delete tags :s",
        {":v": {"S": "v"}, ":n": {"N": "1"}, ":s": {"SS": ["a"]}},
        {"#c": "count"},
    )
    assert new["a"] == {"S": "v"} and "title" not in new
    assert new["count"] == {"N": "11"} and new["tags"] == {"SS": ["b"]}


def test_apply_does_not_mutate_input() -> None:
    item = copy.deepcopy(ITEM)
    run("SET lst[0] = :v REMOVE mp.leaf", {":v": {"N": "5"}}, item=item)
    assert item == ITEM


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        (
            "SET a = :v SET b = :v",
            {":v": {"N": "1"}},
            'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
        ),
        (
            "SET a = :v, a.b = :v",
            {":v": {"N": "1"}},
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or"
            " rewrite one of these paths; path one: [a], path two: [a, b]",
        ),
        (
            "SET a = :v REMOVE a",
            {":v": {"N": "1"}},
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or"
            " rewrite one of these paths; path one: [a], path two: [a]",
        ),
        (
            "SET a[0] = :v REMOVE a.b",
            {":v": {"N": "1"}},
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or"
            " rewrite one of these paths; path one: [a, [0]], path two: [a, b]",
        ),
        (
            "ADD a :v",
            {":v": {"S": "x"}},
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator:"
            " ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND",
        ),
        (
            "DELETE a :v",
            {":v": {"N": "1"}},
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator:"
            " DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND",
        ),
        (
            "SET a = :s + :n",
            {":s": {"S": "x"}, ":n": {"N": "1"}},
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or"
            " function: +, operand type: S",
        ),
        (
            "SET a = size(b)",
            None,
            "Invalid UpdateExpression: The function is not allowed in an update expression;"
            " function: size",
        ),
        (
            "SET a = foo(b, c)",
            None,
            "Invalid UpdateExpression: Invalid function name; function: foo",
        ),
        (
            "SET a = list_append(b)",
            None,
            "Invalid UpdateExpression: Incorrect number of operands for operator or function;"
            " operator or function: list_append, number of operands: 1",
        ),
        (
            "UPSERT a = :v",
            {":v": {"N": "1"}},
            'Invalid UpdateExpression: Syntax error; token: "UPSERT", near: "UPSERT a"',
        ),
        (
            "SET a :v",
            {":v": {"N": "1"}},
            'Invalid UpdateExpression: Syntax error; token: ":v", near: "a :v"',
        ),
        (
            "SET status = :v",
            {":v": {"N": "1"}},
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        # item-dependent errors, raised while applying
        (
            "SET title = title + :n",
            {":n": {"N": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "ADD title :n",
            {":n": {"N": "1"}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "DELETE nums :s",
            {":s": {"SS": ["1"]}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = list_append(title, :l)",
            {":l": {"L": []}},
            "An operand in the update expression has an incorrect data type",
        ),
        (
            "SET a = absent",
            None,
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "SET absent.x = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
        (
            "SET title[0] = :v",
            {":v": {"N": "1"}},
            "The document path provided in the update expression is invalid for update",
        ),
    ],
)
def test_update_errors(text: str, values: Any, message: str) -> None:
    assert error(text, values) == message


NAMES = {"#c": "c", "#d": "[3]"}


@pytest.mark.parametrize(
    ("text", "names", "message"),
    [
        # overlap is reported before conflicts and before operand-count errors
        (
            "set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a)",
            {"#c": "c"},
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or"
            " rewrite one of these paths; path one: [c, [1], a], path two: [c]",
        ),
        (
            "remove a.#c set a[1] = #d",
            NAMES,
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or"
            " rewrite one of these paths; path one: [a, c], path two: [a, [1]]",
        ),
        # an unknown function beats a repeated section; a repeated section beats undefined names
        (
            "set #x = if_not_exist(:c) set c = d",
            None,
            "Invalid UpdateExpression: Invalid function name; function: if_not_exist",
        ),
        (
            "set a = #x set c = :d",
            None,
            'Invalid UpdateExpression: The "SET" section can only be used once in an update'
            " expression;",
        ),
        (
            " set #x = :c set abOrt = b ",
            None,
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: abOrt",
        ),
        (
            "set a = if_not_exists(if_not_exists(a, b), c)",
            None,
            "Invalid UpdateExpression: Operator or function requires a document path; operator or"
            " function: if_not_exists",
        ),
    ],
)
def test_update_error_priorities(text: str, names: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_update(text, ExpressionAttributes(names, None))
    assert info.value.message == message


@pytest.mark.parametrize(
    "text",
    [
        "whatever",
        "set a",
        "add a",
        "remove a = b",
        "delete a b",
        "set :a = b",
        "remove :a",
        "set a = b / c",
        "set a[1] = 1",
        "set a = b + c + d",
        "set (a = (b + c))",
        "SET",
    ],
)
def test_update_syntax_errors(text: str) -> None:
    with pytest.raises(ValidationError, match=r"^Invalid UpdateExpression: Syntax error; token: "):
        parse_update(text, ExpressionAttributes())


def test_sets_past_the_end_append_in_index_order() -> None:
    values = {":a": {"S": "a1"}, ":b": {"S": "a2"}, ":c": {"S": "a3"}, ":d": {"S": "a4"}}
    item = {"a": {"L": [{"S": "one"}]}}
    new = run("SET a[84] = :a, a[37] = :b, a[17] = :c, a[50] = :d", values, item=item)
    assert [v["S"] for v in new["a"]["L"]] == ["one", "a3", "a2", "a4", "a1"]


def test_set_and_remove_indexes_refer_to_original_positions() -> None:
    item = {"a": {"L": [{"N": str(n)} for n in (2, 3, 4, 5, 6, 7)]}}
    new = run("REMOVE a[1] SET a[3] = :v", {":v": {"N": "17"}}, item=item)
    assert [v["N"] for v in new["a"]["L"]] == ["2", "4", "17", "6", "7"]


@pytest.mark.parametrize(
    "text", ["REMOVE title.c", "REMOVE lst.c", "REMOVE absent.c", "REMOVE title[0]"]
)
def test_remove_under_missing_or_mistyped_parent_is_invalid(text: str) -> None:
    assert (
        error(text) == "The document path provided in the update expression is invalid for update"
    )


def test_remove_under_missing_parent_is_ignored_for_a_new_item() -> None:
    update = parse_update("REMOVE x.y, z[0]", ExpressionAttributes())
    assert apply_update({"pk": {"S": "k"}}, update, new_item=True) == {"pk": {"S": "k"}}


def test_targets_give_updated_new_and_touched_keys() -> None:
    from lambdamaker.engines.tables import project

    attrs = ExpressionAttributes({"#c": "count"}, {":n": {"N": "1"}})
    update = parse_update("ADD #c :n REMOVE title SET mp.leaf = :n", attrs)
    assert update.targets == [("count",), ("title",), ("mp", "leaf")]
    new = apply_update(copy.deepcopy(ITEM), update)
    assert project(new, update.targets) == {"count": {"N": "11"}, "mp": {"M": {"leaf": {"N": "1"}}}}
