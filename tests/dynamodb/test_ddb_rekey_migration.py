"""A store written by the release before ``dynamodb`` migration 2 (items keyed by their partition
key's bare encoding, plus a second index for Scan order) still serves every item, index entry
and read after the upgrade, on both store backends."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ddb_support import PK_SK, all_pages, call

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform

ITEMS = [
    {"pk": {"S": f"user-{i % 7}"}, "sk": {"N": str(i)}, "owner": {"S": f"o{i % 3}"}}
    for i in range(40)
]
TABLE = {
    "TableName": "old",
    **PK_SK,
    "AttributeDefinitions": [
        *PK_SK["AttributeDefinitions"],
        {"AttributeName": "owner", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_owner",
            "KeySchema": [
                {"AttributeName": "owner", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
}


def as_version_1(platform: Platform) -> None:
    """Put the store back in version 1's shape: bare hashes, the second index, version 1."""
    with platform.store.begin() as conn:
        for table in ("ddb_items", "ddb_index_entries"):
            old = conn.execute(sa.text(f'SELECT table_id, hash, "range" FROM {table}')).all()
            for table_id, hash_, range_ in old:
                conn.execute(
                    sa.text(
                        f"UPDATE {table} SET hash = :bare WHERE table_id = :t AND hash = :h "
                        'AND "range" = :r'
                    ),
                    {
                        "bare": bytes(hash_)[2:],
                        "t": table_id,
                        "h": bytes(hash_),
                        "r": bytes(range_),
                    },
                )
        conn.execute(
            sa.text('CREATE INDEX ix_ddb_items_scan ON ddb_items (table_id, bucket, hash, "range")')
        )
        conn.execute(sa.text("UPDATE schema_versions SET version = 1 WHERE component = 'dynamodb'"))


def reads(platform: Platform) -> dict[str, Any]:
    def keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return sorted((i["pk"]["S"], i["sk"]["N"]) for i in items)

    segments = [
        keys(all_pages(platform, "Scan", TableName="old", Segment=s, TotalSegments=3))
        for s in range(3)
    ]
    return {
        "get": call(
            platform, "GetItem", TableName="old", Key={"pk": {"S": "user-3"}, "sk": {"N": "10"}}
        ).get("Item"),
        "query": [
            i["sk"]["N"]
            for i in all_pages(
                platform,
                "Query",
                TableName="old",
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "user-2"}},
                Limit=2,
            )
        ],
        "scan": [
            (i["pk"]["S"], i["sk"]["N"])
            for i in all_pages(platform, "Scan", TableName="old", Limit=7)
        ],
        "segments": segments,
        "gsi": keys(
            all_pages(
                platform,
                "Query",
                TableName="old",
                IndexName="by_owner",
                KeyConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": {"S": "o1"}},
            )
        ),
        "count": call(platform, "DescribeTable", TableName="old")["Table"]["ItemCount"],
    }


def test_items_of_version_1_read_the_same_after_the_upgrade(config: PlatformConfig) -> None:
    with Platform(config, services=["dynamodb"]) as platform:
        call(platform, "CreateTable", **TABLE)
        for item in ITEMS:
            call(platform, "PutItem", TableName="old", Item=item)
        before = reads(platform)
        as_version_1(platform)

    with Platform(config, services=["dynamodb"]) as platform:
        with platform.store.read() as conn:
            version = conn.execute(
                sa.text("SELECT version FROM schema_versions WHERE component = 'dynamodb'")
            ).scalar_one()
            indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("ddb_items")}
        assert version == 2
        assert "ix_ddb_items_scan" not in indexes
        after = reads(platform)
        assert after == before
        assert after["get"] == ITEMS[10]
        assert after["count"] == len(ITEMS)
        assert sorted(k for segment in after["segments"] for k in segment) == sorted(
            (i["pk"]["S"], i["sk"]["N"]) for i in ITEMS
        )
        # Writes after the upgrade land in the same key space as the rekeyed items.
        call(platform, "PutItem", TableName="old", Item={**ITEMS[10], "v": {"S": "new"}})
        got = call(
            platform, "GetItem", TableName="old", Key={"pk": {"S": "user-3"}, "sk": {"N": "10"}}
        )
        assert got["Item"]["v"] == {"S": "new"}
        assert call(platform, "DescribeTable", TableName="old")["Table"]["ItemCount"] == len(ITEMS)
