"""TestState through boto3 against the server: one state run on its own, its status, next state
and inspection data, mocks, Retry/Catch judgement, and the requests AWS refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import ROLE, error_of, unique

LOOP = "arn:aws:states:::lambda:invoke"


@pytest.fixture(scope="module")
def sfn(boto_client: Callable[..., Any]) -> Any:
    # TestState's endpoint has a ``sync-`` host prefix: a local server has one host.
    return boto_client("stepfunctions", inject_host_prefix=False)


def run(sfn: Any, state: dict[str, Any], **params: Any) -> dict[str, Any]:
    if "input" in params and not isinstance(params["input"], str):
        params["input"] = json.dumps(params["input"])
    out: dict[str, Any] = sfn.test_state(definition=json.dumps(state), **params)
    out.pop("ResponseMetadata")
    return out


def inspected(out: dict[str, Any]) -> dict[str, Any]:
    """inspectionData with its JSON strings parsed."""
    data = out["inspectionData"]
    return {k: v if k == "errorDetails" else json.loads(v) for k, v in data.items()}


def refused(sfn: Any, state: dict[str, Any], **params: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        run(sfn, state, **params)
    return error_of(info)


# --- data flow --------------------------------------------------------------------------------


def test_pass_shows_each_step_of_its_jsonpath_data_flow(sfn: Any) -> None:
    state = {
        "Type": "Pass",
        "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "fixed": 1},
        "ResultPath": "$.summary",
        "Next": "Ship",
    }
    out = run(sfn, state, input={"order": {"id": "o-1"}, "other": 2}, inspectionLevel="DEBUG")
    assert out["status"] == "SUCCEEDED"
    assert out["nextState"] == "Ship"
    assert json.loads(out["output"]) == {
        "order": {"id": "o-1"},
        "other": 2,
        "summary": {"id": "o-1", "fixed": 1},
    }
    assert inspected(out) == {
        "input": {"order": {"id": "o-1"}, "other": 2},
        "afterInputPath": {"id": "o-1"},
        "afterParameters": {"id": "o-1", "fixed": 1},
        "afterResultSelector": {"id": "o-1", "fixed": 1},
        "afterResultPath": json.loads(out["output"]),
    }


def test_pass_with_a_result_shows_the_result_instead_of_its_input_processing(sfn: Any) -> None:
    out = run(
        sfn,
        {"Type": "Pass", "Result": {"k": "v"}, "ResultPath": "$.r", "End": True},
        input={"a": 1},
        inspectionLevel="TRACE",
    )
    assert "nextState" not in out
    assert inspected(out) == {
        "input": {"a": 1},
        "result": {"k": "v"},
        "afterResultSelector": {"k": "v"},
        "afterResultPath": {"a": 1, "r": {"k": "v"}},
    }


def test_info_level_reports_only_the_outcome(sfn: Any) -> None:
    out = run(sfn, {"Type": "Pass", "End": True}, input={"a": 1})
    assert out == {"status": "SUCCEEDED", "output": '{"a":1}'}


def test_choice_names_the_matching_rule_target_or_the_default(sfn: Any) -> None:
    state = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
        "Default": "Small",
    }
    assert run(sfn, state, input={"n": 11})["nextState"] == "Big"
    out = run(sfn, state, input={"n": 1}, inspectionLevel="DEBUG")
    assert out["nextState"] == "Small"
    assert inspected(out) == {"input": {"n": 1}, "afterInputPath": {"n": 1}}


def test_choice_without_a_match_or_default_fails(sfn: Any) -> None:
    state = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}],
    }
    out = run(sfn, state, input={"n": 2})
    assert out["status"] == "FAILED"
    assert out["error"] == "States.NoChoiceMatched"


def test_fail_state_reports_its_error_and_cause(sfn: Any) -> None:
    out = run(sfn, {"Type": "Fail", "Error": "Oops", "Cause": "because"})
    assert out == {"status": "FAILED", "error": "Oops", "cause": "because"}


def test_wait_state_returns_at_once(sfn: Any) -> None:
    out = run(sfn, {"Type": "Wait", "Seconds": 100000, "Next": "After"}, input={"x": 1})
    assert out == {"status": "SUCCEEDED", "output": '{"x":1}', "nextState": "After"}


def test_a_path_that_matches_nothing_fails_with_states_runtime(sfn: Any) -> None:
    out = run(sfn, {"Type": "Pass", "InputPath": "$.missing", "End": True}, input={"a": 1})
    assert out["status"] == "FAILED"
    assert out["error"] == "States.Runtime"
    assert "$.missing" in out["cause"]


def test_variables_are_in_scope_and_assignments_are_reported(sfn: Any) -> None:
    state = {
        "Type": "Pass",
        "Parameters": {"total.$": "$limit"},
        "Assign": {"seen.$": "$.total"},
        "End": True,
    }
    out = run(sfn, state, variables='{"limit": 7}', inspectionLevel="DEBUG")
    assert json.loads(out["output"]) == {"total": 7}
    assert inspected(out)["variables"] == {"limit": 7, "seen": 7}


def test_jsonata_state_reports_arguments_result_and_variables(sfn: Any) -> None:
    state = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": LOOP,
        "Arguments": {"FunctionName": "f", "Payload": {"n": "{% $states.input.n * 2 %}"}},
        "Assign": {"got": "{% $states.result.Payload %}"},
        "Output": "{% $states.result.Payload + $base %}",
        "End": True,
    }
    out = run(
        sfn,
        state,
        input={"n": 2},
        variables='{"base": 100}',
        mock={"result": json.dumps({"Payload": 4, "StatusCode": 200})},
        inspectionLevel="DEBUG",
    )
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == 104
    data = inspected(out)
    assert data["afterArguments"] == {"FunctionName": "f", "Payload": {"n": 4}}
    assert data["result"] == {"Payload": 4, "StatusCode": 200}
    assert data["variables"] == {"base": 100, "got": 4}


# --- mocks, Retry and Catch -------------------------------------------------------------------


TASK = {
    "Type": "Task",
    "Resource": LOOP,
    "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
    "Retry": [
        {"ErrorEquals": ["Other"], "MaxAttempts": 1},
        {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3},
    ],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handle"}],
    "Next": "Done",
}
SERVICE_ERROR = {"errorOutput": {"error": "Lambda.ServiceException", "cause": "down"}}


def test_mocked_result_flows_through_result_selector_and_result_path(sfn: Any) -> None:
    state = {
        "Type": "Task",
        "Resource": LOOP,
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "ResultSelector": {"body.$": "$.Payload.body"},
        "ResultPath": "$.res",
        "End": True,
    }
    result = {"Payload": {"body": "ok"}, "StatusCode": 200}
    out = run(
        sfn, state, input={"a": 1}, mock={"result": json.dumps(result)}, inspectionLevel="DEBUG"
    )
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"a": 1, "res": {"body": "ok"}}
    assert inspected(out) == {
        "input": {"a": 1},
        "afterInputPath": {"a": 1},
        "afterParameters": {"FunctionName": "f", "Payload": {"a": 1}},
        "result": result,
        "afterResultSelector": {"body": "ok"},
        "afterResultPath": {"a": 1, "res": {"body": "ok"}},
    }


def test_a_matching_retrier_with_attempts_left_is_retriable(sfn: Any) -> None:
    out = run(
        sfn,
        TASK,
        input={"d": 1},
        mock=SERVICE_ERROR,
        stateConfiguration={"retrierRetryCount": 1},
        inspectionLevel="DEBUG",
    )
    assert out["status"] == "RETRIABLE"
    assert (out["error"], out["cause"]) == ("Lambda.ServiceException", "down")
    assert "nextState" not in out
    assert out["inspectionData"]["errorDetails"] == {
        "retryIndex": 1,
        "retryBackoffIntervalSeconds": 4,
    }


def test_spent_retries_fall_through_to_the_catcher(sfn: Any) -> None:
    out = run(
        sfn,
        TASK,
        input={"d": 1},
        mock=SERVICE_ERROR,
        stateConfiguration={"retrierRetryCount": 3},
        inspectionLevel="DEBUG",
    )
    assert out["status"] == "CAUGHT_ERROR"
    assert out["nextState"] == "Handle"
    assert json.loads(out["output"]) == {
        "d": 1,
        "error": {"Error": "Lambda.ServiceException", "Cause": "down"},
    }
    assert out["inspectionData"]["errorDetails"] == {"catchIndex": 0}


def test_an_error_nothing_handles_fails(sfn: Any) -> None:
    state = {key: value for key, value in TASK.items() if key != "Catch"}
    out = run(sfn, state, mock={"errorOutput": {"error": "Custom", "cause": "c"}})
    assert out == {"status": "FAILED", "error": "Custom", "cause": "c"}


def test_mocked_wait_for_task_token_task_takes_the_mock_as_the_callback(sfn: Any) -> None:
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "End": True,
    }
    out = run(sfn, state, mock={"result": '{"approved": true}'})
    assert out == {"status": "SUCCEEDED", "output": '{"approved":true}'}


def test_mocked_map_runs_its_output_processing_on_the_mocked_results(sfn: Any) -> None:
    state = {
        "Type": "Map",
        "ItemsPath": "$.xs",
        "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        "ResultPath": "$.doubled",
        "End": True,
    }
    out = run(sfn, state, input={"xs": [1, 2]}, mock={"result": "[2, 4]"}, inspectionLevel="DEBUG")
    assert json.loads(out["output"]) == {"xs": [1, 2], "doubled": [2, 4]}
    data = inspected(out)
    assert data["afterItemsPath"] == [1, 2]
    assert data["result"] == [2, 4]


def test_context_overrides_members_of_the_context_object(sfn: Any) -> None:
    state = {
        "Type": "Task",
        "Resource": LOOP,
        "Parameters": {"FunctionName": "f", "Payload": {"run.$": "$$.Execution.Name"}},
        "End": True,
    }
    out = run(
        sfn,
        state,
        mock={"result": "{}"},
        context=json.dumps({"Execution": {"Name": "exec-7"}}),
        inspectionLevel="DEBUG",
    )
    assert inspected(out)["afterParameters"]["Payload"] == {"run": "exec-7"}


# --- whole machines and real integrations -----------------------------------------------------


def test_state_name_picks_a_state_out_of_a_whole_machine(sfn: Any) -> None:
    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Result": "b", "End": True},
        },
    }
    out = run(sfn, machine, stateName="B", input={})
    assert out == {"status": "SUCCEEDED", "output": '"b"'}
    code, status, _ = refused(sfn, machine, stateName="Nope")
    assert (code, status) == ("ValidationException", 400)


def test_an_unmocked_task_calls_the_real_service(sfn: Any, boto_client: Callable[..., Any]) -> None:
    sqs = boto_client("sqs")
    url = sqs.create_queue(QueueName=unique("ts"))["QueueUrl"]
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": url, "MessageBody.$": "$.body"},
        "ResultSelector": {"id.$": "$.MessageId"},
        "End": True,
    }
    out = run(sfn, state, input={"body": "hello"}, roleArn=ROLE)
    assert out["status"] == "SUCCEEDED"
    message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]
    assert message["Body"] == "hello"
    assert json.loads(out["output"]) == {"id": message["MessageId"]}


def test_an_unmocked_task_reports_the_services_error(sfn: Any) -> None:
    state = {
        "Type": "Task",
        "Resource": LOOP,
        "Parameters": {"FunctionName": "absent"},
        "End": True,
    }
    out = run(sfn, state, roleArn=ROLE)
    assert out["status"] == "FAILED"
    assert out["error"] == "Lambda.ResourceNotFoundException"


# --- refused requests -------------------------------------------------------------------------


def test_invalid_state_definitions_are_invalid_definition(sfn: Any) -> None:
    code, status, message = refused(sfn, {"Type": "Pass", "Next": "X", "End": True})
    assert (code, status) == ("InvalidDefinition", 400)
    assert message.startswith("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED")
    code, _, message = refused(sfn, {"Type": "Bogus"})
    assert code == "InvalidDefinition"
    assert "MISSING_END_STATE" not in message and "/Type" in message
    with pytest.raises(ClientError) as info:
        sfn.test_state(definition="{not json")
    assert error_of(info)[0] == "InvalidDefinition"


def test_bad_input_is_invalid_execution_input(sfn: Any) -> None:
    code, status, _ = refused(sfn, {"Type": "Pass", "End": True}, input="{bad")
    assert (code, status) == ("InvalidExecutionInput", 400)


@pytest.mark.parametrize(
    ("state", "params"),
    [
        (  # Map needs a mock
            {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                "End": True,
            },
            {},
        ),
        (  # so does a token-based Task
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"},
                "End": True,
            },
            {},
        ),
        ({"Type": "Pass", "End": True}, {"mock": {"result": "1"}}),  # a mock only for work
        ({"Type": "Task", "Resource": LOOP, "End": True}, {"context": "{}"}),  # context: mock
        (  # a mock is a result or an error, not both
            {"Type": "Task", "Resource": LOOP, "End": True},
            {"mock": {"result": "1", "errorOutput": {"error": "E"}}},
        ),
        ({"Type": "Task", "Resource": LOOP, "End": True}, {"mock": {"result": "{nope"}}),
    ],
)
def test_requests_aws_refuses_are_validation_errors(
    sfn: Any, state: dict[str, Any], params: dict[str, Any]
) -> None:
    code, status, _ = refused(sfn, state, **params)
    assert (code, status) == ("ValidationException", 400)


def test_a_malformed_role_arn_is_invalid_arn(sfn: Any) -> None:
    code, _, _ = refused(sfn, {"Type": "Pass", "End": True}, roleArn="not-an-arn")
    assert code == "InvalidArn"
