"""S3 event notifications to SQS and SNS through boto3: records exactly as AWS, every write
path, key filters, the s3:TestEvent on save, and destination validation."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_notify_support import (
    assert_empty,
    new_queue,
    only_records,
    queue_config,
    receive,
)

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


@pytest.fixture(scope="module")
def sns(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sns")


@pytest.fixture()
def queue(sqs: Any) -> Iterator[tuple[str, str]]:
    url, arn = new_queue(sqs)
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


def configure(s3c: Any, bucket: str, sqs: Any, url: str, *items: dict[str, Any]) -> None:
    """Save a queue configuration and consume the s3:TestEvent it sends."""
    s3c.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": list(items)}
    )
    (test,) = receive(sqs, url, 1)
    assert test["Event"] == "s3:TestEvent"


def test_put_object_record_matches_aws(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    configure(s3c, live_bucket, sqs, url, queue_config(arn, ["s3:ObjectCreated:*"], "new-things"))
    key = "in/ünïcode file (1)+x.csv"
    put = s3c.put_object(Bucket=live_bucket, Key=key, Body=b"a,b\n1,2\n")
    request_id = put["ResponseMetadata"]["RequestId"]
    (body,) = receive(sqs, url, 1)
    assert list(body) == ["Records"] and len(body["Records"]) == 1
    record = body["Records"][0]
    assert list(record) == [
        "eventVersion",
        "eventSource",
        "awsRegion",
        "eventTime",
        "eventName",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "s3",
    ]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["eventTime"])
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert record["responseElements"] == {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["configurationId"] == "new-things"
    assert s3["bucket"]["name"] == live_bucket
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{live_bucket}"
    assert re.fullmatch(r"A[A-Z2-7]{13}", s3["bucket"]["ownerIdentity"]["principalId"])
    obj = s3["object"]
    assert list(obj) == ["key", "size", "eTag", "sequencer"]
    assert obj["key"] == "in/%C3%BCn%C3%AFcode+file+%281%29%2Bx.csv"
    assert obj["size"] == 8
    assert obj["eTag"] == put["ETag"].strip('"')
    assert re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"])


def test_every_write_path_sends_its_event_with_growing_sequencers(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    configure(
        s3c, live_bucket, sqs, url, queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    )
    s3c.put_object(Bucket=live_bucket, Key="k", Body=b"one")
    s3c.copy_object(Bucket=live_bucket, Key="k copy", CopySource=f"{live_bucket}/k")
    upload = s3c.create_multipart_upload(Bucket=live_bucket, Key="k")["UploadId"]
    part = s3c.upload_part(Bucket=live_bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"x")
    done = s3c.complete_multipart_upload(
        Bucket=live_bucket,
        Key="k",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3c.delete_object(Bucket=live_bucket, Key="k")
    s3c.delete_objects(
        Bucket=live_bucket, Delete={"Objects": [{"Key": "k copy"}, {"Key": "never-existed"}]}
    )
    records = only_records(receive(sqs, url, 6))
    records.sort(key=lambda r: r["s3"]["object"]["sequencer"])
    names = [(r["eventName"], r["s3"]["object"]["key"]) for r in records]
    assert names == [
        ("ObjectCreated:Put", "k"),
        ("ObjectCreated:Copy", "k+copy"),
        ("ObjectCreated:CompleteMultipartUpload", "k"),
        ("ObjectRemoved:Delete", "k"),
        ("ObjectRemoved:Delete", "k+copy"),
        ("ObjectRemoved:Delete", "never-existed"),
    ]
    created = {r["eventName"]: r["s3"]["object"] for r in records[:3]}
    assert created["ObjectCreated:CompleteMultipartUpload"]["eTag"] == done["ETag"].strip('"')
    assert created["ObjectCreated:CompleteMultipartUpload"]["size"] == 1
    assert created["ObjectCreated:Copy"]["size"] == 3
    for removed in records[3:]:
        assert set(removed["s3"]["object"]) == {"key", "sequencer"}
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert len(set(sequencers)) == 6


def test_event_types_and_key_filters_select_configurations(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    s3c.put_bucket_notification_configuration(
        Bucket=live_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                queue_config(arn, ["s3:ObjectCreated:Put"], "csv", prefix="in/", suffix=".csv"),
                queue_config(arn, ["s3:ObjectCreated:Copy"], "copies", prefix="copies/"),
                queue_config(arn, ["s3:ObjectRemoved:Delete"], "deletes", prefix="in/"),
            ]
        },
    )
    tests = receive(sqs, url, 1)  # one test event per destination, not per configuration
    assert tests[0]["Event"] == "s3:TestEvent"
    s3c.put_object(Bucket=live_bucket, Key="in/a.json", Body=b"no: suffix")
    s3c.put_object(Bucket=live_bucket, Key="out/a.csv", Body=b"no: prefix")
    s3c.copy_object(Bucket=live_bucket, Key="in/b.csv", CopySource=f"{live_bucket}/in/a.json")
    s3c.put_object(Bucket=live_bucket, Key="in/a.csv", Body=b"yes")
    s3c.copy_object(Bucket=live_bucket, Key="copies/a.json", CopySource=f"{live_bucket}/in/a.json")
    s3c.delete_object(Bucket=live_bucket, Key="out/a.csv")
    s3c.delete_object(Bucket=live_bucket, Key="in/b.csv")
    records = only_records(receive(sqs, url, 3))
    got = sorted((r["s3"]["configurationId"], r["s3"]["object"]["key"]) for r in records)
    assert got == [("copies", "copies/a.json"), ("csv", "in/a.csv"), ("deletes", "in/b.csv")]
    assert_empty(sqs, url)


def test_saving_a_configuration_sends_a_test_event(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    out = s3c.put_bucket_notification_configuration(
        Bucket=live_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [queue_config(arn, ["s3:ObjectCreated:*"])]
        },
    )
    (test,) = receive(sqs, url, 1)
    assert list(test) == ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
    assert test["Service"] == "Amazon S3"
    assert test["Event"] == "s3:TestEvent"
    assert test["Bucket"] == live_bucket
    assert test["RequestId"] == out["ResponseMetadata"]["RequestId"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", test["Time"])
    # Clearing the configuration sends nothing, and objects then send nothing.
    s3c.put_bucket_notification_configuration(Bucket=live_bucket, NotificationConfiguration={})
    s3c.put_object(Bucket=live_bucket, Key="quiet", Body=b"")
    assert_empty(sqs, url)


def test_sns_destination_wraps_the_record_in_its_envelope(
    s3c: Any, sqs: Any, sns: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, queue_arn = queue
    topic = sns.create_topic(Name=f"s3n-{uuid.uuid4().hex[:10]}")["TopicArn"]
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        s3c.put_bucket_notification_configuration(
            Bucket=live_bucket,
            NotificationConfiguration={
                "TopicConfigurations": [
                    {"Id": "to-topic", "TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        (test,) = receive(sqs, url, 1)
        assert test["Type"] == "Notification" and test["Subject"] == "Amazon S3 Notification"
        assert json.loads(test["Message"])["Event"] == "s3:TestEvent"
        s3c.put_object(Bucket=live_bucket, Key="via topic.txt", Body=b"hello")
        (envelope,) = receive(sqs, url, 1)
        assert envelope["TopicArn"] == topic
        assert envelope["Subject"] == "Amazon S3 Notification"
        record = json.loads(envelope["Message"])["Records"][0]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["configurationId"] == "to-topic"
        assert record["s3"]["object"]["key"] == "via+topic.txt"
        assert record["s3"]["object"]["size"] == 5
    finally:
        sns.delete_topic(TopicArn=topic)


def _config_error(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    error: dict[str, Any] = excinfo.value.response["Error"]
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error


def test_missing_destinations_are_rejected_and_change_nothing(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    configure(s3c, live_bucket, sqs, url, queue_config(arn, ["s3:ObjectCreated:*"], "kept"))
    missing_queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:no-such-queue-{uuid.uuid4().hex[:8]}"
    missing_topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:no-such-topic-{uuid.uuid4().hex[:8]}"
    missing_fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-fn-{uuid.uuid4().hex[:8]}"
    config = {
        "QueueConfigurations": [
            queue_config(arn, ["s3:ObjectRemoved:*"]),
            queue_config(missing_queue, ["s3:ObjectCreated:*"]),
        ],
        "TopicConfigurations": [{"TopicArn": missing_topic, "Events": ["s3:ObjectRestore:*"]}],
        "LambdaFunctionConfigurations": [
            {"LambdaFunctionArn": missing_fn, "Events": ["s3:ReducedRedundancyLostObject"]}
        ],
    }
    with pytest.raises(ClientError) as excinfo:
        s3c.put_bucket_notification_configuration(
            Bucket=live_bucket, NotificationConfiguration=config
        )
    error = _config_error(excinfo)
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == "Unable to validate the following destination configurations"
    # In the configuration's XML order: topics, queues, functions.
    assert error["ArgumentName1"] == missing_topic
    assert error["ArgumentValue1"] == "The destination topic does not exist"
    assert error["ArgumentName2"] == missing_queue
    assert error["ArgumentValue2"] == "The destination queue does not exist"
    assert error["ArgumentName3"] == missing_fn
    assert "ArgumentName4" not in error
    # Nothing changed: the old configuration stands and the valid queue got no test event.
    got = s3c.get_bucket_notification_configuration(Bucket=live_bucket)
    assert [c["Id"] for c in got["QueueConfigurations"]] == ["kept"]
    assert "TopicConfigurations" not in got
    assert_empty(sqs, url)
    # SkipDestinationValidation stores it without checks or test events.
    s3c.put_bucket_notification_configuration(
        Bucket=live_bucket, NotificationConfiguration=config, SkipDestinationValidation=True
    )
    assert (
        len(s3c.get_bucket_notification_configuration(Bucket=live_bucket)["QueueConfigurations"])
        == 2
    )
    assert_empty(sqs, url)
    # Deliveries to the missing destinations are dropped; the upload succeeds.
    s3c.put_object(Bucket=live_bucket, Key="still works", Body=b"1")
    s3c.delete_object(Bucket=live_bucket, Key="still works")
    (removed,) = only_records(receive(sqs, url, 1))
    assert removed["eventName"] == "ObjectRemoved:Delete"


@pytest.mark.parametrize(
    "config",
    [
        {"QueueConfigurations": [{"QueueArn": "QUEUE", "Events": ["s3:ObjectMoved:*"]}]},
        {
            "QueueConfigurations": [
                {"QueueArn": "QUEUE", "Events": ["s3:ObjectCreated:*"]},
                {"QueueArn": "QUEUE", "Events": ["s3:ObjectCreated:Put"]},
            ]
        },
        {
            "QueueConfigurations": [
                {
                    "QueueArn": "QUEUE",
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "infix", "Value": "x"}]}},
                }
            ]
        },
    ],
    ids=["unknown-event", "overlap", "bad-filter"],
)
def test_invalid_configurations_change_nothing(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str], config: dict[str, Any]
) -> None:
    url, arn = queue
    configure(s3c, live_bucket, sqs, url, queue_config(arn, ["s3:ObjectRemoved:*"], "kept"))
    text = json.dumps(config).replace('"QUEUE"', json.dumps(arn))
    with pytest.raises(ClientError) as excinfo:
        s3c.put_bucket_notification_configuration(
            Bucket=live_bucket, NotificationConfiguration=json.loads(text)
        )
    assert _config_error(excinfo)["Code"] == "InvalidArgument"
    got = s3c.get_bucket_notification_configuration(Bucket=live_bucket)
    assert [c["Id"] for c in got["QueueConfigurations"]] == ["kept"]
    assert_empty(sqs, url)


def test_a_write_that_fails_sends_nothing(
    s3c: Any, sqs: Any, live_bucket: str, queue: tuple[str, str]
) -> None:
    url, arn = queue
    configure(
        s3c, live_bucket, sqs, url, queue_config(arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    )
    s3c.put_object(Bucket=live_bucket, Key="once", Body=b"1")
    receive(sqs, url, 1)
    with pytest.raises(ClientError) as excinfo:
        s3c.put_object(Bucket=live_bucket, Key="once", Body=b"2", IfNoneMatch="*")
    assert excinfo.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError):
        s3c.delete_object(Bucket=live_bucket, Key="once", IfMatch='"0000"')
    assert_empty(sqs, url)
