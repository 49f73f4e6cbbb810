"""Assign for JSONPath states and variable scopes."""

from __future__ import annotations

import collections
import copy

import pytest

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.variables import branch_scope, evaluate_assign

CONTEXT = {"Execution": {"Id": "arn:exec"}}


def test_literals_and_paths_become_bindings() -> None:
    out = evaluate_assign(
        {
            "status": "OK",
            "n": 1,
            "f": 1.5,
            "obj": {"a": [1]},
            "fromInput.$": "$.x",
            "exec.$": "$$.Execution.Id",
        },
        {"x": 42},
        CONTEXT,
        {},
    )
    assert out == {
        "status": "OK",
        "n": 1,
        "f": 1.5,
        "obj": {"a": [1]},
        "fromInput": 42,
        "exec": "arn:exec",
    }


def test_an_empty_assign_binds_nothing() -> None:
    assert evaluate_assign({}, {"x": 1}, CONTEXT, {"old": 1}) == {}


def test_every_binding_reads_the_old_variables() -> None:
    # x and y swap: each value is read before any of the new bindings applies.
    old = {"x": 1, "y": 2}
    out = evaluate_assign({"x.$": "$y", "y.$": "$x"}, {}, CONTEXT, old)
    assert out == {"x": 2, "y": 1}
    assert old == {"x": 1, "y": 2}


def test_a_binding_cannot_see_a_sibling_assigned_in_the_same_state() -> None:
    with pytest.raises(StatesError) as info:
        evaluate_assign({"a": 1, "b.$": "$a"}, {}, CONTEXT, {})
    assert info.value.error == RUNTIME


def test_nested_templates_and_intrinsics_are_rendered() -> None:
    out = evaluate_assign(
        {"ops": {"sum.$": "States.MathAdd($.a, $bonus)", "items": [{"v.$": "$.a"}]}},
        {"a": 2},
        CONTEXT,
        {"bonus": 3},
    )
    assert out == {"ops": {"sum": 5, "items": [{"v": 2}]}}


def test_assign_never_mutates_its_arguments() -> None:
    assign = {"a.$": "$.obj", "b": {"c": 1}}
    data = {"obj": {"k": [1]}}
    before = copy.deepcopy((assign, data))
    out = evaluate_assign(assign, data, CONTEXT, {})
    out["b"]["c"] = 2
    assert (assign, data) == before


def test_a_missing_path_is_a_runtime_error_with_aws_cause() -> None:
    with pytest.raises(StatesError) as info:
        evaluate_assign({"v.$": "$.absent"}, {"x": 1}, CONTEXT, {})
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$.absent' specified for the field 'v.$' could not be found in the input '{\"x\":1}'"
    )


def test_branch_scope_reads_outer_and_writes_locally() -> None:
    outer = {"shared": 1}
    scope = branch_scope(outer)
    assert isinstance(scope, collections.ChainMap)
    assert scope["shared"] == 1
    scope.update({"local": 2})
    assert scope["local"] == 2
    assert outer == {"shared": 1}


def test_sibling_branches_do_not_see_each_other() -> None:
    outer = {"shared": 1}
    left, right = branch_scope(outer), branch_scope(outer)
    left["x"] = "left"
    assert "x" not in right
    assert "x" not in outer


def test_nested_scopes_layer_over_each_other() -> None:
    top = branch_scope({"a": 1})
    top["b"] = 2
    inner = branch_scope(top)
    inner["c"] = 3
    assert (inner["a"], inner["b"], inner["c"]) == (1, 2, 3)
    assert "c" not in top


def test_assign_inside_a_branch_reads_outer_variables() -> None:
    scope = branch_scope({"template": "It's {}!"})
    out = evaluate_assign(
        {"msg.$": "States.Format($template, $.name)"}, {"name": "Pikachu"}, CONTEXT, scope
    )
    assert out == {"msg": "It's Pikachu!"}
