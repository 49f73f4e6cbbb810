"""SQS queues through boto3: create (idempotent), URLs, listing, attributes, purge, delete, and
the errors a boto3 user gets for bad input."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdamaker.testing import ServerProcess


def _name(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture()
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_created_queue_url_points_at_this_platform(sqs: Any, lm_server: ServerProcess) -> None:
    name = _name()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{lm_server.endpoint_url}/000000000000/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_create_is_idempotent_with_the_same_attributes_and_refused_with_others(sqs: Any) -> None:
    name = _name()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    again = sqs.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": "45", "FifoQueue": "false"}
    )
    assert again["QueueUrl"] == url
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert _error(exc) == ("QueueAlreadyExists", 400)
    assert isinstance(exc.value, sqs.exceptions.QueueNameExists)


def test_attributes_have_defaults_and_computed_values(sqs: Any) -> None:
    name = _name()
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "DelaySeconds": "5",
            "MaximumMessageSize": "2048",
            "MessageRetentionPeriod": "600",
            "ReceiveMessageWaitTimeSeconds": "3",
        },
    )["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["DelaySeconds"] == "5"
    assert attrs["MaximumMessageSize"] == "2048"
    assert attrs["MessageRetentionPeriod"] == "600"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "3"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert int(attrs["CreatedTimestamp"]) > 1_600_000_000
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert only == {"QueueArn": attrs["QueueArn"]}


def test_set_attributes_changes_them(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "120"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"] == {"VisibilityTimeout": "120"}


def test_list_queues_by_prefix_and_pages(sqs: Any) -> None:
    prefix = _name("list")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(3)]
    assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"] == urls
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert first["QueueUrls"] == urls[:2]
    rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert rest["QueueUrls"] == urls[2:]
    assert "NextToken" not in rest
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=_name("none"))


def test_deleted_queue_does_not_exist(sqs: Any) -> None:
    name = _name()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as exc:
        sqs.get_queue_url(QueueName=name)
    assert _error(exc) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    assert isinstance(exc.value, sqs.exceptions.QueueDoesNotExist)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    # As on AWS, the name is blocked for 60 s (test_sqs_recreate.py moves the clock past it).
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=name)
    assert _error(exc) == ("AWS.SimpleQueueService.QueueDeletedRecently", 400)


def test_purge_empties_the_queue_once_a_minute(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
    with pytest.raises(ClientError) as exc:
        sqs.purge_queue(QueueUrl=url)
    assert _error(exc) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 400)


@pytest.mark.parametrize("name", ["", "has space", "x" * 81, "dot.name", "plain.fifo"])
def test_invalid_queue_names_are_refused(sqs: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=name)
    assert _error(exc) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize(
    ("attributes", "code"),
    [
        ({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
        ({"DelaySeconds": "-1"}, "InvalidAttributeValue"),
        ({"MaximumMessageSize": "1023"}, "InvalidAttributeValue"),
        ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
        ({"ReceiveMessageWaitTimeSeconds": "21"}, "InvalidAttributeValue"),
        ({"VisibilityTimeout": "soon"}, "InvalidAttributeValue"),
        ({"ContentBasedDeduplication": "true"}, "InvalidAttributeName"),
        ({"RedrivePolicy": "{not json"}, "InvalidAttributeValue"),
        (
            {
                "RedrivePolicy": json.dumps(
                    {
                        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:missing-dlq",
                        "maxReceiveCount": 3,
                    }
                )
            },
            "InvalidAttributeValue",
        ),
    ],
)
def test_invalid_attributes_are_refused_and_create_nothing(
    sqs: Any, attributes: dict[str, str], code: str
) -> None:
    name = _name()
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName=name, Attributes=attributes)
    assert _error(exc) == (code, 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_redrive_policy_is_stored_with_a_numeric_count(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName=_name("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "4"})
    url = sqs.create_queue(QueueName=_name(), Attributes={"RedrivePolicy": policy})["QueueUrl"]
    stored = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert json.loads(stored["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": 4,
    }


def test_tags_are_set_at_creation_added_and_removed(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=_name(), tags={"team": "data"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "data"}
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test", "team": "ml"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "ml", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}
    with pytest.raises(ClientError) as exc:
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    assert _error(exc) == ("InvalidParameterValue", 400)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}
