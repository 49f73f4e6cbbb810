"""Payload templates: Parameters / ResultSelector / ItemSelector rendering."""

from __future__ import annotations

import copy

import pytest

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.templates import render

DATA = {"user": {"name": "ann", "tags": ["x", "y"]}, "n": 3, "f": 2.5, "list": [{"v": 1}, {"v": 2}]}
CONTEXT = {"Execution": {"Id": "arn:exec"}, "Map": {"Item": {"Index": 0, "Value": "A"}}}
VARIABLES = {"greeting": "hi", "limits": {"max": 9}}


def test_static_template_is_returned_as_is() -> None:
    template = {"a": 1, "b": [1, "two", None], "c": {"d": True}}
    assert render(template, DATA, CONTEXT, VARIABLES) == template


def test_dollar_keys_take_values_from_paths_and_lose_the_suffix() -> None:
    out = render({"who.$": "$.user.name", "count.$": "$.n", "all.$": "$"}, DATA, CONTEXT, VARIABLES)
    assert out == {"who": "ann", "count": 3, "all": DATA}


def test_context_and_variable_paths() -> None:
    template = {
        "id.$": "$$.Execution.Id",
        "item.$": "$$.Map.Item.Value",
        "g.$": "$greeting",
        "m.$": "$limits.max",
    }
    assert render(template, DATA, CONTEXT, VARIABLES) == {
        "id": "arn:exec",
        "item": "A",
        "g": "hi",
        "m": 9,
    }


def test_indefinite_paths_give_lists() -> None:
    assert render({"vs.$": "$.list[*].v"}, DATA, CONTEXT, VARIABLES) == {"vs": [1, 2]}


def test_nested_objects_and_arrays_are_templates_too() -> None:
    template = {
        "outer": {"inner.$": "$.n", "deep": [{"x.$": "$.f"}, "lit", [{"y.$": "$greeting"}]]}
    }
    out = render(template, DATA, CONTEXT, VARIABLES)
    assert out == {"outer": {"inner": 3, "deep": [{"x": 2.5}, "lit", [{"y": "hi"}]]}}


def test_path_like_strings_without_dollar_key_stay_literal() -> None:
    template = {"a": "$.n", "b": "$$.Execution.Id", "c": "States.Format('x')", "d": "$greeting"}
    assert render(template, DATA, CONTEXT, VARIABLES) == template


def test_numbers_keep_int_and_float() -> None:
    out = render({"i.$": "$.n", "f.$": "$.f"}, DATA, CONTEXT, VARIABLES)
    assert type(out["i"]) is int and type(out["f"]) is float


def test_intrinsic_functions_are_evaluated() -> None:
    template = {
        "msg.$": "States.Format('Hello {} ({})', $.user.name, $greeting)",
        "len.$": "States.ArrayLength($.user.tags)",
        "nested.$": "States.JsonToString(States.Array($.n, $$.Map.Item.Index))",
    }
    out = render(template, DATA, CONTEXT, VARIABLES)
    assert out == {"msg": "Hello ann (hi)", "len": 2, "nested": "[3,0]"}


def test_render_never_mutates_template_or_data() -> None:
    template = {"a.$": "$.user", "b": {"c.$": "$.list"}}
    data = copy.deepcopy(DATA)
    before_t, before_d = copy.deepcopy(template), copy.deepcopy(data)
    out = render(template, data, CONTEXT, VARIABLES)
    out["b"]["new"] = 1
    assert template == before_t and data == before_d


def test_non_object_templates_render_recursively() -> None:
    assert render([{"a.$": "$.n"}, 1], DATA, CONTEXT, VARIABLES) == [{"a": 3}, 1]
    assert render("text", DATA, CONTEXT, VARIABLES) == "text"
    assert render(None, DATA, CONTEXT, VARIABLES) is None


def test_missing_path_is_states_runtime_naming_the_field_and_input() -> None:
    with pytest.raises(StatesError) as info:
        render({"address.$": "$.application.address"}, {"flagged": False}, CONTEXT, VARIABLES)
    assert info.value.error == RUNTIME
    assert info.value.cause == (
        "The JSONPath '$.application.address' specified for the field 'address.$' "
        "could not be found in the input '{\"flagged\":false}'"
    )


def test_missing_path_in_a_nested_template_names_the_nested_key() -> None:
    with pytest.raises(StatesError) as info:
        render({"outer": [{"k.$": "$.nope"}]}, {"a": 1}, CONTEXT, VARIABLES, field="ResultSelector")
    assert "specified for the field 'k.$'" in info.value.cause


def test_missing_context_or_variable_path_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        render({"x.$": "$$.Map.Nope"}, {}, CONTEXT, VARIABLES)
    assert info.value.error == RUNTIME
    with pytest.raises(StatesError) as info:
        render({"x.$": "$undefinedVar"}, {}, CONTEXT, VARIABLES)
    assert info.value.error == RUNTIME


def test_missing_path_inside_an_intrinsic_is_a_runtime_error() -> None:
    with pytest.raises(StatesError) as info:
        render({"x.$": "States.Format('{}', $.nope)"}, {"a": 1}, CONTEXT, VARIABLES)
    assert info.value.error == RUNTIME
    assert "'$.nope' specified for the field 'x.$'" in info.value.cause


def test_a_non_string_dollar_value_is_a_runtime_error_not_a_crash() -> None:
    with pytest.raises(StatesError) as info:
        render({"x.$": 5}, {}, CONTEXT, VARIABLES)
    assert info.value.error == RUNTIME
