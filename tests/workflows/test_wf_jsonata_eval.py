"""JSONata in ASL: {% %} strings, $states, templates, Assign order, results and error causes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lambdamaker.engines.workflows.errors import QUERY_EVALUATION_ERROR, StatesError
from lambdamaker.engines.workflows.jsonata_eval import (
    check,
    evaluate,
    evaluate_assign,
    is_expression,
    render,
)

STATES = {
    "input": {"name": "ann", "values": [1, 2, 3], "nothing": None, "price": 2.5, "one": [7]},
    "context": {"Execution": {"Name": "run-1"}},
}


def cause_of(call: Any) -> str:
    with pytest.raises(StatesError) as caught:
        call()
    assert caught.value.error == QUERY_EVALUATION_ERROR
    return caught.value.cause


# -- recognising expressions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $x %}", True),
        ("{%$x%}", True),
        (" {% $x %}", False),
        ("{% $x %} ", False),
        ("{% $x", False),
        ("plain", False),
        (42, False),
        (None, False),
        (["{% $x %}"], False),
    ],
)
def test_is_expression_needs_the_delimiters_at_both_ends(value: Any, expected: bool) -> None:
    assert is_expression(value) is expected


# -- evaluation -------------------------------------------------------------------------------


def test_states_input_and_context_are_bound() -> None:
    assert evaluate("$states.input.name", STATES, {}, field="Output") == "ann"
    assert evaluate("$states.context.Execution.Name", STATES, {}, field="Output") == "run-1"


def test_variables_are_bound_by_name() -> None:
    assert evaluate("$sum($states.input.values) + $k", STATES, {"k": 1}, field="Output") == 7


def test_a_null_variable_and_a_null_field_are_json_null_not_undefined() -> None:
    assert evaluate("$v", STATES, {"v": None}, field="Output") is None
    assert evaluate("$states.input.nothing", STATES, {}, field="Output") is None
    assert evaluate("$exists($states.input.nothing)", STATES, {}, field="Output") is True


def test_integral_results_are_ints_and_fractions_stay_floats() -> None:
    assert evaluate("$sum([1.5, 1.5])", STATES, {}, field="Output") == 3
    assert isinstance(evaluate("$sum([1.5, 1.5])", STATES, {}, field="Output"), int)
    assert isinstance(evaluate("6 / 3", STATES, {}, field="Output"), int)
    assert evaluate("$states.input.price * 2", STATES, {}, field="Output") == 5
    assert evaluate("$states.input.price", STATES, {}, field="Output") == 2.5


def test_arrays_from_the_input_keep_their_shape() -> None:
    assert evaluate("$states.input.one", STATES, {}, field="Output") == [7]
    assert evaluate("$states.input.values[1]", STATES, {}, field="Output") == 2


def test_regular_expressions_and_escapes_work() -> None:
    assert evaluate("$contains('hello$world', /^hello\\$/)", {}, {}, field="Condition") is True
    assert evaluate("$contains('hello$world', /^hello\\ /)", {}, {}, field="Condition") is False


def test_now_and_millis_are_one_instant_within_an_evaluation() -> None:
    assert evaluate("$now() = $now() and $millis() = $millis()", {}, {}, field="Output") is True
    stamp = evaluate("$now()", {}, {}, field="Output")
    assert stamp.endswith("Z") and "T" in stamp


def test_the_inputs_are_not_mutated() -> None:
    states = copy.deepcopy(STATES)
    variables = {"list": [3, 1, 2]}
    evaluate("$sort($list)", states, variables, field="Output")
    evaluate("$merge([$states.input, {'name': 'bob'}])", states, variables, field="Output")
    assert states == STATES and variables == {"list": [3, 1, 2]}


# -- failures and their causes ----------------------------------------------------------------


def test_an_undefined_result_fails_naming_the_expression_and_the_field() -> None:
    cause = cause_of(lambda: evaluate(" $doesNotExist ", STATES, {}, field="Arguments"))
    assert cause == (
        "The JSONata expression '$doesNotExist' specified for the field 'Arguments' "
        "returned nothing (undefined)."
    )


def test_a_function_result_is_an_unsupported_type() -> None:
    cause = cause_of(lambda: evaluate("$fn := function($x){$x}", {}, {}, field="Items"))
    assert cause == (
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' "
        "returned an unsupported result type."
    )


@pytest.mark.parametrize(
    ("expression", "variables", "shown"),
    [
        ("1", {}, "'number' for value: 1"),
        ("true", {}, "'boolean' for value: true"),
        ("null", {}, "'null' for value: null"),
        ("$v", {"v": "string"}, "'string' for value: \"string\""),
        ("$v", {"v": {"foo": "bar"}}, '\'object\' for value: {"foo":"bar"}'),
    ],
)
def test_an_unexpected_result_type_fails_with_the_value(
    expression: str, variables: dict[str, Any], shown: str
) -> None:
    cause = cause_of(lambda: evaluate(expression, {}, variables, field="Items", expected="array"))
    assert cause == (
        f"The JSONata expression '{expression}' specified for the field 'Items' returned an "
        f"unexpected result type. Expected 'array', but was {shown}"
    )


def test_the_expected_type_passes_when_it_matches() -> None:
    assert evaluate("[]", {}, {}, field="Items", expected="array") == []


@pytest.mark.parametrize(
    ("expression", "tail"),
    [
        ("'a' + 1", 'T2001: The left side of the "+" operator must evaluate to a number'),
        ("1 - 'a'", 'T2002: The right side of the "-" operator must evaluate to a number'),
        ("$sum(['a'])", 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
        ("$abs('x')", 'T0410: Argument 1 of function "abs" does not match function signature'),
        ("$nope()", "T1006: Attempted to invoke a non-function"),
        ("$sqrt(-1)", "D3060: The sqrt function cannot be applied to a negative number: -1"),
        ("1 / 0", "D1001: Number out of range"),
    ],
)
def test_an_evaluation_error_gives_the_jsonata_code_and_message(expression: str, tail: str) -> None:
    cause = cause_of(lambda: evaluate(expression, {}, {}, field="Output"))
    assert cause == (
        f"The JSONata expression '{expression}' specified for the field 'Output' threw an "
        f"error during evaluation. {tail}"
    )


# -- templates --------------------------------------------------------------------------------


def test_render_evaluates_every_expression_in_nested_objects_and_arrays() -> None:
    template = {
        "who": "{% $states.input.name %}",
        "literal": "plain {% not at the start",
        "number": 3,
        "nested": {"list": ["{% $k %}", 2, {"deep": "{% $count($states.input.values) %}"}]},
        "none": None,
    }
    assert render(template, STATES, {"k": "v"}, field="Output") == {
        "who": "ann",
        "literal": "plain {% not at the start",
        "number": 3,
        "nested": {"list": ["v", 2, {"deep": 3}]},
        "none": None,
    }


def test_render_of_a_whole_field_expression_evaluates_it_once() -> None:
    assert render("{% $states.input.values %}", STATES, {}, field="Output") == [1, 2, 3]
    assert render([1, "x"], STATES, {}, field="Output") == [1, "x"]


def test_render_copies_literal_containers() -> None:
    template: dict[str, Any] = {"a": {"b": [1]}}
    result = render(template, STATES, {}, field="Output")
    result["a"]["b"].append(2)
    assert template == {"a": {"b": [1]}}


def test_render_names_the_failing_position_with_keys_and_indexes() -> None:
    template = {"result": {"items": [1, {"x": "{% $missing %}"}]}}
    cause = cause_of(lambda: render(template, STATES, {}, field="Output"))
    assert cause == (
        "The JSONata expression '$missing' specified for the field "
        "'Output/result/items[1]/x' returned nothing (undefined)."
    )


# -- Assign -----------------------------------------------------------------------------------


def test_assign_evaluates_every_value_against_the_old_variables() -> None:
    new = evaluate_assign(
        {"theAnswer": 18, "oldAnswer": "{% $theAnswer %}", "sum": "{% $theAnswer + 1 %}"},
        STATES,
        {"theAnswer": 42},
    )
    assert new == {"theAnswer": 18, "oldAnswer": 42, "sum": 43}


def test_assign_renders_nested_templates_and_reads_states() -> None:
    new = evaluate_assign({"v": {"n": "{% $states.input.name %}", "l": [1]}}, STATES, {})
    assert new == {"v": {"n": "ann", "l": [1]}}


def test_assign_failure_names_the_variable() -> None:
    cause = cause_of(lambda: evaluate_assign({"x": "{% $nope %}"}, STATES, {}))
    assert "specified for the field 'Assign/x' returned nothing" in cause


def test_an_inner_binding_does_not_leak_into_the_variables() -> None:
    variables = {"a": 1}
    assert evaluate_assign({"b": "{% ($a := 5; $a) %}", "c": "{% $a %}"}, {}, variables) == {
        "b": 5,
        "c": 1,
    }
    assert variables == {"a": 1}


# -- definition-time check --------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "$states.input.a[b > 1]",
        "$states.input.(a + b)",
        "$map($states.input.values, function($v){ $v * 2 })",
        "$states.input.items.{'k': name}",
        "($x := 1; $x + 1)",
        "$partition($states.input.values, 2)",
    ],
)
def test_check_accepts_valid_expressions(expression: str) -> None:
    check(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 +", "Unexpected end of expression"),
        ("a[1,2)", 'Expected "]", got ","'),
        ("{'a':}", 'The symbol "}" cannot be used as a unary operator'),
        ("'unterminated", "String literal must be terminated by a matching quote"),
        ("$match('a', /abc", "No terminating / in regular expression"),
    ],
)
def test_check_rejects_a_syntax_error(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check(expression)
    assert str(caught.value) == message
    assert getattr(caught.value, "code", None) == "INVALID_JSONATA_EXPRESSION"


@pytest.mark.parametrize(
    ("expression", "reference"),
    [
        ("phone", "phone"),
        ("a.b", "a"),
        ("$", "$"),
        ("$$", "$$"),
        ("{'k': v}", "v"),
        ("x ? 1 : 2", "x"),
        ("$count(items)", "items"),
    ],
)
def test_check_rejects_a_top_level_reference(expression: str, reference: str) -> None:
    with pytest.raises(ValueError) as caught:
        check(expression)
    assert getattr(caught.value, "code", None) == "UNSUPPORTED_JSONATA_EXPRESSION"
    assert str(caught.value) == f"Reference to '{reference}' at the top level is not supported."


def test_render_uses_one_instant_for_every_expression_in_the_template() -> None:
    result = render({"a": "{% $millis() %}", "b": ["{% $millis() %}"]}, {}, {}, field="Output")
    assert result["a"] == result["b"][0]


def test_runaway_recursion_fails_with_the_stack_overflow_error() -> None:
    expression = "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))"
    cause = cause_of(lambda: evaluate(expression, {}, {}, field="Output"))
    assert cause.endswith(
        "D1011: Stack overflow error: Check for non-terminating recursive function.  "
        "Consider rewriting as tail-recursive."
    )
    assert evaluate(expression.replace("100000", "100"), {}, {}, field="Output") == 100


def test_evaluation_is_safe_from_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def job(n: int) -> Any:
        return evaluate(
            "$map($states.input, function($v){ $v * 2 })", {"input": [n, n]}, {}, field="Output"
        )

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(job, range(200)))
    assert results == [[2 * n, 2 * n] for n in range(200)]
