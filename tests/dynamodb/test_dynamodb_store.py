"""DynamoDB in-process on both store backends (SQLite and PostgreSQL): binary and string sort
keys in byte order, upserts, paging, and items durable across a platform restart."""

from __future__ import annotations

from typing import Any

import pytest
from ddb_support import all_pages, call

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform


def _create(platform: Platform, name: str, range_type: str) -> None:
    call(
        platform,
        "CreateTable",
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": range_type},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _query(platform: Platform, name: str, **sk: Any) -> list[Any]:
    conditions: dict[str, Any] = {
        "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}
    }
    if sk:
        conditions["sk"] = sk
    items = call(platform, "Query", TableName=name, KeyConditions=conditions)["Items"]
    return [next(iter(i["sk"].values())) for i in items]


def test_sort_keys_order_by_bytes_and_survive_a_restart(config: PlatformConfig) -> None:
    blobs = [b"\xff", b"\x00", b"\x00\x01", b"a", b"ab", b"\xff\xff"]
    words = ["b", "a", "ab", "é", "Z", "abc", "ac"]
    with Platform(config, services=["dynamodb"]) as platform:
        _create(platform, "bin", "B")
        _create(platform, "str", "S")
        for blob in blobs:
            call(platform, "PutItem", TableName="bin", Item={"pk": {"S": "p"}, "sk": {"B": blob}})
        for word in words:
            call(platform, "PutItem", TableName="str", Item={"pk": {"S": "p"}, "sk": {"S": word}})
        # An upsert replaces the item and keeps one row.
        replaced = call(
            platform,
            "PutItem",
            TableName="str",
            Item={"pk": {"S": "p"}, "sk": {"S": "a"}, "v": {"N": "1"}},
            ReturnValues="ALL_OLD",
        )
        assert replaced["Attributes"] == {"pk": {"S": "p"}, "sk": {"S": "a"}}

    with Platform(config, services=["dynamodb"]) as platform:
        assert _query(platform, "bin") == sorted(blobs)
        assert _query(platform, "str") == sorted(words, key=str.encode)
        prefix = {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "BEGINS_WITH"}
        assert _query(platform, "str", **prefix) == ["a", "ab", "abc", "ac"]
        ff = {"AttributeValueList": [{"B": b"\xff"}], "ComparisonOperator": "BEGINS_WITH"}
        assert _query(platform, "bin", **ff) == [b"\xff", b"\xff\xff"]
        got = call(platform, "GetItem", TableName="str", Key={"pk": {"S": "p"}, "sk": {"S": "a"}})
        assert got["Item"]["v"] == {"N": "1"}
        assert call(platform, "DescribeTable", TableName="str")["Table"]["ItemCount"] == 7

        seen = [i["sk"]["B"] for i in all_pages(platform, "Scan", TableName="bin", Limit=4)]
        assert sorted(seen) == sorted(blobs)

        # Query pages in both directions (Limit and ExclusiveStartKey on each backend's SQL).
        for forward in (True, False):
            pages = all_pages(
                platform,
                "Query",
                TableName="str",
                KeyConditionExpression="pk = :p AND sk > :low",
                ExpressionAttributeValues={":p": {"S": "p"}, ":low": {"S": "Z"}},
                ScanIndexForward=forward,
                Limit=2,
            )
            got = [i["sk"]["S"] for i in pages]
            expected = sorted((w for w in words if w.encode() > b"Z"), key=str.encode)
            assert got == (expected if forward else expected[::-1])

        call(platform, "DeleteTable", TableName="bin")
        with pytest.raises(ServiceError) as e:
            call(platform, "Scan", TableName="bin")
        assert e.value.code == "ResourceNotFoundException"
