"""DynamoDB secondary indexes in-process on both store backends (SQLite and PostgreSQL):
index order and paging, LSI fetches, backfill, rollback of a rejected write, cascade on
DeleteTable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from ddb_support import all_pages, call, index

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.dynamodb.index_tables import ddb_index_entries


def _entries(platform: Platform) -> int:
    with platform.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(ddb_index_entries)).scalar())


def test_index_reads_and_upkeep_on_both_backends(config: PlatformConfig) -> None:
    with Platform(config, services=["dynamodb"]) as platform:
        call(
            platform,
            "CreateTable",
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "B"},
                {"AttributeName": "g", "AttributeType": "N"},
                {"AttributeName": "r", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[index("by_g", "g")],
            LocalSecondaryIndexes=[index("by_r", "pk", "r")],
        )
        blobs = [b"\xff", b"\x00", b"\x00\x01", b"a"]
        for n, blob in enumerate(blobs):
            item = {"pk": {"S": "p"}, "sk": {"B": blob}, "g": {"N": "-1.5"}, "r": {"S": f"{9 - n}"}}
            call(platform, "PutItem", TableName="t", Item=item | {"v": {"N": str(n)}})

        pages = all_pages(
            platform,
            "Query",
            TableName="t",
            IndexName="by_g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"N": "-1.50"}},
            ScanIndexForward=False,
            Limit=3,
        )
        seen = [i["sk"]["B"] for i in pages]
        assert seen == sorted(blobs, reverse=True)

        fetched = call(
            platform,
            "Query",
            TableName="t",
            IndexName="by_r",
            KeyConditionExpression="pk = :p AND r >= :r",
            ExpressionAttributeValues={":p": {"S": "p"}, ":r": {"S": "7"}},
            Select="ALL_ATTRIBUTES",
        )["Items"]
        assert [(i["r"]["S"], i["v"]["N"]) for i in fetched] == [("7", "2"), ("8", "1"), ("9", "0")]

        with pytest.raises(ServiceError) as e:
            call(
                platform,
                "PutItem",
                TableName="t",
                Item={"pk": {"S": "p"}, "sk": {"B": b"\x00"}, "r": {"N": "1"}},
            )
        assert "Type mismatch for Index Key r" in e.value.message
        got = call(platform, "GetItem", TableName="t", Key={"pk": {"S": "p"}, "sk": {"B": b"\x00"}})
        assert got["Item"]["v"] == {"N": "1"}
        assert _entries(platform) == 8

        call(
            platform,
            "UpdateTable",
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "v", "AttributeType": "N"}],
            GlobalSecondaryIndexUpdates=[{"Create": index("by_v", "v", projection="ALL")}],
        )
        assert _entries(platform) == 12
        call(platform, "DeleteTable", TableName="t")
        assert _entries(platform) == 0
