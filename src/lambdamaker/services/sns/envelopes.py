"""What a subscriber receives: SNS's notification envelopes, shaped exactly as AWS sends them.

- SQS (and http/https) get the JSON envelope as the message body: ``Type``, ``MessageId``,
  ``SequenceNumber`` (FIFO), ``TopicArn``, ``Subject`` (only when published with one),
  ``Message``, ``Timestamp``, ``SignatureVersion``, ``Signature``, ``SigningCertURL``,
  ``UnsubscribeURL``, and ``MessageAttributes`` (only when there are any) as
  ``{name: {"Type", "Value"}}``.
- With ``RawMessageDelivery=true`` an SQS subscriber gets the message itself, its attributes
  mapped to SQS message attributes.
- Lambda gets ``{"Records": [...]}`` with one ``aws:sns`` record whose ``Sns`` object uses
  Lambda's casing (``SigningCertUrl``, ``UnsubscribeUrl``), always carries ``Subject`` (null
  without one) and ``MessageAttributes`` (``{}`` without any).
- ``MessageStructure=json`` messages deliver the protocol's own key, else ``default``.

Signatures are real (``signing``): SignatureVersion 1 (SHA1withRSA) or, when the topic's
``SignatureVersion`` attribute is ``2``, SHA256withRSA, over SNS's canonical string, with this
platform's key; ``SigningCertURL`` serves its certificate.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from lambdamaker.services.sns.signing import CERT_PATH, Signer


@dataclass(frozen=True)
class Published:
    """One stored ``sns_messages`` row, decoded."""

    seq: int
    message_id: str
    topic_arn: str
    message: str
    subject: str | None
    structure: str | None
    attributes: dict[str, dict[str, str]]
    """Stored shape: name -> ``{"DataType", "StringValue"}`` or ``{"DataType", "BinaryValue"}``
    (binary as base64)."""
    group_id: str | None
    dedup_id: str | None
    published_at: float
    fifo: bool
    signature_version: str = "1"
    """The topic's ``SignatureVersion`` attribute when delivered (``1`` or ``2``)."""
    trace: str | None = None
    """The publisher's ``X-Amzn-Trace-Id``, handed on to Lambda subscribers."""


def timestamp(seconds: float) -> str:
    """SNS's timestamp: ISO 8601 in UTC with milliseconds."""
    millis = round(seconds * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + (
        f".{millis % 1000:03d}Z"
    )


def message_for(published: Published, protocol: str) -> str:
    if published.structure != "json":
        return published.message
    parsed: dict[str, Any] = json.loads(published.message)
    value = parsed.get(protocol, parsed["default"])
    return value if isinstance(value, str) else json.dumps(value)


def sns_attributes(published: Published) -> dict[str, dict[str, str]]:
    """Attributes as the envelope carries them: ``{name: {"Type", "Value"}}``."""
    return {
        name: {"Type": a["DataType"], "Value": a.get("StringValue", a.get("BinaryValue", ""))}
        for name, a in published.attributes.items()
    }


def sqs_attributes(published: Published) -> dict[str, dict[str, Any]]:
    """Attributes for raw delivery, as SQS message attributes."""
    out: dict[str, dict[str, Any]] = {}
    for name, a in published.attributes.items():
        if "BinaryValue" in a:
            out[name] = {
                "DataType": a["DataType"],
                "BinaryValue": base64.b64decode(a["BinaryValue"]),
            }
        else:
            out[name] = {"DataType": a["DataType"], "StringValue": a["StringValue"]}
    return out


def cert_url(endpoint: str) -> str:
    return f"{endpoint}{CERT_PATH}"


def _urls(endpoint: str, subscription_arn: str) -> tuple[str, str]:
    cert = cert_url(endpoint)
    unsubscribe = f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
    return cert, unsubscribe


def notification(
    published: Published, protocol: str, subscription_arn: str, endpoint: str, signer: Signer
) -> dict[str, Any]:
    """The JSON envelope SQS and http/https subscribers receive (key order as AWS's)."""
    out: dict[str, Any] = {"Type": "Notification", "MessageId": published.message_id}
    if published.fifo:
        out["SequenceNumber"] = f"{published.seq:020d}"
    out["TopicArn"] = published.topic_arn
    if published.subject is not None:
        out["Subject"] = published.subject
    out["Message"] = message_for(published, protocol)
    out["Timestamp"] = timestamp(published.published_at)
    cert, unsubscribe = _urls(endpoint, subscription_arn)
    out["SignatureVersion"] = published.signature_version
    out["Signature"] = signer.sign(out, published.signature_version)
    out["SigningCertURL"] = cert
    out["UnsubscribeURL"] = unsubscribe
    attributes = sns_attributes(published)
    if attributes:
        out["MessageAttributes"] = attributes
    return out


def lambda_event(
    published: Published, subscription_arn: str, endpoint: str, signer: Signer
) -> dict[str, Any]:
    """The event a Lambda subscriber is invoked with."""
    sns: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": published.message_id,
        "TopicArn": published.topic_arn,
        "Subject": published.subject,
        "Message": message_for(published, "lambda"),
        "Timestamp": timestamp(published.published_at),
    }
    cert, unsubscribe = _urls(endpoint, subscription_arn)
    sns["SignatureVersion"] = published.signature_version
    sns["Signature"] = signer.sign(sns, published.signature_version)
    sns["SigningCertUrl"] = cert
    sns["UnsubscribeUrl"] = unsubscribe
    sns["MessageAttributes"] = sns_attributes(published)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": sns,
            }
        ]
    }
