"""SNS topics and tags over HTTP with boto3, against the session server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def sns(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sns")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_create_topic_is_idempotent_and_listed(sns: Any) -> None:
    name = unique()
    arn = sns.create_topic(Name=name)["TopicArn"]
    assert arn.startswith("arn:aws:sns:") and arn.endswith(f":{name}")
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert arn in arns


def test_create_topic_with_other_attributes_is_refused(sns: Any) -> None:
    name = unique()
    sns.create_topic(Name=name, Attributes={"DisplayName": "one"})
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=name, Attributes={"DisplayName": "two"})
    assert error_of(exc)[:2] == ("InvalidParameter", 400)
    assert "already exists with different attributes" in error_of(exc)[2]


def test_fifo_topics_need_the_suffix_and_the_attribute(sns: Any) -> None:
    name = unique() + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["FifoTopic"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true"
    )
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["ContentBasedDeduplication"] == (
        "true"
    )
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=unique(), Attributes={"FifoTopic": "true"})
    assert error_of(exc)[0] == "InvalidParameter"
    assert "Fifo Topic names must end with .fifo" in error_of(exc)[2]
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=unique() + ".fifo")
    assert error_of(exc) == ("InvalidParameter", 400, "Invalid parameter: Topic Name")


@pytest.mark.parametrize("name", ["has space", "x" * 257, "bad!char"])
def test_invalid_topic_names_are_refused(sns: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=name)
    assert error_of(exc) == ("InvalidParameter", 400, "Invalid parameter: Topic Name")


def test_content_based_deduplication_is_for_fifo_topics_only(sns: Any) -> None:
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=unique(), Attributes={"ContentBasedDeduplication": "true"})
    assert error_of(exc)[0] == "InvalidParameter"


def test_topic_attributes_have_defaults_and_can_be_set(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn
    assert attrs["DisplayName"] == ""
    assert attrs["SubscriptionsConfirmed"] == "0"
    assert attrs["SubscriptionsPending"] == "0"
    assert json.loads(attrs["Policy"])["Statement"][0]["Resource"] == arn
    assert "FifoTopic" not in attrs
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Alerts")
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Alerts"
    assert attrs["Policy"] == policy


@pytest.mark.parametrize(
    ("name", "value"),
    [("FifoTopic", "true"), ("Bogus", "x"), ("Policy", "not json"), ("SignatureVersion", "3")],
)
def test_bad_topic_attributes_are_refused(sns: Any, name: str, value: str) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    with pytest.raises(ClientError) as exc:
        sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
    assert error_of(exc)[:2] == ("InvalidParameter", 400)


def test_missing_topics_are_not_found(sns: Any, lm_server: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"].rsplit(":", 1)[0] + ":nope-" + unique()
    with pytest.raises(ClientError) as exc:
        sns.get_topic_attributes(TopicArn=arn)
    assert error_of(exc) == ("NotFound", 404, "Topic does not exist")
    with pytest.raises(ClientError) as exc:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="x")
    assert error_of(exc)[0] == "NotFound"
    with pytest.raises(ClientError) as exc:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert error_of(exc) == ("InvalidParameter", 400, "Invalid parameter: TopicArn")


def test_delete_topic_removes_it_and_is_idempotent(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    with pytest.raises(ClientError) as exc:
        sns.get_topic_attributes(TopicArn=arn)
    assert error_of(exc)[0] == "NotFound"


def test_list_topics_pages_with_next_token(sns: Any) -> None:
    created = {sns.create_topic(Name=unique("page"))["TopicArn"] for _ in range(105)}
    seen: list[str] = []
    pages = 0
    for page in sns.get_paginator("list_topics").paginate():
        pages += 1
        assert len(page["Topics"]) <= 100
        seen.extend(t["TopicArn"] for t in page["Topics"])
    assert pages >= 2
    assert len(seen) == len(set(seen))
    assert created <= set(seen)


def test_tags_on_topics(sns: Any) -> None:
    arn = sns.create_topic(Name=unique(), Tags=[{"Key": "team", "Value": "risk"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "risk"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]
    with pytest.raises(ClientError) as exc:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(exc)[0] == "TagLimitExceeded"
    assert len(sns.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 1
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(ClientError) as exc:
        sns.list_tags_for_resource(ResourceArn=arn)
    assert error_of(exc)[:2] == ("ResourceNotFound", 404)


def test_create_topic_with_different_tags_is_refused(sns: Any) -> None:
    name = unique()
    sns.create_topic(Name=name, Tags=[{"Key": "a", "Value": "1"}])
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name=name, Tags=[{"Key": "a", "Value": "2"}])
    assert "already exists with different tags" in error_of(exc)[2]
