"""Queue names and queue attributes: validation, defaults and the values AWS reports.

Attribute values travel as strings (``"30"``, ``"true"``, JSON for the policies), and are stored
that way, normalized (integers without leading zeros, booleans lower-case), so comparing an
existing queue with a repeated CreateQueue is a string comparison.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lambdamaker.services.sqs.errors import (
    invalid_attribute_name,
    invalid_attribute_value,
    invalid_parameter,
)

MAX_MESSAGE_SIZE = 262_144

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")

# name -> (minimum, maximum, default) of the integer attributes.
INT_ATTRIBUTES: dict[str, tuple[int, int, int]] = {
    "VisibilityTimeout": (0, 43_200, 30),
    "MessageRetentionPeriod": (60, 1_209_600, 345_600),
    "DelaySeconds": (0, 900, 0),
    "MaximumMessageSize": (1_024, MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE),
    "ReceiveMessageWaitTimeSeconds": (0, 20, 0),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400, 300),
}
_BOOL_ATTRIBUTES = {"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"}
_STRING_ATTRIBUTES = {"Policy", "KmsMasterKeyId", "RedrivePolicy", "RedriveAllowPolicy"}
_FIFO_ONLY = {"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
_ENUMS = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
SETTABLE = set(INT_ATTRIBUTES) | _BOOL_ATTRIBUTES | _STRING_ATTRIBUTES | set(_ENUMS)

COMPUTED = (
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
)
ALL_NAMES = set(COMPUTED) | SETTABLE


def check_queue_name(name: str, fifo: bool) -> None:
    base = name[: -len(".fifo")] if fifo and name.endswith(".fifo") else name
    if fifo and not name.endswith(".fifo"):
        raise invalid_parameter(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length."
        )
    if not _QUEUE_NAME.fullmatch(base) or len(name) > 80:
        raise invalid_parameter(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def defaults(fifo: bool) -> dict[str, str]:
    out = {
        name: str(default)
        for name, (_, _, default) in INT_ATTRIBUTES.items()
        if name != "KmsDataKeyReusePeriodSeconds"
    }
    out["SqsManagedSseEnabled"] = "true"
    if fifo:
        out.update(
            FifoQueue="true",
            ContentBasedDeduplication="false",
            DeduplicationScope="queue",
            FifoThroughputLimit="perQueue",
        )
    return out


def normalize(attributes: dict[str, str], fifo: bool, *, creating: bool) -> dict[str, str]:
    """The given attributes validated and normalized. ``RedrivePolicy`` is checked for shape
    here; that its target exists is the caller's business (it needs the store)."""
    out: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw)
        if name not in SETTABLE:
            raise invalid_attribute_name(name)
        if name in _FIFO_ONLY and not fifo:
            raise invalid_attribute_name(name)
        if name == "FifoQueue":
            flag = _bool(name, value)
            if creating and flag != fifo:
                raise invalid_attribute_value(name)
            if not creating:
                raise invalid_attribute_value(name, "Queue type can't be changed.")
            out[name] = "true" if flag else "false"
            continue
        if name in INT_ATTRIBUTES:
            low, high, _ = INT_ATTRIBUTES[name]
            try:
                number = int(value)
            except ValueError:
                raise invalid_attribute_value(name) from None
            if not low <= number <= high:
                raise invalid_attribute_value(name)
            out[name] = str(number)
        elif name in _BOOL_ATTRIBUTES:
            out[name] = "true" if _bool(name, value) else "false"
        elif name in _ENUMS:
            if value not in _ENUMS[name]:
                raise invalid_attribute_value(name)
            out[name] = value
        elif name == "RedrivePolicy":
            out[name] = _redrive_policy(value) if value else ""
        elif name in ("Policy", "RedriveAllowPolicy") and value:
            try:
                json.loads(value)
            except ValueError:
                raise invalid_attribute_value(name) from None
            out[name] = value
        else:
            out[name] = value
    return out


def _bool(name: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise invalid_attribute_value(name)
    return value.lower() == "true"


def _redrive_policy(value: str) -> str:
    try:
        policy: Any = json.loads(value)
    except ValueError:
        raise invalid_attribute_value(
            "RedrivePolicy", "Redrive policy is not a valid JSON map."
        ) from None
    if not isinstance(policy, dict) or "deadLetterTargetArn" not in policy:
        raise invalid_attribute_value(
            "RedrivePolicy",
            "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
        )
    if "maxReceiveCount" not in policy:
        raise invalid_attribute_value(
            "RedrivePolicy", "Redrive policy does not contain mandatory attribute: maxReceiveCount."
        )
    try:
        count = int(policy["maxReceiveCount"])
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 1000:
        raise invalid_attribute_value(
            "RedrivePolicy", "Invalid value for maxReceiveCount: must be between 1 and 1000."
        )
    # AWS echoes the policy back with maxReceiveCount as a number.
    return json.dumps(
        {"deadLetterTargetArn": str(policy["deadLetterTargetArn"]), "maxReceiveCount": count},
        separators=(",", ":"),
    )


def redrive_target(attributes: dict[str, str]) -> tuple[str, int] | None:
    """(dead-letter queue ARN, maxReceiveCount) of a queue's stored attributes, if any."""
    raw = attributes.get("RedrivePolicy")
    if not raw:
        return None
    policy = json.loads(raw)
    return str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])
