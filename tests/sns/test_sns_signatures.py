"""SNS message signatures through boto3: what an SQS or http subscriber receives verifies, as
AWS documents the check, against the certificate served at its SigningCertURL, for
SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from sns_support import (
    confirmed_http_subscription,
    http_endpoint,
    new_queue,
    receive,
    verify_sns_message,
)


@pytest.fixture(scope="module")
def sns(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sns")


@pytest.fixture(scope="module")
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


@pytest.mark.parametrize("version", ["1", "2"])
def test_sqs_envelopes_verify_against_the_served_certificate(
    sns: Any, sqs: Any, version: str
) -> None:
    attributes = {"SignatureVersion": version} if version == "2" else {}
    topic = sns.create_topic(Name=f"sig-{uuid.uuid4().hex[:12]}", Attributes=attributes)["TopicArn"]
    url, arn = new_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="signed, with subject", Subject="Hello")
    sns.publish(
        TopicArn=topic,
        Message="signed, no subject: ünïcode too",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    got = receive(sqs, url, 2)
    assert len(got) == 2
    for m in got:
        envelope = json.loads(m["Body"])
        assert envelope["SignatureVersion"] == version
        assert envelope["SigningCertURL"].endswith(
            "/_lambdamaker/sns/SimpleNotificationService.pem"
        )
        verify_sns_message(envelope)
        tampered = dict(envelope, Message=envelope["Message"] + "!")
        with pytest.raises(InvalidSignature):
            verify_sns_message(tampered)


def test_signature_version_2_does_not_verify_as_version_1(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(
        Name=f"sig2-{uuid.uuid4().hex[:12]}", Attributes={"SignatureVersion": "2"}
    )["TopicArn"]
    url, arn = new_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="sha256")
    [m] = receive(sqs, url, 1)
    envelope = json.loads(m["Body"])
    with pytest.raises(InvalidSignature):
        verify_sns_message(dict(envelope, SignatureVersion="1"))


def test_the_signing_certificate_is_served_as_pem(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"cert-{uuid.uuid4().hex[:12]}")["TopicArn"]
    url, arn = new_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="x")
    [m] = receive(sqs, url, 1)
    cert_url = json.loads(m["Body"])["SigningCertURL"]
    with urllib.request.urlopen(cert_url, timeout=10) as response:
        assert response.status == 200
        pem = response.read()
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    x509.load_pem_x509_certificate(pem)


@pytest.mark.parametrize("version", ["1", "2"])
def test_http_confirmation_and_notification_verify(sns: Any, version: str) -> None:
    topic = sns.create_topic(
        Name=f"sigweb-{uuid.uuid4().hex[:12]}", Attributes={"SignatureVersion": version}
    )["TopicArn"]
    with http_endpoint() as endpoint:
        confirmed_http_subscription(sns, topic, endpoint)
        [(_, confirmation)] = endpoint.posts("SubscriptionConfirmation")
        verify_sns_message(json.loads(confirmation))
        sns.publish(TopicArn=topic, Message="over http, signed", Subject="S")
        [(_, body)] = endpoint.wait_for("Notification", 1)
        notification = json.loads(body)
        assert notification["SignatureVersion"] == version
        verify_sns_message(notification)
