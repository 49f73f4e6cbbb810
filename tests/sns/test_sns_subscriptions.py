"""SNS subscriptions over HTTP with boto3: Subscribe per protocol, confirmation, listings,
attributes, and filter policies validated as SNS validates them."""

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


@pytest.fixture()
def topic(sns: Any) -> str:
    arn: str = sns.create_topic(Name=f"sub-{uuid.uuid4().hex[:12]}")["TopicArn"]
    return arn


def account_region(topic: str) -> tuple[str, str]:
    parts = topic.split(":")
    return parts[4], parts[3]


def sqs_arn(topic: str) -> str:
    account, region = account_region(topic)
    return f"arn:aws:sqs:{region}:{account}:q-{uuid.uuid4().hex[:8]}"


def lambda_arn(topic: str) -> str:
    account, region = account_region(topic)
    return f"arn:aws:lambda:{region}:{account}:function:fn-{uuid.uuid4().hex[:8]}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_sqs_and_lambda_subscriptions_are_confirmed_at_once(sns: Any, topic: str) -> None:
    queue = sqs_arn(topic)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    fn = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=lambda_arn(topic))
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert {s["SubscriptionArn"] for s in listed} == {sub, fn["SubscriptionArn"]}
    assert {s["Protocol"] for s in listed} == {"sqs", "lambda"}
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["Endpoint"] == queue
    assert attrs["TopicArn"] == topic
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["RawMessageDelivery"] == "false"
    assert "FilterPolicy" not in attrs
    topic_attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert topic_attrs["SubscriptionsConfirmed"] == "2"


def test_subscribe_is_idempotent(sns: Any, topic: str) -> None:
    queue = sqs_arn(topic)
    first = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    again = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    assert first == again
    with pytest.raises(ClientError) as exc:
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue,
            Attributes={"RawMessageDelivery": "true"},
        )
    assert "already exists with different attributes" in error_of(exc)[2]


def test_http_subscriptions_wait_for_confirmation(sns: Any, topic: str) -> None:
    out = sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://example.com/hook")
    assert out["SubscriptionArn"] == "pending confirmation"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    real = sns.subscribe(
        TopicArn=topic,
        Protocol="https",
        Endpoint="https://example.com/hook",
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=real)["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    with pytest.raises(ClientError) as exc:
        sns.confirm_subscription(TopicArn=topic, Token="wrong-token")
    assert error_of(exc) == ("InvalidParameter", 400, "Invalid parameter: Token")


@pytest.mark.parametrize(
    ("protocol", "endpoint", "message"),
    [
        ("smtp", "x", "Invalid parameter: Amazon SNS does not support this protocol string: smtp"),
        ("sqs", "https://sqs.example.com/q", "Invalid parameter: SQS endpoint ARN"),
        ("lambda", "my-function", "Invalid parameter: Lambda endpoint ARN"),
        ("http", "https://x", "Invalid parameter: Endpoint must match the specified protocol"),
    ],
)
def test_bad_protocols_and_endpoints_are_refused(
    sns: Any, topic: str, protocol: str, endpoint: str, message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
    assert error_of(exc) == ("InvalidParameter", 400, message)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_subscribing_to_a_missing_topic_is_not_found(sns: Any, topic: str) -> None:
    missing = topic + "-gone"
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=missing, Protocol="sqs", Endpoint=sqs_arn(topic))
    assert error_of(exc) == ("NotFound", 404, "Topic does not exist")
    with pytest.raises(ClientError) as exc:
        sns.list_subscriptions_by_topic(TopicArn=missing)
    assert error_of(exc)[0] == "NotFound"


def test_fifo_topics_take_sqs_subscribers_only(sns: Any) -> None:
    name = f"f-{uuid.uuid4().hex[:10]}.fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=sqs_arn(arn) + ".fifo")
    with pytest.raises(ClientError) as exc:
        sns.subscribe(TopicArn=arn, Protocol="https", Endpoint="https://example.com")
    assert error_of(exc)[0] == "InvalidParameter"


def test_unsubscribe_and_missing_subscriptions(sns: Any, topic: str) -> None:
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sqs_arn(topic))
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    with pytest.raises(ClientError) as exc:
        sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])
    assert error_of(exc) == ("NotFound", 404, "Subscription does not exist")
    with pytest.raises(ClientError) as exc:
        sns.unsubscribe(SubscriptionArn="garbage")
    assert error_of(exc)[:2] == ("InvalidParameter", 400)


