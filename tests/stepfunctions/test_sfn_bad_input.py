"""The issue's bad inputs, each through boto3: rejected with AWS's error, nothing created, never
a crash. Definitions: invalid JSON, an unknown state type, a missing Next/End, an unreachable
state, a bad JSONPath, a bad JSONata expression. Executions: oversized input (256 KiB), invalid
JSON input, an intrinsic called with the wrong number of arguments (a run-time
``States.Runtime``, as AWS accepts the definition), a Task that fails, times out or names a
function that does not exist (the execution fails cleanly)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import ROLE, create, error_of, unique, wait_done


def machine(**states: dict[str, Any]) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


BAD_DEFINITIONS = {
    "invalid json": ('{"StartAt": ', "INVALID_JSON_DESCRIPTION"),
    "unknown state type": (
        machine(A={"Type": "Teleport", "End": True}),
        "SCHEMA_VALIDATION_FAILED",
    ),
    "missing next and end": (machine(A={"Type": "Pass"}), ""),
    "missing next target": (
        machine(A={"Type": "Pass", "Next": "Nowhere"}),
        "MISSING_TRANSITION_TARGET",
    ),
    "unreachable state": (
        machine(A={"Type": "Pass", "End": True}, B={"Type": "Pass", "End": True}),
        "MISSING_TRANSITION_TARGET",
    ),
    "bad jsonpath": (machine(A={"Type": "Pass", "InputPath": "not a path", "End": True}), ""),
    "bad jsonata": (
        json.dumps(
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Output": "{% $states.input.( %}", "End": True}},
            }
        ),
        "INVALID_JSONATA_EXPRESSION",
    ),
}


@pytest.mark.parametrize("case", list(BAD_DEFINITIONS), ids=list(BAD_DEFINITIONS))
def test_bad_definitions_are_invalid_definition_and_create_nothing(sfn: Any, case: str) -> None:
    text, code_in_message = BAD_DEFINITIONS[case]
    name = unique("bad")
    with pytest.raises(ClientError) as info:
        sfn.create_state_machine(name=name, definition=text, roleArn=ROLE)
    code, status, message = error_of(info)
    assert (code, status) == ("InvalidDefinition", 400)
    assert code_in_message in message
    assert name not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    result = sfn.validate_state_machine_definition(definition=text)
    assert result["result"] == "FAIL"
    assert result["diagnostics"] and all(d["severity"] for d in result["diagnostics"])


def test_oversized_and_invalid_input_are_rejected_and_start_nothing(sfn: Any) -> None:
    arn = create(sfn, definition=machine(A={"Type": "Pass", "End": True}))
    big = json.dumps({"blob": "x" * (256 * 1024)})
    for text in (big, "{not json"):
        with pytest.raises(ClientError) as info:
            sfn.start_execution(stateMachineArn=arn, input=text)
        code, status, _ = error_of(info)
        assert status == 400 and code in {"InvalidExecutionInput", "ValidationException"}
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_intrinsic_arity_error_fails_the_execution_with_states_runtime(sfn: Any) -> None:
    definition = machine(A={"Type": "Pass", "Parameters": {"h.$": "States.Hash('x')"}, "End": True})
    arn = create(sfn, definition=definition)
    run = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    described = wait_done(sfn, run, timeout=60)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "States.Hash" in described["cause"]


def test_failing_timing_out_and_missing_tasks_fail_the_execution_cleanly(sfn: Any) -> None:
    missing = machine(
        A={
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "no-such-function-anywhere", "Payload": {}},
            "End": True,
        }
    )
    run = sfn.start_execution(stateMachineArn=create(sfn, definition=missing))["executionArn"]
    described = wait_done(sfn, run, timeout=60)
    assert (described["status"], described["error"]) == (
        "FAILED",
        "Lambda.ResourceNotFoundException",
    )

    timing_out = machine(
        A={
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": "http://127.0.0.1:1/000000000000/none",
                "MessageBody.$": "$$.Task.Token",
            },
            "TimeoutSeconds": 1,
            "End": True,
        }
    )
    run = sfn.start_execution(stateMachineArn=create(sfn, definition=timing_out))["executionArn"]
    described = wait_done(sfn, run, timeout=60)
    assert described["status"] == "FAILED"
    assert described["error"] in {
        "States.Timeout",
        "SQS.AmazonSQSException",
        "SQS.QueueDoesNotExistException",
    }
    history = sfn.get_execution_history(executionArn=run)["events"]
    assert history[-1]["type"] == "ExecutionFailed"
