"""DynamoDB Streams end to end through an event source mapping: item changes reach a Lambda
function, in order, in Lambda's DynamoDB record shape (boto3 against the session's server)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from lambdamaker.testing import zip_source

HANDLER = """
import json, os
import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    sqs.send_message(QueueUrl=os.environ["SINK"], MessageBody=json.dumps(event))
"""


def test_item_changes_reach_the_function_in_order_as_lambda_shows_them(
    boto_client: Any,
) -> None:
    ddb, lam, sqs = boto_client("dynamodb"), boto_client("lambda"), boto_client("sqs")
    suffix = uuid.uuid4().hex[:8]
    sink = sqs.create_queue(QueueName=f"ddbsink-{suffix}")["QueueUrl"]
    name = f"ddbfn-{suffix}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": zip_source(HANDLER)},
        Environment={"Variables": {"SINK": sink}},
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    table = f"ddbesm-{suffix}"
    arn = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"N": "1"}})
    lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=arn, StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"id": {"S": "a"}})

    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while len(records) < 3 and time.monotonic() < deadline:
        out = sqs.receive_message(QueueUrl=sink, WaitTimeSeconds=1, MaxNumberOfMessages=10)
        for m in out.get("Messages", []):
            records += json.loads(m["Body"])["Records"]
            sqs.delete_message(QueueUrl=sink, ReceiptHandle=m["ReceiptHandle"])
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs)
    modify = records[1]
    assert modify["eventSourceARN"] == arn and modify["eventSource"] == "aws:dynamodb"
    assert modify["eventVersion"] == "1.1" and modify["awsRegion"] == "us-east-1"
    assert modify["dynamodb"]["OldImage"] == {"id": {"S": "a"}, "v": {"N": "1"}}
    assert modify["dynamodb"]["NewImage"] == {"id": {"S": "a"}, "v": {"N": "2"}}
    assert isinstance(modify["dynamodb"]["ApproximateCreationDateTime"], int | float)
