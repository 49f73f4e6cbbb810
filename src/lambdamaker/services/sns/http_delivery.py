"""http/https subscribers: the SubscriptionConfirmation handshake and notification POSTs.

SNS POSTs a JSON document (``text/plain; charset=UTF-8``) with the ``x-amz-sns-*`` headers;
any 2xx answer (within ``TIMEOUT`` seconds) is a delivery, anything else a failure to retry
(``delivery`` owns the schedule). The confirmation carries the subscription's token and a
``SubscribeURL``; the subscriber confirms with ConfirmSubscription (Token, TopicArn).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote

from lambdamaker.services.sns.envelopes import cert_url, timestamp
from lambdamaker.services.sns.signing import Signer

TIMEOUT = 15.0
USER_AGENT = "Amazon Simple Notification Service Agent"


class HttpDeliveryError(Exception):
    """An endpoint that did not answer 2xx."""


def post(url: str, body: str, headers: dict[str, str]) -> None:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "User-Agent": USER_AGENT,
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        raise HttpDeliveryError(f"{url}: {exc}") from None
    if not 200 <= status < 300:
        raise HttpDeliveryError(f"{url} answered {status}")


def confirmation(
    topic_arn: str, token: str, endpoint: str, now: float, signer: Signer, version: str = "1"
) -> tuple[str, dict[str, str]]:
    """The SubscriptionConfirmation body and headers."""
    message_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
            "subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": (
            f"{endpoint}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe='')}"
            f"&Token={token}"
        ),
        "Timestamp": timestamp(now),
        "SignatureVersion": version,
    }
    body["Signature"] = signer.sign(body, version)
    body["SigningCertURL"] = cert_url(endpoint)
    headers = {
        "x-amz-sns-message-type": "SubscriptionConfirmation",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    return json.dumps(body), headers


def notification_headers(message_id: str, topic_arn: str, subscription_arn: str) -> dict[str, str]:
    return {
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "x-amz-sns-subscription-arn": subscription_arn,
    }
