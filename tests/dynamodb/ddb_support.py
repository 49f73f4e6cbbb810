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
    ddb: Any,
    prefix: str,
    sort: tuple[str, str] | None = ("sk", "N"),
    hash_key: str = "pk",
    **settings: Any,
) -> str:
    """A new on-demand table ``<prefix>-<10 hex>`` keyed by ``hash_key`` (S) and, unless
    ``sort`` is None, a sort key ``sort`` = (name, type); its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": hash_key, "AttributeType": "S"}]
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


def index(
    name: str,
    hash_key: str,
    range_key: str | None = None,
    projection: str = "KEYS_ONLY",
    non_key: list[str] | None = None,
) -> dict[str, Any]:
    """A ``GlobalSecondaryIndexes`` / ``LocalSecondaryIndexes`` entry of CreateTable: index
    ``name`` keyed by ``hash_key`` (and ``range_key``), projecting ``projection`` (with the
    ``non_key`` attributes of an INCLUDE)."""
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    shape: dict[str, Any] = {"ProjectionType": projection}
    if non_key is not None:
        shape["NonKeyAttributes"] = non_key
    return {"IndexName": name, "KeySchema": keys, "Projection": shape}


def all_pages(platform: Platform, operation: str, **params: Any) -> list[dict[str, Any]]:
    """Every item an in-process Query or Scan returns, read page by page: each request after
    the first carries the previous page's ``LastEvaluatedKey`` as ``ExclusiveStartKey``."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = call(platform, operation, **params, **extra)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if start is None:
            return items
