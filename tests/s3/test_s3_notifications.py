from __future__ import annotations

from typing import Any

import pytest
from s3_helpers import S3Caller, raises

QUEUE = "arn:aws:sqs:us-east-1:000000000000:uploads"
TOPIC = "arn:aws:sns:us-east-1:000000000000:alerts"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:score"


def rules(prefix: str | None = None, suffix: str | None = None) -> dict[str, Any]:
    found = []
    if prefix is not None:
        found.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        found.append({"Name": "suffix", "Value": suffix})
    return {"Key": {"FilterRules": found}}


def test_new_bucket_has_no_notification_configuration(s3: S3Caller, bucket: str) -> None:
    assert s3.get_bucket_notification_configuration(Bucket=bucket) == {}


def test_notification_configuration_round_trips_with_generated_ids(
    s3: S3Caller, bucket: str
) -> None:
    config = {
        "QueueConfigurations": [
            {
                "Id": "to-queue",
                "QueueArn": QUEUE,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": rules(prefix="in/", suffix=".csv"),
            }
        ],
        "TopicConfigurations": [{"TopicArn": TOPIC, "Events": ["s3:ObjectRemoved:Delete"]}],
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": FUNCTION,
                "Events": ["s3:ObjectCreated:Put"],
                "Filter": rules(prefix="models/"),
            }
        ],
        "EventBridgeConfiguration": {},
    }
    assert (
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=True
        )
        == {}
    )
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"] == config["QueueConfigurations"]
    topic = got["TopicConfigurations"][0]
    assert topic["TopicArn"] == TOPIC and topic["Id"]
    assert got["LambdaFunctionConfigurations"][0]["Filter"] == rules(prefix="models/")
    assert got["EventBridgeConfiguration"] == {}


def test_empty_configuration_clears_it(s3: S3Caller, bucket: str) -> None:
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"]}]
        },
        SkipDestinationValidation=True,
    )
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert s3.get_bucket_notification_configuration(Bucket=bucket) == {}


@pytest.mark.parametrize(
    "item",
    [
        {
            "QueueArn": "arn:aws:sns:us-east-1:000000000000:wrong-service",
            "Events": ["s3:ObjectCreated:*"],
        },
        {"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]},
        {"QueueArn": "arn:aws:sqs:us-east-1:123:short-account", "Events": ["s3:ObjectCreated:*"]},
    ],
)
def test_malformed_destination_arn_is_invalid_argument(
    s3: S3Caller, bucket: str, item: dict[str, Any]
) -> None:
    with raises("InvalidArgument", 400):
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [item]}
        )
    assert s3.get_bucket_notification_configuration(Bucket=bucket) == {}


def test_unknown_event_is_invalid_argument(s3: S3Caller, bucket: str) -> None:
    with raises("InvalidArgument", 400):
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": QUEUE, "Events": ["s3:ObjectMoved:*"]}]
            },
        )


def test_missing_events_is_malformed_xml(s3: S3Caller, bucket: str) -> None:
    with raises("MalformedXML", 400):
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={"QueueConfigurations": [{"QueueArn": QUEUE, "Events": []}]},
        )


@pytest.mark.parametrize(
    "filter_rules",
    [
        [{"Name": "prefix", "Value": "a"}, {"Name": "prefix", "Value": "b"}],
        [{"Name": "middle", "Value": "a"}],
    ],
)
def test_bad_filter_rules_are_invalid_argument(
    s3: S3Caller, bucket: str, filter_rules: list[dict[str, str]]
) -> None:
    item = {
        "QueueArn": QUEUE,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": filter_rules}},
    }
    with raises("InvalidArgument", 400):
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [item]}
        )


def test_overlapping_configurations_are_rejected(s3: S3Caller, bucket: str) -> None:
    config = {
        "QueueConfigurations": [
            {"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"], "Filter": rules(prefix="a/")}
        ],
        "TopicConfigurations": [
            {"TopicArn": TOPIC, "Events": ["s3:ObjectCreated:Put"], "Filter": rules(prefix="a/b")}
        ],
    }
    with raises("InvalidArgument", 400) as err:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert "overlap" in err[0].message


def test_disjoint_prefixes_or_events_do_not_overlap(s3: S3Caller, bucket: str) -> None:
    config = {
        "QueueConfigurations": [
            {"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"], "Filter": rules(prefix="a/")},
            {"QueueArn": QUEUE, "Events": ["s3:ObjectCreated:*"], "Filter": rules(prefix="b/")},
            {"QueueArn": QUEUE, "Events": ["s3:ObjectRemoved:*"], "Filter": rules(prefix="a/")},
            {
                "QueueArn": QUEUE,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": rules(prefix="c/", suffix=".csv"),
            },
            {
                "QueueArn": QUEUE,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": rules(prefix="c/", suffix=".json"),
            },
        ]
    }
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=True
    )
    assert len(s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]) == 5


def test_notification_configuration_of_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.get_bucket_notification_configuration(Bucket="nope")
    with raises("NoSuchBucket", 404):
        s3.put_bucket_notification_configuration(Bucket="nope", NotificationConfiguration={})
