"""Optimized request-response integrations (SQS, SNS, DynamoDB, EventBridge) on an
in-process platform: AWS's result shapes, and refused calls named as AWS names them."""

from __future__ import annotations

import hashlib
import json

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
from lambdamaker.services.stepfunctions.integrations.metadata import pretty_xml

SEND = "arn:aws:states:::sqs:sendMessage"
PUBLISH = "arn:aws:states:::sns:publish"
PUT_EVENTS = "arn:aws:states:::events:putEvents"


def ddb(action: str) -> str:
    return f"arn:aws:states:::dynamodb:{action}"


@pytest.fixture(scope="module")
def queue(platform: Platform) -> str:  # noqa: F811
    return str(call(platform, "sqs", "CreateQueue", QueueName=unique("q"))["QueueUrl"])


@pytest.fixture(scope="module")
def table(platform: Platform) -> str:  # noqa: F811
    name = unique("table")
    call(
        platform,
        "dynamodb",
        "CreateTable",
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def receive_bodies(platform: Platform, url: str) -> list[str]:  # noqa: F811
    out = call(platform, "sqs", "ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10)
    return [m["Body"] for m in out.get("Messages", [])]


def test_send_message_answers_md5_and_message_id_with_http_metadata(
    platform: Platform,  # noqa: F811
    queue: str,
) -> None:
    result = run_task(registry_of(platform), SEND, {"QueueUrl": queue, "MessageBody": "hello"})
    assert result["MD5OfMessageBody"] == hashlib.md5(b"hello").hexdigest()
    assert result["MessageId"]
    headers = result["SdkHttpMetadata"]["HttpHeaders"]
    body = {"MD5OfMessageBody": result["MD5OfMessageBody"], "MessageId": result["MessageId"]}
    assert headers["Content-Length"] == str(len(json.dumps(body, separators=(",", ":"))))
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert receive_bodies(platform, queue) == ["hello"]


def test_send_message_sends_a_json_body_as_compact_text(
    platform: Platform,  # noqa: F811
    queue: str,
) -> None:
    body = {"Message": "m", "TaskToken": "token"}
    run_task(
        registry_of(platform), SEND + ".waitForTaskToken", {"QueueUrl": queue, "MessageBody": body}
    )
    assert receive_bodies(platform, queue) == ['{"Message":"m","TaskToken":"token"}']


def test_send_message_without_a_body_is_an_amazon_sqs_exception(
    platform: Platform,  # noqa: F811
    queue: str,
) -> None:
    with pytest.raises(StatesError) as caught:
        run_task(registry_of(platform), SEND, {"QueueUrl": queue, "MessageBody": None})
    assert caught.value.error == "SQS.AmazonSQSException"
    assert caught.value.cause.startswith(
        "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
        "Status Code: 400; Error Code: MissingParameter; Request ID: "
    )


def test_publish_answers_the_message_id_and_a_missing_topic_is_not_found(
    platform: Platform,  # noqa: F811
) -> None:
    topic = call(platform, "sns", "CreateTopic", Name=unique("topic"))["TopicArn"]
    registry = registry_of(platform)
    result = run_task(registry, PUBLISH, {"TopicArn": topic, "Message": {"k": "v"}})
    assert set(result) == {"MessageId", "SdkHttpMetadata", "SdkResponseMetadata"}
    headers = result["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Type"] == "text/xml"
    # The XML response AWS lays out two spaces a level: 294 bytes with two uuids in it.
    assert headers["Content-Length"] == "294"
    with pytest.raises(StatesError) as caught:
        run_task(registry, PUBLISH, {"TopicArn": topic + "-gone", "Message": "m"})
    assert caught.value.error == "SNS.NotFoundException"
    assert caught.value.cause.startswith(
        "Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound; "
    )


def test_put_get_update_delete_item(platform: Platform, table: str) -> None:  # noqa: F811
    registry = registry_of(platform)
    key = {"id": {"S": "id1"}}
    put = run_task(
        registry, ddb("putItem"), {"TableName": table, "Item": {**key, "data": {"S": "x"}}}
    )
    assert set(put) == {"SdkHttpMetadata", "SdkResponseMetadata"}
    assert put["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "2"
    got = run_task(registry, ddb("getItem"), {"TableName": table, "Key": key})
    assert got["Item"] == {"id": {"S": "id1"}, "data": {"S": "x"}}
    updated = run_task(
        registry,
        ddb("updateItem"),
        {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "SET #d = :v",
            "ExpressionAttributeNames": {"#d": "data"},
            "ExpressionAttributeValues": {":v": {"S": "y"}},
            "ReturnValues": "ALL_NEW",
        },
    )
    assert updated["Attributes"]["data"] == {"S": "y"}
    deleted = run_task(
        registry, ddb("deleteItem"), {"TableName": table, "Key": key, "ReturnValues": "ALL_OLD"}
    )
    assert deleted["Attributes"]["data"] == {"S": "y"}
    assert "Item" not in run_task(registry, ddb("getItem"), {"TableName": table, "Key": key})


def test_dynamodb_errors_use_the_sdk_v1_names(platform: Platform, table: str) -> None:  # noqa: F811
    registry = registry_of(platform)
    item = {"id": {"S": "id1"}}
    with pytest.raises(StatesError) as missing:
        run_task(registry, ddb("putItem"), {"TableName": table + "-gone", "Item": item})
    assert missing.value.error == "DynamoDB.ResourceNotFoundException"
    assert (
        "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ResourceNotFoundException;"
        in (missing.value.cause)
    )
    with pytest.raises(StatesError) as invalid:
        run_task(registry, ddb("putItem"), {"TableName": table, "Item": None})
    assert invalid.value.error == "DynamoDB.AmazonDynamoDBException"
    assert invalid.value.cause.startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
        "Member must not be null (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ValidationException;"
    )
    run_task(registry, ddb("putItem"), {"TableName": table, "Item": item})
    with pytest.raises(StatesError) as conditional:
        run_task(
            registry,
            ddb("putItem"),
            {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(id)"},
        )
    assert conditional.value.error == "DynamoDB.ConditionalCheckFailedException"


def test_dynamodb_has_no_callback_pattern(platform: Platform, table: str) -> None:  # noqa: F811
    with pytest.raises(StatesError) as caught:
        run_task(
            registry_of(platform),
            ddb("getItem") + ".waitForTaskToken",
            {"TableName": table, "Key": {"id": {"S": "x"}}},
        )
    assert caught.value.error == "States.Runtime"


def test_put_events_answers_entries_and_a_failed_entry_fails_the_task(
    platform: Platform,  # noqa: F811
) -> None:
    registry = registry_of(platform)
    entry = {"Detail": {"Message": "m"}, "DetailType": "t", "Source": "some.source"}
    result = run_task(registry, PUT_EVENTS, {"Entries": [entry, {**entry, "Detail": "{}"}]})
    assert result["FailedEntryCount"] == 0
    assert [set(e) for e in result["Entries"]] == [{"EventId"}, {"EventId"}]
    with pytest.raises(StatesError) as caught:
        run_task(
            registry, PUT_EVENTS, {"Entries": [entry, {"Detail": {"M": 1}, "DetailType": "t"}]}
        )
    assert caught.value.error == "EventBridge.FailedEntry"
    cause = json.loads(caught.value.cause)
    assert cause["FailedEntryCount"] == 1
    assert cause["Entries"][1]["ErrorCode"] == "InvalidArgument"


def test_query_xml_is_laid_out_one_element_a_line() -> None:
    compact = '<?xml version="1.0"?><A xmlns="x"><B><C>t</C><E/><F></F></B><R><I>1</I></R></A>'
    assert pretty_xml(compact) == (
        '<A xmlns="x">\n  <B>\n    <C>t</C>\n    <E/>\n    <F></F>\n  </B>\n  <R>\n'
        "    <I>1</I>\n  </R>\n</A>\n"
    )
