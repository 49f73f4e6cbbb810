"""``aws-sdk:<service>:<action>`` routed to this platform's providers, the S3 reads Map's
ItemReader uses, and how resources resolve in the registry."""

from __future__ import annotations

import hashlib

import pytest
from sfn_integration_support import (
    call,
    platform,  # noqa: F401 - the module's platform fixture
    registry_of,
    run_task,
    unique,
)

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.platform import Platform
from lambdamaker.services.stepfunctions.integrations.calls import (
    operation_model,
    to_json,
    to_params,
)

SDK = "arn:aws:states:::aws-sdk:"


@pytest.fixture(scope="module")
def bucket(platform: Platform) -> str:  # noqa: F811
    name = unique("bucket")
    call(platform, "s3", "CreateBucket", Bucket=name)
    return name


def test_put_object_sends_json_bodies_compact_and_get_object_reads_the_body_as_text(
    platform: Platform,  # noqa: F811
    bucket: str,
) -> None:
    registry = registry_of(platform)
    put = run_task(
        registry, SDK + "s3:putObject", {"Bucket": bucket, "Key": "k", "Body": {"Dict": "Value"}}
    )
    text = b'{"Dict":"Value"}'
    assert put["ETag"] == f'"{hashlib.md5(text).hexdigest()}"'
    assert put["ChecksumType"] == "FULL_OBJECT"
    assert "ChecksumCRC32" in put
    got = run_task(registry, SDK + "s3:getObject", {"Bucket": bucket, "Key": "k"})
    assert got["Body"] == text.decode()
    assert got["ContentLength"] == len(text)
    assert got["ETag"] == put["ETag"]
    assert isinstance(got["LastModified"], str)


def test_a_missing_key_is_s3_no_such_key_exception_with_the_sdk_v2_cause(
    platform: Platform,  # noqa: F811
    bucket: str,
) -> None:
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), SDK + "s3:getObject", {"Bucket": bucket, "Key": "nope"})
    assert caught.value.error == "S3.NoSuchKeyException"
    assert caught.value.cause.startswith(
        "The specified key does not exist. (Service: S3, Status Code: 404, Request ID: "
    )


def test_dynamodb_items_round_trip_and_errors_use_the_sdk_v2_names(
    platform: Platform,  # noqa: F811
) -> None:
    table = unique("sdk-table")
    registry = registry_of(platform)
    run_task(
        registry,
        SDK + "dynamodb:createTable",
        {
            "TableName": table,
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    item = {"id": {"S": "id1"}, "data": {"S": "HelloWorld"}}
    assert run_task(registry, SDK + "dynamodb:putItem", {"TableName": table, "Item": item}) == {}
    got = run_task(
        registry, SDK + "dynamodb:getItem", {"TableName": table, "Key": {"id": {"S": "id1"}}}
    )
    assert got == {"Item": item}
    with pytest.raises(StatesError) as missing:
        run_task(registry, SDK + "dynamodb:putItem", {"TableName": table + "-x", "Item": item})
    assert missing.value.error == "DynamoDb.ResourceNotFoundException"
    assert missing.value.cause.startswith(
        "Requested resource not found (Service: DynamoDb, Status Code: 400, Request ID: "
    )
    with pytest.raises(StatesError) as invalid:
        run_task(registry, SDK + "dynamodb:putItem", {"TableName": table, "Item": None})
    assert invalid.value.error == "DynamoDb.DynamoDbException"
    assert invalid.value.cause.startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
        "Member must not be null (Service: DynamoDb, "
    )


def test_member_names_are_matched_whatever_their_case(platform: Platform) -> None:  # noqa: F811
    registry = registry_of(platform)
    url = run_task(registry, SDK + "sqs:createQueue", {"queueName": unique("sdkq")})["QueueUrl"]
    sent = run_task(registry, SDK + "sqs:sendMessage", {"QueueUrl": url, "MessageBody": "x"})
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"x").hexdigest()


def test_services_and_operations_this_platform_lacks_fail_the_task_cleanly(
    platform: Platform,  # noqa: F811
) -> None:
    registry = registry_of(platform)
    with pytest.raises(StatesError) as service:
        run_task(registry, SDK + "secretsmanager:listSecrets", {})
    assert service.value.error == "SecretsManager.SecretsManagerException"
    with pytest.raises(StatesError) as operation:
        run_task(registry, SDK + "s3:noSuchAction", {})
    assert operation.value.error == "S3.S3Exception"
    with pytest.raises(StatesError) as unknown:
        run_task(registry, SDK + "nosuchservice:doIt", {})
    assert unknown.value.error == "States.Runtime"


def test_sdk_integrations_have_no_sync_pattern(platform: Platform) -> None:  # noqa: F811
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), SDK + "s3:listBuckets.sync", {})
    assert caught.value.error == "States.Runtime"


def test_resources_resolve_to_their_integrations(platform: Platform) -> None:  # noqa: F811
    registry = registry_of(platform)
    for base in (
        "arn:aws:states:::lambda:invoke",
        "arn:aws:lambda:us-east-1:000000000000:function:f",
        "arn:aws:states:::sqs:sendMessage",
        "arn:aws:states:::sns:publish",
        "arn:aws:states:::dynamodb:updateItem",
        "arn:aws:states:::events:putEvents",
        "arn:aws:states:::states:startExecution",
        "arn:aws:states:::aws-sdk:s3:getObject",
    ):
        assert registry.resolve(base) is not None, base
    assert registry.resolve("arn:aws:states:::glue:startJobRun") is None


def test_parameters_take_the_models_names_and_types() -> None:
    invoke = operation_model("lambda", "Invoke").input_shape
    assert to_params({"functionName": "f", "Payload": "true"}, invoke) == {
        "FunctionName": "f",
        "Payload": b"true",
    }
    assert to_params({"FunctionName": "f", "Payload": {"a": 1}}, invoke)["Payload"] == b'{"a":1}'
    put = operation_model("dynamodb", "PutItem").input_shape
    item = {"b": {"B": "aGk="}, "n": {"NULL": True}}
    assert to_params({"TableName": "t", "Item": item}, put)["Item"]["b"] == {"B": b"hi"}
    publish = operation_model("sns", "Publish").input_shape
    assert to_params({"Message": {"k": [1]}, "Subject": None}, publish) == {"Message": '{"k":[1]}'}
    described = operation_model("stepfunctions", "DescribeExecution").output_shape
    answer = to_json({"executionArn": "a", "inputDetails": {"included": True}}, described)
    assert answer == {"ExecutionArn": "a", "InputDetails": {"Included": True}}
