"""The Step Functions Local / LocalStack mock configuration (``MockConfigFile.json``): parsing
and checking, invocation ranges, and a registry answering mocked states from it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sfn_integration_support import (
    call,
    platform,  # noqa: F401 - the module's platform fixture
    registry_of,
    run_task,
    started_platform,
)

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.platform import Platform
from lambdamaker.services.stepfunctions.integrations import (
    MockConfig,
    MockConfigError,
    load_mock_test_case,
    split_test_case,
)
from lambdamaker.services.stepfunctions.integrations.mocking import mock_config_path
from lambdamaker.services.stepfunctions.integrations.states import describe_as_task_result

LAMBDA_OK = {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}
CONFIG: dict[str, Any] = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQS"},
                "RetryPath": {"LambdaState": "MockedLambdaRetry"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaSuccess": {"0": {"Return": LAMBDA_OK}},
        "MockedSQS": {"0": {"Return": {"MD5OfMessageBody": "md5", "MessageId": "id"}}},
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
            "3": {"Return": LAMBDA_OK},
        },
    },
}


def write_config(tmp_path: Path, config: Any) -> Path:
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(config))
    return path


def test_a_test_case_answers_by_invocation_range_and_counts_invocations() -> None:
    case = MockConfig(CONFIG).test_case("LambdaSQSIntegration", "RetryPath")
    answers = [case.next_response("LambdaState") for _ in range(5)]
    assert [a.error for a in answers] == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
        None,
        None,
    ]
    assert answers[3].result == LAMBDA_OK
    assert case.invocations("LambdaState") == 5
    assert case.mocks("LambdaState") and not case.mocks("SQSState")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([], "must be a JSON object"),
        ({"StateMachines": {}}, "'StateMachines' and 'MockedResponses'"),
        (
            {"StateMachines": {}, "MockedResponses": {"R": {"0": {"Return": 1, "Throw": {}}}}},
            "exactly one of 'Return' or 'Throw'",
        ),
        (
            {"StateMachines": {}, "MockedResponses": {"R": {"1": {"Return": 1}}}},
            "expected 0, found 1",
        ),
        (
            {
                "StateMachines": {},
                "MockedResponses": {"R": {"0": {"Return": 1}, "2": {"Return": 1}}},
            },
            "expected 1, found 2",
        ),
        (
            {"StateMachines": {}, "MockedResponses": {"R": {"zero": {"Return": 1}}}},
            "not an invocation number or range",
        ),
        (
            {"StateMachines": {}, "MockedResponses": {"R": {"0": {"Throw": {"Cause": "c"}}}}},
            "string 'Error'",
        ),
        (
            {
                "StateMachines": {"M": {"TestCases": {"T": {"S": "Missing"}}}},
                "MockedResponses": {},
            },
            "No definitions for mocked response 'Missing'",
        ),
    ],
)
def test_a_bad_configuration_is_refused_whole(config: Any, message: str) -> None:
    with pytest.raises(MockConfigError, match=message):
        MockConfig(config)


def test_the_file_comes_from_the_environment_and_an_unknown_test_case_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, CONFIG)
    assert mock_config_path({"LAMBDAMAKER_SFN_MOCK_CONFIG": "/b"}) == "/b"
    assert mock_config_path({"SFN_MOCK_CONFIG": "/a", "LAMBDAMAKER_SFN_MOCK_CONFIG": "/b"}) == "/a"
    monkeypatch.delenv("LAMBDAMAKER_SFN_MOCK_CONFIG", raising=False)
    monkeypatch.setenv("SFN_MOCK_CONFIG", str(path))
    case = load_mock_test_case("LambdaSQSIntegration", "HappyPath")
    assert case.mocks("SQSState")
    with pytest.raises(MockConfigError, match="No definitions for test case 'Nope'"):
        load_mock_test_case("LambdaSQSIntegration", "Nope")
    monkeypatch.delenv("SFN_MOCK_CONFIG")
    with pytest.raises(MockConfigError, match="no mock configuration file is set"):
        load_mock_test_case("LambdaSQSIntegration", "HappyPath")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(MockConfigError, match="Malformed JSON"):
        load_mock_test_case("M", "T", path=tmp_path / "bad.json")


def test_an_execution_arn_names_its_test_case_after_a_hash() -> None:
    arn = "arn:aws:states:us-east-1:000000000000:stateMachine:LambdaSQSIntegration"
    assert split_test_case(f"{arn}#HappyPath") == (arn, "HappyPath")
    assert split_test_case(arn) == (arn, None)


def test_a_mocked_registry_answers_mocked_states_and_calls_services_for_the_others(
    platform: Platform,  # noqa: F811
) -> None:
    case = MockConfig(CONFIG).test_case("LambdaSQSIntegration", "HappyPath")
    registry = registry_of(platform, case)
    invoke = "arn:aws:states:::lambda:invoke"
    # No such function exists: the mocked state never reaches Lambda.
    assert run_task(registry, invoke, {"FunctionName": "none"}, "LambdaState") == LAMBDA_OK
    function = "arn:aws:lambda:us-east-1:000000000000:function:none"
    assert run_task(registry, function, {}, "LambdaState") == LAMBDA_OK["Payload"]
    sqs = "arn:aws:states:::sqs:sendMessage"
    assert run_task(registry, sqs, {"QueueUrl": "q"}, "SQSState")["MessageId"] == "id"
    # A resource this platform does not integrate can be mocked too.
    assert run_task(registry, "arn:aws:states:::glue:startJobRun", {}, "SQSState") == {
        "MD5OfMessageBody": "md5",
        "MessageId": "id",
    }
    assert case.invocations("SQSState") == 2
    listed = run_task(registry, "arn:aws:states:::aws-sdk:s3:listBuckets", {}, "Other")
    assert "Buckets" in listed
    with pytest.raises(StatesError) as unmocked:
        run_task(registry, "arn:aws:states:::glue:startJobRun", {}, "Other")
    assert unmocked.value.error == "States.Runtime"


def test_a_mocked_throw_fails_the_task_with_its_error_and_cause(
    platform: Platform,  # noqa: F811
) -> None:
    case = MockConfig(CONFIG).test_case("LambdaSQSIntegration", "RetryPath")
    registry = registry_of(platform, case)
    with pytest.raises(StatesError) as caught:
        run_task(registry, "arn:aws:states:::lambda:invoke", {}, "LambdaState")
    assert (caught.value.error, caught.value.cause) == (
        "Lambda.ResourceNotReadyException",
        "not ready",
    )


def test_a_nested_execution_is_described_as_sync_and_sync2_return_it() -> None:
    started = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    description = {
        "executionArn": "arn:aws:states:us-east-1:000000000000:execution:m:n",
        "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:m",
        "name": "n",
        "status": "SUCCEEDED",
        "startDate": started,
        "stopDate": started,
        "input": "{}",
        "inputDetails": {"included": True},
        "output": '{"Arg1":"argument1"}',
        "outputDetails": {"included": True},
    }
    sync = describe_as_task_result(description, parse=False)
    assert sync["Output"] == '{"Arg1":"argument1"}'
    assert sync["InputDetails"] == {"Included": True}
    assert sync["StartDate"] == int(started.timestamp() * 1000)
    assert sync["ExecutionArn"] == description["executionArn"]
    sync2 = describe_as_task_result(description, parse=True)
    assert (sync2["Input"], sync2["Output"]) == ({}, {"Arg1": "argument1"})


@pytest.fixture()
def sfn_platform(tmp_path: Path) -> Iterator[Platform]:
    with started_platform(
        tmp_path / "data", ["iam", "sts", "logs", "sqs", "sns", "stepfunctions"]
    ) as p:
        yield p


def test_mocked_callback_tasks_complete_their_own_tokens(sfn_platform: Platform) -> None:
    config = MockConfig(
        {
            "StateMachines": {"m": {"TestCases": {"T": {"Wait": "Ok", "Publish": "Err"}}}},
            "MockedResponses": {
                "Ok": {"0": {"Return": {"done": 1}}},
                "Err": {"0": {"Throw": {"Error": "Oops", "Cause": "bad"}}},
            },
        }
    )
    runtime: Any = sfn_platform.providers["stepfunctions"].sfn_runtime
    runtime.registry_factory = lambda _case: registry_of(sfn_platform, config.test_case("m", "T"))
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": "no-such-queue", "MessageBody.$": "$$.Task.Token"},
                "ResultPath": "$.waited",
                "Next": "Publish",
            },
            "Publish": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"TopicArn": "no-such-topic", "Message.$": "$$.Task.Token"},
                "Catch": [{"ErrorEquals": ["Oops"], "ResultPath": "$.caught", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    machine = call(
        sfn_platform,
        "stepfunctions",
        "CreateStateMachine",
        name="m",
        roleArn="arn:aws:iam::000000000000:role/sfn-role",
        definition=json.dumps(definition),
    )["stateMachineArn"]
    execution = call(sfn_platform, "stepfunctions", "StartExecution", stateMachineArn=machine)
    provider: Any = sfn_platform.providers["stepfunctions"]
    described = asyncio.run(provider.await_execution(execution["executionArn"]))
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "waited": {"done": 1},
        "caught": {"Error": "Oops", "Cause": "bad"},
    }
