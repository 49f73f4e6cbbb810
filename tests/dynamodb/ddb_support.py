"""Helpers of the DynamoDB tests."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdamaker.platform import Platform
from lambdamaker.testing.inprocess import call_operation

# CreateTable's key arguments of an on-demand table keyed by ``pk`` (S) and ``sk`` (N).
PK_SK: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of the ClientError a ``pytest.raises`` caught."""
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def call(platform: Platform, operation: str, **params: Any) -> dict[str, Any]:
    """An operation of an in-process platform's DynamoDB provider, as the gateway calls it
    (item writes are group-committed coroutines)."""
    return call_operation(platform, "dynamodb", operation, endpoint_url="", **params)


def create_table(
    ddb: Any, prefix: str, sort: tuple[str, str] | None = ("sk", "N"), **settings: Any
) -> str:
    """A new on-demand table ``<prefix>-<10 hex>`` keyed by ``pk`` (S) and, unless ``sort``
    is None, a sort key ``sort`` = (name, type); its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort is not None:
        keys.append({"AttributeName": sort[0], "KeyType": "RANGE"})
        attributes.append({"AttributeName": sort[0], "AttributeType": sort[1]})
    ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        **settings,
    )
    return name
