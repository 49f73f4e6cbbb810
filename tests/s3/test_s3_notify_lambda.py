"""S3 event notifications to Lambda through boto3: the function is invoked asynchronously with
the event record (and never with the s3:TestEvent), here forwarding it to a queue via boto3."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

from s3_notify_support import assert_empty, new_queue, receive

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
FORWARD = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event))
"""


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def test_lambda_destination_receives_the_record(
    boto_client: Callable[..., Any], s3c: Any, live_bucket: str
) -> None:
    lam, sqs = boto_client("lambda"), boto_client("sqs")
    url, _ = new_queue(sqs)
    name = f"s3n-{uuid.uuid4().hex[:10]}"
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": _zip(FORWARD)},
        Timeout=30,
        Environment={"Variables": {"QUEUE_URL": url}},
    )["FunctionArn"]
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
        # What AWS requires before S3 may invoke the function (stored; not enforced here yet).
        lam.add_permission(
            FunctionName=name,
            StatementId="s3-invoke",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{live_bucket}",
        )
        s3c.put_bucket_notification_configuration(
            Bucket=live_bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {
                        "Id": "to-fn",
                        "LambdaFunctionArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
                    }
                ]
            },
        )
        s3c.put_object(Bucket=live_bucket, Key="skip.txt", Body=b"no")
        put = s3c.put_object(Bucket=live_bucket, Key="data/new file.csv", Body=b"a,b\n")
        (event,) = receive(sqs, url, 1, timeout=60)
        record = event["Records"][0]
        assert record["eventSource"] == "aws:s3"
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["configurationId"] == "to-fn"
        assert record["s3"]["bucket"]["name"] == live_bucket
        assert record["s3"]["object"]["key"] == "data/new+file.csv"
        assert record["s3"]["object"]["eTag"] == put["ETag"].strip('"')
        assert (
            record["responseElements"]["x-amz-request-id"] == (put["ResponseMetadata"]["RequestId"])
        )
        assert_empty(sqs, url)  # no s3:TestEvent and nothing for skip.txt
    finally:
        lam.delete_function(FunctionName=name)
        sqs.delete_queue(QueueUrl=url)