def test_delete_topic_removes_its_subscriptions(sns: Any, topic: str) -> None:
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sqs_arn(topic))
    sns.delete_topic(TopicArn=topic)
    listed = [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    assert sub["SubscriptionArn"] not in listed


def test_list_subscriptions_pages(sns: Any, topic: str) -> None:
    subs = {
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sqs_arn(topic))["SubscriptionArn"]
        for _ in range(102)
    }
    seen: list[str] = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        assert len(page["Subscriptions"]) <= 100
        seen.extend(s["SubscriptionArn"] for s in page["Subscriptions"])
    assert sorted(seen) == sorted(subs)
    everywhere = [
        s["SubscriptionArn"]
        for page in sns.get_paginator("list_subscriptions").paginate()
        for s in page["Subscriptions"]
    ]
    assert subs <= set(everywhere)


def test_filter_policy_and_raw_delivery_attributes(sns: Any, topic: str) -> None:
    policy = json.dumps({"store": ["example_corp"], "price": [{"numeric": [">", 100]}]})
    sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=sqs_arn(topic),
        Attributes={"FilterPolicy": policy, "RawMessageDelivery": "True"},
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["FilterPolicy"] == policy
    assert attrs["FilterPolicyScope"] == "MessageAttributes"
    assert attrs["RawMessageDelivery"] == "true"
    body_policy = json.dumps({"order": {"total": [{"numeric": [">=", 5]}]}})
    with pytest.raises(ClientError) as exc:
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=body_policy
        )
    assert error_of(exc) == (
        "InvalidParameter",
        400,
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested "
        "filter policy",
    )
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicyScope", AttributeValue="MessageBody"
    )
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=body_policy
    )
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (attrs["FilterPolicy"], attrs["FilterPolicyScope"]) == (body_policy, "MessageBody")
    with pytest.raises(ClientError) as exc:
        sns.set_subscription_attributes(
            SubscriptionArn=sub,
            AttributeName="FilterPolicyScope",
            AttributeValue="MessageAttributes",
        )
    assert "does not support nested filter policy" in error_of(exc)[2]
    sns.set_subscription_attributes(
        SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=""
    )
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert "FilterPolicy" not in attrs


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            {"FilterPolicy": json.dumps({f"k{i}": ["v"] for i in range(6)})},
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy can not have more "
            "than 5 keys",
        ),
        (
            {"FilterPolicy": json.dumps({"a": list(range(151))})},
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex",
        ),
        (
            {"FilterPolicy": '{"a": [{"prefix": 5}]}'},
            "Invalid parameter: Attributes Reason: FilterPolicy: prefix match pattern must be "
            "a string",
        ),
        (
            {"RawMessageDelivery": "maybe"},
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [maybe]. "
            "Must be true or false.",
        ),
        (
            {"FilterPolicyScope": "Body"},
            "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [Body]. "
            "Please use either MessageBody or MessageAttributes",
        ),
        ({"Colour": "x"}, "Invalid parameter: Attributes Reason: Unknown attribute Colour"),
    ],
)
def test_bad_subscription_attributes_are_refused_and_change_nothing(
    sns: Any, topic: str, attributes: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError) as exc:
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=sqs_arn(topic), Attributes=attributes
        )
    assert error_of(exc) == ("InvalidParameter", 400, message)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


def test_set_subscription_attributes_validates(sns: Any, topic: str) -> None:
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sqs_arn(topic))
    arn = sub["SubscriptionArn"]
    with pytest.raises(ClientError) as exc:
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue="{bad"
        )
    assert error_of(exc)[2].startswith("Invalid parameter: FilterPolicy: failed to parse JSON.")
    with pytest.raises(ClientError) as exc:
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName="Colour", AttributeValue="x"
        )
    assert error_of(exc) == ("InvalidParameter", 400, "Invalid parameter: AttributeName")
    fn = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=lambda_arn(topic))
    with pytest.raises(ClientError) as exc:
        sns.set_subscription_attributes(
            SubscriptionArn=fn["SubscriptionArn"],
            AttributeName="RawMessageDelivery",
            AttributeValue="true",
        )
    assert error_of(exc)[0] == "InvalidParameter"
    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert "FilterPolicy" not in attrs
