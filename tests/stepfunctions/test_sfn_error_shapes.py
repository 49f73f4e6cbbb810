"""What AWS's recordings show of Task errors and results, on an in-process platform: a missed
heartbeat fails with ``States.Timeout`` (Catch ``States.HeartbeatTimeout`` takes it), a
SendTaskFailure without error or cause reaches the Catch as ``null``, a ``.sync`` Task has a
task token that ends it early, DynamoDB checks a table name's pattern before looking it up,
S3 GetObject through ``aws-sdk`` always has ``Metadata``, and ``Sfn`` SDK errors end with the
SDK's attempt count."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sfn_integration_support import (
    call,
    create_machine,
    registry_of,
    run_task,
    started_platform,
    unique,
)

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform

SDK = "arn:aws:states:::aws-sdk:"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("sfn-error-shapes") / "data"
    services = ["iam", "sts", "logs", "s3", "sqs", "dynamodb", "stepfunctions"]
    with started_platform(data, services) as p:
        yield p


def start(platform: Platform, arn: str, data: Any) -> str:
    started = call(
        platform, "stepfunctions", "StartExecution", stateMachineArn=arn, input=json.dumps(data)
    )
    return str(started["executionArn"])


def finished(platform: Platform, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        out = call(platform, "stepfunctions", "DescribeExecution", executionArn=arn)
        if out["status"] != "RUNNING":
            return out
        assert time.monotonic() < deadline, "execution still running"
        time.sleep(0.02)


def token_from(platform: Platform, queue: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = call(platform, "sqs", "ReceiveMessage", QueueUrl=queue, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            return str(json.loads(message["Body"])["Token"])
    raise AssertionError("no task token arrived")


def callback_state(**extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl.$": "$.queue", "MessageBody": {"Token.$": "$$.Task.Token"}},
        "Catch": [{"ErrorEquals": extra.pop("catch"), "ResultPath": "$.err", "Next": "Caught"}],
        "End": True,
        **extra,
    }


def test_a_missed_heartbeat_is_states_timeout_caught_as_heartbeat_timeout(
    platform: Platform,
) -> None:
    queue = call(platform, "sqs", "CreateQueue", QueueName=unique("q"))["QueueUrl"]
    states = {
        "Wait": callback_state(HeartbeatSeconds=1, catch=["States.HeartbeatTimeout"]),
        "Caught": {"Type": "Pass", "End": True},
    }
    arn = start(platform, create_machine(platform, states, "Wait"), {"queue": queue})
    out = finished(platform, arn)
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"])["err"]["Error"] == "States.Timeout"
    history = call(platform, "stepfunctions", "GetExecutionHistory", executionArn=arn)
    timed_out = [e for e in history["events"] if e["type"] == "TaskTimedOut"]
    assert timed_out[0]["taskTimedOutEventDetails"]["error"] == "States.Timeout"


def test_a_failure_without_error_or_cause_is_caught_with_nulls(platform: Platform) -> None:
    queue = call(platform, "sqs", "CreateQueue", QueueName=unique("q"))["QueueUrl"]
    states = {"Wait": callback_state(catch=["States.ALL"]), "Caught": {"Type": "Pass", "End": True}}
    arn = start(platform, create_machine(platform, states, "Wait"), {"queue": queue})
    call(platform, "stepfunctions", "SendTaskFailure", taskToken=token_from(platform, queue))
    out = finished(platform, arn)
    assert json.loads(out["output"]) == {"queue": queue, "err": {"Error": None, "Cause": None}}


def test_a_sync_task_has_a_token_that_ends_it_early(platform: Platform) -> None:
    child = create_machine(platform, {"W": {"Type": "Wait", "Seconds": 600, "End": True}}, "W")
    parent_states = {
        "Run": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync",
            "Parameters": {"StateMachineArn": child, "Input": {"Token.$": "$$.Task.Token"}},
            "End": True,
        }
    }
    arn = start(platform, create_machine(platform, parent_states, "Run"), {})
    deadline = time.monotonic() + 30
    children: list[dict[str, Any]] = []
    while not children:
        assert time.monotonic() < deadline, "the child never started"
        children = call(platform, "stepfunctions", "ListExecutions", stateMachineArn=child)[
            "executions"
        ]
        time.sleep(0.02)
    described = call(
        platform, "stepfunctions", "DescribeExecution", executionArn=children[0]["executionArn"]
    )
    token = json.loads(described["input"])["Token"]
    call(platform, "stepfunctions", "SendTaskSuccess", taskToken=token, output='"early"')
    out = finished(platform, arn)
    assert (out["status"], out["output"]) == ("SUCCEEDED", '"early"')


def test_an_invalid_table_name_is_a_validation_error_before_any_lookup(
    platform: Platform,
) -> None:
    with pytest.raises(StatesError) as caught:
        run_task(
            registry_of(platform),
            "arn:aws:states:::dynamodb:putItem",
            {"TableName": "/not-a-name", "Item": {"id": {"S": "1"}}},
        )
    assert caught.value.error == "DynamoDB.AmazonDynamoDBException"
    assert caught.value.cause.startswith(
        "1 validation error detected: Value '/not-a-name' at 'tableName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ "
        "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException;"
    )
    with pytest.raises(ServiceError) as refused:
        call(platform, "dynamodb", "GetItem", TableName="ab", Key={"id": {"S": "1"}})
    assert refused.value.code == "ValidationException"
    assert "Member must have length greater than or equal to 3" in refused.value.message
    with pytest.raises(ServiceError) as missing:
        call(platform, "dynamodb", "GetItem", TableName="no-such-table", Key={"id": {"S": "1"}})
    assert missing.value.code == "ResourceNotFoundException"


def test_get_object_through_the_sdk_always_has_metadata(platform: Platform) -> None:
    bucket = unique("bucket")
    call(platform, "s3", "CreateBucket", Bucket=bucket)
    call(platform, "s3", "PutObject", Bucket=bucket, Key="plain", Body=b"x")
    call(platform, "s3", "PutObject", Bucket=bucket, Key="meta", Body=b"y", Metadata={"a": "b"})
    registry = registry_of(platform)
    plain = run_task(registry, SDK + "s3:getObject", {"Bucket": bucket, "Key": "plain"})
    assert (plain["Body"], plain["Metadata"]) == ("x", {})
    meta = run_task(registry, SDK + "s3:getObject", {"Bucket": bucket, "Key": "meta"})
    assert meta["Metadata"] == {"a": "b"}


def test_sfn_sdk_errors_end_with_the_attempt_count_and_dynamodb_ones_do_not(
    platform: Platform,
) -> None:
    registry = registry_of(platform)
    with pytest.raises(StatesError) as sfn_error:
        run_task(registry, SDK + "sfn:sendTaskSuccess", {"TaskToken": "nope", "Output": "{}"})
    assert sfn_error.value.error == "Sfn.InvalidTokenException"
    assert sfn_error.value.cause.endswith(") (SDK Attempt Count: 1)")
    with pytest.raises(StatesError) as ddb_error:
        run_task(registry, SDK + "dynamodb:getItem", {"TableName": "gone", "Key": {}})
    assert ddb_error.value.error == "DynamoDb.ResourceNotFoundException"
    assert "SDK Attempt Count" not in ddb_error.value.cause
