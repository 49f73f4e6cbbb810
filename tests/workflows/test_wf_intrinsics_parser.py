"""Intrinsic calls: the parser, check()/check_arity(), is_intrinsic and path arguments."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.intrinsics import check, check_arity, evaluate, is_intrinsic
from lambdamaker.engines.workflows.intrinsics.parser import Call, Literal, PathArg, parse
from lambdamaker.engines.workflows.paths import PathError


def run(expression: str, data: Any = None, context: Any = None, variables: Any = None) -> Any:
    return evaluate(expression, data if data is not None else {}, context or {}, variables or {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Format('x')", True),
        ("States.UUID()", True),
        ("  States.Array ( 1 )", True),
        ("$.a", False),
        ("$$.Execution.Id", False),
        ("States", False),
        ("Format('x')", False),
    ],
)
def test_is_intrinsic_recognises_calls_only(text: str, expected: bool) -> None:
    assert is_intrinsic(text) is expected


def test_parser_builds_a_tree_of_literals_paths_and_nested_calls() -> None:
    tree = parse(
        "States.Format('a\\'b', 1, -2.5, 1e2, true, false, null, $.x[0], $$.Map.Item.Value, $v.y, States.UUID())"
    )
    assert tree == Call(
        "States.Format",
        (
            Literal("a'b", "a\\'b"),
            Literal(1),
            Literal(-2.5),
            Literal(100.0),
            Literal(True),
            Literal(False),
            Literal(None),
            PathArg("$.x[0]"),
            PathArg("$$.Map.Item.Value"),
            PathArg("$v.y"),
            Call("States.UUID", ()),
        ),
    )


def test_string_literals_take_only_aws_escapes() -> None:
    assert parse("States.Array('\\{\\}\\\\\\'')").args == (Literal("{}\\'", "\\{\\}\\\\\\'"),)
    with pytest.raises(ValueError, match="invalid escape"):
        check("States.Array('a\\nb')")
    with pytest.raises(ValueError, match="control character"):
        check("States.Array('a\nb')")


def test_whitespace_between_tokens_is_ignored() -> None:
    assert run(" States.MathAdd ( 1 ,\n 2 ) ") == 3


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format(",
        "States.Format('x'",
        "States.Format('x)",
        "States.Array(1,)",
        "States.Array(,1)",
        "States.Array(1 2)",
        "States.Array(1) extra",
        "States.Array(foo)",
        "States.Array(01)",
        "States.Array(1.)",
        "States.Array($.a[0)",
        "States.(1)",
        "Other.Array(1)",
        "",
    ],
)
def test_check_rejects_malformed_calls(expression: str) -> None:
    with pytest.raises(ValueError):
        check(expression)


def test_check_rejects_unknown_functions_even_nested() -> None:
    with pytest.raises(ValueError, match=r"Unsupported intrinsic function: States\.Nope"):
        check("States.Array(States.Nope(1))")


def test_check_accepts_every_known_function_with_any_argument_count() -> None:
    # AWS accepts a wrong count at CreateStateMachine and fails the execution instead.
    check("States.Hash()")
    check("States.Array(States.MathAdd(1, 2), States.StringSplit('a,b', ','), $.x, $$.y, $z)")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("States.Hash('a')", "States.Hash expects 2 argument(s) but received 1"),
        ("States.UUID(1)", "States.UUID expects 0 argument(s) but received 1"),
        ("States.Format()", "States.Format expects at least 1 argument(s) but received 0"),
        ("States.MathRandom(1)", "States.MathRandom expects 2 to 3 argument(s) but received 1"),
        ("States.Array(States.ArrayRange(1, 2))", "States.ArrayRange expects 3"),
    ],
)
def test_check_arity_names_the_call_and_counts(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_arity(expression)


def test_check_arity_accepts_correct_counts() -> None:
    check_arity("States.MathRandom(1, 2)")
    check_arity("States.MathRandom(1, 2, 3)")
    check_arity("States.Format('{} {}', 1, States.Array())")


def test_wrong_count_fails_at_run_time_with_aws_cause() -> None:
    with pytest.raises(StatesError) as info:
        run("States.Hash('hello')")
    assert (info.value.error, info.value.cause) == (RUNTIME, "Invalid arguments in States.Hash")


def test_unknown_function_and_syntax_error_at_run_time_are_states_errors() -> None:
    with pytest.raises(StatesError) as info:
        run("States.Nope()")
    assert info.value.error == RUNTIME
    with pytest.raises(StatesError):
        run("States.Array(")


def test_path_arguments_read_data_context_and_variables() -> None:
    data = {"a": {"b": [10, 20]}}
    context = {"Execution": {"Name": "run-1"}}
    variables = {"count": 3, "cfg": {"sep": "-"}}
    assert run(
        "States.Array($.a.b[1], $$.Execution.Name, $count, $cfg.sep, $)", data, context, variables
    ) == [
        20,
        "run-1",
        3,
        "-",
        data,
    ]


def test_missing_path_argument_raises_path_error_for_the_caller() -> None:
    with pytest.raises(PathError):
        run("States.Format('{}', $.missing)", {"a": 1})
    with pytest.raises(PathError):
        run("States.Format('{}', $undefinedVariable)")


def test_nested_calls_evaluate_inside_out() -> None:
    data = {"base": 0, "a": "x", "b": "y"}
    assert run(
        "States.ArrayRange(States.MathAdd($.base, 1), States.MathAdd($.base, 5), 2)", data
    ) == [1, 3, 5]
    assert run("States.StringSplit(States.Format('{}-{}', $.a, $.b), '-')", data) == ["x", "y"]
    assert run("States.Base64Decode(States.Base64Encode($.a))", data) == "x"
    assert run("States.ArrayLength(States.ArrayPartition(States.ArrayRange(1, 10, 1), 3))") == 4


def test_evaluation_does_not_mutate_the_input() -> None:
    data = {"a": {"x": 1}, "b": {"y": 2}, "arr": [3, 1, 3]}
    snapshot = repr(data)
    run("States.JsonMerge($.a, $.b, false)", data)
    run("States.ArrayUnique($.arr)", data)
    run("States.ArrayPartition($.arr, 2)", data)
    assert repr(data) == snapshot
