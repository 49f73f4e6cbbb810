"""Static validation of ASL definitions: one test per diagnostic kind, valid definitions pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdamaker.engines.workflows.validation import (
    Diagnostic,
    InvalidDefinition,
    diagnose,
    parse_valid,
)


def machine(states: dict[str, Any], start: str = "A", **top: Any) -> str:
    return json.dumps({"StartAt": start, "States": states, **top})


def errors(definition: str) -> list[tuple[str, str]]:
    return [(d.code, d.location) for d in diagnose(definition) if d.severity == "ERROR"]


def messages(definition: str) -> list[str]:
    return [d.message for d in diagnose(definition) if d.severity == "ERROR"]


PASS_END = {"Type": "Pass", "End": True}


# --- valid definitions -------------------------------------------------------------------------


def test_minimal_pass_machine_is_valid_and_parsed() -> None:
    text = machine({"A": PASS_END}, Comment="hi", Version="1.0", TimeoutSeconds=30)
    assert diagnose(text) == []
    assert parse_valid(text)["States"]["A"] == PASS_END


def test_every_state_type_in_a_valid_jsonpath_machine() -> None:
    states = {
        "A": {
            "Type": "Pass",
            "Parameters": {"x.$": "$.a", "f.$": "States.Format('{}', $.b)"},
            "Next": "T",
        },
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "TimeoutSeconds": 10,
            "HeartbeatSeconds": 5,
            "ResultSelector": {"p.$": "$.Payload"},
            "ResultPath": "$.r",
            "Retry": [
                {
                    "ErrorEquals": ["X"],
                    "IntervalSeconds": 1,
                    "BackoffRate": 1.5,
                    "JitterStrategy": "FULL",
                },
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 0},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "F"}],
            "Next": "C",
        },
        "C": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 1, "Next": "W"},
                {
                    "And": [
                        {"Variable": "$.s", "IsPresent": True},
                        {"Not": {"Variable": "$.s", "StringEquals": "x"}},
                    ],
                    "Next": "P",
                },
            ],
            "Default": "M",
        },
        "W": {"Type": "Wait", "SecondsPath": "$.secs", "Next": "P"},
        "P": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "B1", "States": {"B1": {"Type": "Succeed"}}}],
            "Next": "M",
        },
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"v.$": "$$.Map.Item.Value"},
            "MaxConcurrency": 2,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "I1",
                "States": {"I1": {"Type": "Pass", "End": True}},
            },
            "Next": "S",
        },
        "S": {"Type": "Succeed"},
        "F": {
            "Type": "Fail",
            "ErrorPath": "$.err.Error",
            "CausePath": "States.Format('c {}', $.x)",
        },
    }
    assert errors(machine(states)) == []


def test_valid_jsonata_machine() -> None:
    states = {
        "A": {
            "Type": "Pass",
            "Output": {"sum": "{% $states.input.a + 1 %}"},
            "Assign": {"total": "{% $states.input.a %}"},
            "Next": "C",
        },
        "C": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $total > 1 %}", "Next": "D"}],
            "Default": "D",
        },
        "D": {"Type": "Succeed", "Output": "{% $total %}"},
    }
    assert errors(machine(states, QueryLanguage="JSONata")) == []


# --- JSON and top level ------------------------------------------------------------------------


def test_invalid_json_is_invalid_json_description() -> None:
    [diagnostic] = diagnose('{"StartAt": "A", ')
    assert diagnostic.code == "INVALID_JSON_DESCRIPTION"
    assert diagnostic.severity == "ERROR"


def test_empty_definition_is_missing_description() -> None:
    assert [d.code for d in diagnose("   ")] == ["MISSING_DESCRIPTION"]


@pytest.mark.parametrize("text", ["[]", "1", "null", '"x"', "NaN", '{"a": Infinity}', "{" * 5000])
def test_diagnose_never_raises_on_odd_input(text: str) -> None:
    assert diagnose(text)
    with pytest.raises(InvalidDefinition):
        parse_valid(text)


def test_missing_start_at_and_unknown_top_level_field() -> None:
    text = json.dumps({"States": {"A": PASS_END}, "Bogus": 1})
    assert ("SCHEMA_VALIDATION_FAILED", "/") in errors(text)
    assert "Field 'Bogus' is not supported" in messages(text)
    assert "These fields are required: [StartAt]" in messages(text)


def test_start_at_naming_no_state_is_a_missing_target() -> None:
    text = machine({"A": PASS_END}, start="Nope")
    assert ("MISSING_TRANSITION_TARGET", "/StartAt") in errors(text)


def test_bad_top_level_query_language() -> None:
    text = machine({"A": PASS_END}, QueryLanguage="XPath")
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/QueryLanguage")]
    assert messages(text) == ["Value should be one of the following: [JSONPath, JSONata]"]


def test_top_level_timeout_must_be_positive_integer() -> None:
    assert errors(machine({"A": PASS_END}, TimeoutSeconds=0)) == [
        ("SCHEMA_VALIDATION_FAILED", "/TimeoutSeconds")
    ]


# --- transitions and graph ----------------------------------------------------------------------


def test_missing_next_target_has_awss_exact_message() -> None:
    text = machine({"A": {"Type": "Pass", "Next": "Nope"}, "B": PASS_END})
    with pytest.raises(InvalidDefinition) as caught:
        parse_valid(text)
    assert str(caught.value).startswith(
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /States/A/Next"
    )
    assert all(isinstance(d, Diagnostic) for d in caught.value.diagnostics)


def test_several_errors_are_joined_with_commas() -> None:
    text = machine({"A": {"Type": "Pass", "Next": "C"}, "B": PASS_END})
    with pytest.raises(InvalidDefinition) as caught:
        parse_valid(text)
    assert str(caught.value) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: C at "
        '/States/A/Next, MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B\''
    )


def test_unreachable_state() -> None:
    text = machine({"A": PASS_END, "B": PASS_END})
    assert errors(text) == [("MISSING_TRANSITION_TARGET", "/States/B")]
    assert messages(text) == ['State "B" is not reachable.']


def test_loop_without_exit_is_missing_end_state() -> None:
    text = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}})
    assert errors(text) == [("MISSING_END_STATE", "")]
    with pytest.raises(
        InvalidDefinition, match="MISSING_END_STATE: Workflow has no terminal state at null"
    ):
        parse_valid(text)


def test_state_needs_next_or_end_but_not_both() -> None:
    neither = machine({"A": {"Type": "Pass"}, "B": PASS_END}, start="A")
    assert ("SCHEMA_VALIDATION_FAILED", "/States/A") in errors(neither)
    both = machine({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": PASS_END})
    assert ("SCHEMA_VALIDATION_FAILED", "/States/A") in errors(both)


def test_catch_and_default_targets_count_as_transitions() -> None:
    states = {
        "A": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "End": True,
        },
        "Recover": PASS_END,
    }
    assert errors(machine(states)) == []
    missing = {"A": {**states["A"], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}}
    assert errors(machine(missing)) == [("MISSING_TRANSITION_TARGET", "/States/A/Catch[0]/Next")]


def test_duplicate_state_names_across_scopes_and_in_one_object() -> None:
    branch = {"StartAt": "A", "States": {"A": PASS_END}}
    text = machine({"A": {"Type": "Parallel", "Branches": [branch], "End": True}})
    assert errors(text) == [("DUPLICATE_STATE_NAME", "/States/A/Branches[0]/States/A")]
    raw = (
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Succeed"}}}'
    )
    assert ("DUPLICATE_STATE_NAME", "/States/A") in errors(raw)


def test_state_name_too_long() -> None:
    name = "x" * 81
    assert ("INVALID_STATE_NAME", f"/States/{name}") in errors(
        machine({name: PASS_END}, start=name)
    )


# --- state types and fields --------------------------------------------------------------------


def test_unknown_state_type() -> None:
    text = machine({"A": {"Type": "Sleep", "End": True}})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Type")]


def test_missing_type() -> None:
    assert messages(machine({"A": {"End": True}})) == ["These fields are required: [Type]"]


def test_field_not_supported_by_state_type() -> None:
    text = machine({"A": {"Type": "Pass", "Retry": [], "End": True}})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A")]
    assert messages(text) == ["Field 'Retry' is not supported"]


def test_jsonpath_fields_forbidden_in_jsonata_mode() -> None:
    text = machine(
        {"A": {"Type": "Pass", "ResultPath": "$.x", "End": True}}, QueryLanguage="JSONata"
    )
    assert messages(text) == [
        "The QueryLanguage is set to 'JSONata', but field 'ResultPath' is only supported for the 'JSONPath' QueryLanguage"
    ]


def test_jsonata_fields_forbidden_in_jsonpath_mode() -> None:
    text = machine({"A": {"Type": "Pass", "Output": {}, "End": True}})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A")]
    assert "field 'Output' is only supported for the 'JSONata' QueryLanguage" in messages(text)[0]


def test_state_cannot_go_back_to_jsonpath_under_jsonata_machine() -> None:
    text = machine(
        {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}}, QueryLanguage="JSONata"
    )
    assert messages(text) == [
        "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"
    ]


def test_state_may_opt_into_jsonata() -> None:
    text = machine(
        {"A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}", "End": True}}
    )
    assert errors(text) == []


def test_task_requires_a_valid_resource_arn() -> None:
    assert messages(machine({"A": {"Type": "Task", "End": True}})) == [
        "These fields are required: [Resource]"
    ]
    text = machine({"A": {"Type": "Task", "Resource": "not-an-arn", "End": True}})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Resource")]


def test_task_timeout_and_path_are_exclusive_and_heartbeat_below_timeout() -> None:
    base = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "End": True,
    }
    both = machine({"A": {**base, "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"}})
    assert errors(both) == [("SCHEMA_VALIDATION_FAILED", "/States/A")]
    heartbeat = machine({"A": {**base, "TimeoutSeconds": 5, "HeartbeatSeconds": 5}})
    assert errors(heartbeat) == [("SCHEMA_VALIDATION_FAILED", "/States/A/HeartbeatSeconds")]
    zero = machine({"A": {**base, "TimeoutSeconds": 0}})
    assert errors(zero) == [("SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSeconds")]


def test_wait_needs_exactly_one_duration_field() -> None:
    none = machine({"A": {"Type": "Wait", "End": True}})
    assert errors(none) == [("SCHEMA_VALIDATION_FAILED", "/States/A")]
    two = machine(
        {"A": {"Type": "Wait", "Seconds": 1, "Timestamp": "2024-01-01T00:00:00Z", "End": True}}
    )
    assert errors(two) == [("SCHEMA_VALIDATION_FAILED", "/States/A")]
    negative = machine({"A": {"Type": "Wait", "Seconds": -1, "End": True}})
    assert errors(negative) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Seconds")]
    bad_time = machine({"A": {"Type": "Wait", "Timestamp": "yesterday", "End": True}})
    assert errors(bad_time) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Timestamp")]


def test_fail_error_and_error_path_are_exclusive() -> None:
    text = machine(
        {"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e", "Cause": "c", "CausePath": "$.c"}}
    )
    assert messages(text) == [
        "A Fail state cannot include both field 'Error' and 'ErrorPath'",
        "A Fail state cannot include both field 'Cause' and 'CausePath'",
    ]


def test_fail_cause_path_must_be_a_path_or_intrinsic() -> None:
    text = machine({"A": {"Type": "Fail", "CausePath": "not a path"}})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A/CausePath")]


def test_parallel_needs_non_empty_branches_each_a_machine() -> None:
    empty = machine({"A": {"Type": "Parallel", "Branches": [], "End": True}})
    assert errors(empty) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Branches")]
    broken = {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}
    text = machine({"A": {"Type": "Parallel", "Branches": [broken], "End": True}})
    assert errors(text) == [("MISSING_TRANSITION_TARGET", "/States/A/Branches[0]/States/X/Next")]


def test_nested_machines_have_their_own_scope() -> None:
    # A branch may not jump to a state of the enclosing machine.
    branch = {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "B"}}}
    text = machine({"A": {"Type": "Parallel", "Branches": [branch], "Next": "B"}, "B": PASS_END})
    assert errors(text) == [("MISSING_TRANSITION_TARGET", "/States/A/Branches[0]/States/X/Next")]


def test_branch_unreachable_state_and_query_language_field() -> None:
    branch = {"StartAt": "X", "QueryLanguage": "JSONata", "States": {"X": PASS_END, "Y": PASS_END}}
    text = machine({"A": {"Type": "Parallel", "Branches": [branch], "End": True}})
    assert errors(text) == [
        ("SCHEMA_VALIDATION_FAILED", "/States/A/Branches[0]"),
        ("MISSING_TRANSITION_TARGET", "/States/A/Branches[0]/States/Y"),
    ]


def test_map_needs_a_processor_and_checks_its_config() -> None:
    assert messages(machine({"A": {"Type": "Map", "End": True}})) == [
        "These fields are required: [ItemProcessor]"
    ]
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"},
        "StartAt": "I",
        "States": {"I": PASS_END},
    }
    text = machine({"A": {"Type": "Map", "ItemProcessor": processor, "End": True}})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig")]
    processor["ProcessorConfig"] = {"Mode": "INLINE", "ExecutionType": "EXPRESS"}
    text = machine({"A": {"Type": "Map", "ItemProcessor": processor, "End": True}})
    assert messages(text) == ["Field 'ExecutionType' is not supported"]
    processor["ProcessorConfig"] = {"Mode": "SIDEWAYS"}
    text = machine({"A": {"Type": "Map", "ItemProcessor": processor, "End": True}})
    assert errors(text) == [
        ("SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig/Mode")
    ]


def test_map_iterator_legacy_form_is_valid() -> None:
    iterator = {"StartAt": "I", "States": {"I": PASS_END}}
    assert errors(machine({"A": {"Type": "Map", "Iterator": iterator, "End": True}})) == []


def test_map_tolerance_concurrency_label_reader_writer() -> None:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "I",
        "States": {"I": PASS_END},
    }
    good = {
        "Type": "Map",
        "ItemProcessor": processor,
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket": "b", "Key": "k"},
        },
        "ItemBatcher": {"MaxItemsPerBatch": 10},
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "b", "Prefix": "p"},
        },
        "ToleratedFailurePercentage": 5,
        "Label": "MyMap",
        "End": True,
    }
    assert errors(machine({"A": good})) == []
    bad = {
        **good,
        "ToleratedFailurePercentage": 101,
        "MaxConcurrency": -1,
        "Label": "has space",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:putObject",
            "ReaderConfig": {"InputType": "XML"},
        },
    }
    assert errors(machine({"A": bad})) == [
        ("SCHEMA_VALIDATION_FAILED", "/States/A/MaxConcurrency"),
        ("SCHEMA_VALIDATION_FAILED", "/States/A/ToleratedFailurePercentage"),
        ("INVALID_LABEL_NAME", "/States/A/Label"),
        ("SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/Resource"),
        ("SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig/InputType"),
    ]


# --- Retry / Catch -----------------------------------------------------------------------------


def _task(**fields: Any) -> str:
    base = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, **fields}
    return machine({"A": base, "H": PASS_END} if "Catch" in fields else {"A": base})


def test_states_all_must_be_alone_and_last() -> None:
    not_alone = _task(Retry=[{"ErrorEquals": ["States.ALL", "X"]}])
    assert errors(not_alone) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/ErrorEquals")]
    not_last = _task(
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "H"}, {"ErrorEquals": ["X"], "Next": "H"}]
    )
    assert errors(not_last) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Catch[0]/ErrorEquals")]


def test_retrier_numbers_and_jitter() -> None:
    text = _task(
        Retry=[
            {
                "ErrorEquals": ["X"],
                "IntervalSeconds": 0,
                "MaxAttempts": -1,
                "BackoffRate": 0.5,
                "MaxDelaySeconds": 0,
                "JitterStrategy": "SOME",
            }
        ]
    )
    assert [loc for _, loc in errors(text)] == [
        "/States/A/Retry[0]/IntervalSeconds",
        "/States/A/Retry[0]/MaxAttempts",
        "/States/A/Retry[0]/MaxDelaySeconds",
        "/States/A/Retry[0]/BackoffRate",
        "/States/A/Retry[0]/JitterStrategy",
    ]


def test_retrier_and_catcher_required_fields() -> None:
    assert messages(_task(Retry=[{}])) == ["These fields are required: [ErrorEquals]"]
    found = messages(_task(Catch=[{"ErrorEquals": []}]))
    assert "These fields are required: [Next]" in found
    assert "Value cannot be empty" in found


# --- Choice rules ------------------------------------------------------------------------------


def _choice(*rules: Any, **fields: Any) -> str:
    return machine(
        {"C": {"Type": "Choice", "Choices": list(rules), **fields}, "B": {"Type": "Succeed"}},
        start="C",
    )


def test_choice_rule_needs_exactly_one_comparator() -> None:
    none = _choice({"Variable": "$.x", "Next": "B"})
    assert errors(none) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]")]
    two = _choice({"Variable": "$.x", "StringEquals": "a", "IsNull": True, "Next": "B"})
    assert errors(two) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]")]


def test_choice_comparator_value_types() -> None:
    text = _choice({"Variable": "$.x", "NumericEquals": "1", "Next": "B"})
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]/NumericEquals")]
    path = _choice({"Variable": "$.x", "StringEqualsPath": "nope", "Next": "B"})
    assert errors(path) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]/StringEqualsPath")]


def test_choice_top_rule_needs_next_and_nested_rules_must_not_have_it() -> None:
    assert "These fields are required: [Next]" in messages(
        _choice({"Variable": "$.x", "IsNull": True})
    )
    nested = _choice({"Or": [{"Variable": "$.x", "IsNull": True, "Next": "B"}], "Next": "B"})
    assert errors(nested) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]/Or[0]")]
    assert messages(nested) == ["Field 'Next' is not supported"]


def test_choice_and_or_need_operands_and_not_needs_a_rule() -> None:
    empty = _choice({"And": [], "Next": "B"})
    assert errors(empty) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]/And")]
    bad_not = _choice({"Not": [], "Next": "B"})
    assert errors(bad_not) == [("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]/Not")]


def test_choice_needs_non_empty_choices_and_default_target() -> None:
    assert errors(_choice()) == [
        ("SCHEMA_VALIDATION_FAILED", "/States/C/Choices"),
        ("MISSING_TRANSITION_TARGET", "/States/B"),
    ]
    text = _choice({"Variable": "$.x", "IsNull": True, "Next": "B"}, Default="Nowhere")
    assert errors(text) == [("MISSING_TRANSITION_TARGET", "/States/C/Default")]


def test_jsonata_choice_uses_condition_only() -> None:
    text = machine(
        {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "B"}]},
            "B": {"Type": "Succeed"},
        },
        start="C",
        QueryLanguage="JSONata",
    )
    assert ("SCHEMA_VALIDATION_FAILED", "/States/C/Choices[0]") in errors(text)
    assert "These fields are required: [Condition]" in messages(text)


# --- paths, intrinsics, JSONata, Assign --------------------------------------------------------


def test_bad_paths_are_rejected_at_their_field() -> None:
    text = machine({"A": {"Type": "Pass", "InputPath": "a.b", "ResultPath": "$.a[*]", "End": True}})
    assert errors(text) == [
        ("SCHEMA_VALIDATION_FAILED", "/States/A/InputPath"),
        ("SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath"),
    ]


def test_null_paths_are_allowed() -> None:
    text = machine(
        {
            "A": {
                "Type": "Pass",
                "InputPath": None,
                "OutputPath": None,
                "ResultPath": None,
                "End": True,
            }
        }
    )
    assert errors(text) == []


def test_template_dollar_keys_need_a_path_or_valid_intrinsic() -> None:
    text = machine(
        {
            "A": {
                "Type": "Pass",
                "Parameters": {"a.$": "nope", "n": {"b.$": "States.NoSuch(1)"}},
                "End": True,
            }
        }
    )
    assert errors(text) == [
        ("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$"),
        ("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/n/b.$"),
    ]
    assert (
        messages(text)[0]
        == "The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call"
    )


def test_intrinsic_names_and_syntax_are_checked_but_arity_fails_at_run_time() -> None:
    unknown = machine(
        {"A": {"Type": "Pass", "Parameters": {"a.$": "States.Teleport($.x)"}, "End": True}}
    )
    assert errors(unknown) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$")]
    unbalanced = machine(
        {"A": {"Type": "Pass", "Parameters": {"a.$": "States.Format('x', $.x"}, "End": True}}
    )
    assert errors(unbalanced) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$")]
    # AWS accepts a wrong argument count and fails the execution when the call runs.
    arity = machine(
        {"A": {"Type": "Pass", "Parameters": {"a.$": "States.ArrayPartition($.x)"}, "End": True}}
    )
    assert errors(arity) == []


def test_bad_jsonata_expression() -> None:
    text = machine(
        {"A": {"Type": "Pass", "Output": "{% 1 + %}", "End": True}}, QueryLanguage="JSONata"
    )
    assert errors(text) == [("INVALID_JSONATA_EXPRESSION", "/States/A/Output")]


def test_jsonata_error_is_reported_alone_in_the_create_message() -> None:
    text = machine(
        {"A": {"Type": "Pass", "Output": "{% 1 + %}", "End": True}}, QueryLanguage="JSONata"
    )
    with pytest.raises(InvalidDefinition) as caught:
        parse_valid(text)
    assert str(caught.value).startswith(
        "Invalid State Machine Definition: 'INVALID_JSONATA_EXPRESSION: "
    )
    assert str(caught.value).endswith(" at /States/A/Output'")


def test_unclosed_jsonata_string() -> None:
    text = machine(
        {"A": {"Type": "Pass", "Output": {"x": "{% 1"}, "End": True}}, QueryLanguage="JSONata"
    )
    assert errors(text) == [("SCHEMA_VALIDATION_FAILED", "/States/A/Output/x")]


def test_assign_variable_names() -> None:
    text = machine(
        {
            "A": {
                "Type": "Pass",
                "Assign": {"ok_1": 1, "1bad": 2, "states": 3, "x.$": "$.a"},
                "End": True,
            }
        }
    )
    assert errors(text) == [
        ("INVALID_VARIABLE_NAME", "/States/A/Assign/1bad"),
        ("RESERVED_VARIABLE_NAME", "/States/A/Assign/states"),
    ]


def test_variables_may_be_read_in_paths() -> None:
    text = machine(
        {
            "A": {
                "Type": "Map",
                "ItemsPath": "$list",
                "ItemProcessor": {"StartAt": "I", "States": {"I": PASS_END}},
                "End": True,
            }
        }
    )
    assert errors(text) == []


# --- warnings ----------------------------------------------------------------------------------


def test_warnings_do_not_block_creation() -> None:
    text = machine(
        {"A": {"Type": "Pass", "Parameters": {"a": "$.x"}, "Result": {"b.$": "$.y"}, "End": True}}
    )
    assert {d.code for d in diagnose(text)} == {"NO_DOLLAR", "PASS_RESULT_IS_STATIC"}
    assert all(d.severity == "WARNING" for d in diagnose(text))
    parse_valid(text)


def test_fail_error_that_looks_like_a_path_warns_no_path() -> None:
    text = machine({"A": {"Type": "Fail", "Error": "$.error"}})
    assert [(d.severity, d.code) for d in diagnose(text)] == [("WARNING", "NO_PATH")]


# --- Express -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Express state machine does not support '.waitForTaskToken' service integration",
        ),
        (
            "arn:aws:states:::states:startExecution.sync:2",
            "Express state machine does not support '.sync:2' service integration",
        ),
        (
            "arn:aws:states:us-east-1:000000000000:activity:a",
            "Express state machine does not support Activity ARN",
        ),
    ],
)
def test_express_rejects_activities_and_waiting_integrations(resource: str, message: str) -> None:
    text = machine({"A": {"Type": "Task", "Resource": resource, "End": True}})
    assert diagnose(text) == []
    [found] = diagnose(text, express=True)
    assert (found.code, found.message, found.location) == (
        "SCHEMA_VALIDATION_FAILED",
        message,
        "/States/A/Resource",
    )
    with pytest.raises(InvalidDefinition):
        parse_valid(text, express=True)
