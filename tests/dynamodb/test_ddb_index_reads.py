"""DynamoDB secondary indexes through boto3: Query and Scan with IndexName, projections, paging."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import error_of, index


@pytest.fixture(scope="module")
def client(boto_client: Callable[..., Any]) -> Any:
    return boto_client("dynamodb")


def _create(client: Any) -> str:
    """Table (pk S, sk N) with GSIs by_owner (owner S, score N; ALL), by_color (color S;
    KEYS_ONLY), by_size (owner S, size N; INCLUDE note) and LSI by_rank (pk, rank N; KEYS_ONLY)."""
    name = f"idx-{uuid.uuid4().hex[:10]}"
    key_schema = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    client.create_table(
        TableName=name,
        KeySchema=key_schema,
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": t}
            for a, t in [
                ("pk", "S"),
                ("sk", "N"),
                ("owner", "S"),
                ("score", "N"),
                ("color", "S"),
                ("size", "N"),
                ("rank", "N"),
            ]
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            index("by_owner", "owner", "score", "ALL"),
            index("by_color", "color"),
            index("by_size", "owner", "size", "INCLUDE", ["note"]),
        ],
        LocalSecondaryIndexes=[index("by_rank", "pk", "rank")],
    )
    return name


def _item(pk: str, sk: int, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
    for k, v in extra.items():
        item[k] = {"N": str(v)} if isinstance(v, int) else {"S": v}
    return item


@pytest.fixture(scope="module")
def table(client: Any) -> str:
    """10 items of owner "ann" (score 9..0, one pair of equal scores), 3 of "bob", and items
    without owner/color (sparse)."""
    name = _create(client)
    writes = []
    for i in range(10):
        score = 9 - i if i != 9 else 1  # scores 9..1 and a second 1
        writes.append(
            _item("p", i, owner="ann", score=score, color="red", size=i, rank=100 - i, note=f"n{i}")
        )
    for i in range(3):
        writes.append(_item("q", i, owner="bob", score=i, extra="x"))
    writes += [_item("r", i, other="y") for i in range(4)]
    for chunk in [writes[i : i + 25] for i in range(0, len(writes), 25)]:
        client.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": w}} for w in chunk]})
    return name


def _query(client: Any, table: str, index: str, owner: str, **kw: Any) -> dict[str, Any]:
    return client.query(  # type: ignore[no-any-return]
        TableName=table,
        IndexName=index,
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": owner}},
        **kw,
    )


def _pairs(items: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(int(i["score"]["N"]), int(i["sk"]["N"])) for i in items]


def test_gsi_query_orders_by_index_range_then_table_key(client: Any, table: str) -> None:
    result = _query(client, table, "by_owner", "ann")
    expected = [(1, 8), (1, 9)] + [(9 - i, i) for i in range(7, -1, -1)]
    assert _pairs(result["Items"]) == expected
    assert result["Items"][0]["note"] == {"S": "n8"}  # ALL projection: the whole item
    backward = _query(client, table, "by_owner", "ann", ScanIndexForward=False)
    assert _pairs(backward["Items"]) == expected[::-1]
    assert _query(client, table, "by_owner", "bob")["Count"] == 3
    assert _query(client, table, "by_owner", "nobody")["Items"] == []


@pytest.mark.parametrize("forward", [True, False])
def test_gsi_query_pages_carry_table_and_index_keys(client: Any, table: str, forward: bool) -> None:
    seen: list[tuple[int, int]] = []
    start: dict[str, Any] | None = None
    pages = 0
    while True:
        kw: dict[str, Any] = {"Limit": 3, "ScanIndexForward": forward}
        if start:
            kw["ExclusiveStartKey"] = start
        page = _query(client, table, "by_owner", "ann", **kw)
        seen += _pairs(page["Items"])
        pages += 1
        start = page.get("LastEvaluatedKey")
        if start is None:
            break
        assert set(start) == {"pk", "sk", "owner", "score"}
    expected = [(1, 8), (1, 9)] + [(9 - i, i) for i in range(7, -1, -1)]
    assert seen == (expected if forward else expected[::-1])
    assert pages == 4


def test_gsi_query_range_condition_filter_and_projection(client: Any, table: str) -> None:
    result = client.query(
        TableName=table,
        IndexName="by_owner",
        KeyConditionExpression="#o = :o AND score BETWEEN :lo AND :hi",
        FilterExpression="sk <> :skip",
        ProjectionExpression="sk, note",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={
            ":o": {"S": "ann"},
            ":lo": {"N": "3"},
            ":hi": {"N": "6"},
            ":skip": {"N": "4"},
        },
    )
    assert result["Items"] == [  # scores 3, 4, 6; score 5 is sk 4, filtered out
        {"sk": {"N": "6"}, "note": {"S": "n6"}},
        {"sk": {"N": "5"}, "note": {"S": "n5"}},
        {"sk": {"N": "3"}, "note": {"S": "n3"}},
    ]
    assert (result["Count"], result["ScannedCount"]) == (3, 4)
    count = _query(client, table, "by_owner", "ann", Select="COUNT")
    assert count["Count"] == 10 and "Items" not in count


def test_keys_only_and_include_projections(client: Any, table: str) -> None:
    keys_only = client.query(
        TableName=table,
        IndexName="by_color",
        KeyConditionExpression="color = :c",
        ExpressionAttributeValues={":c": {"S": "red"}},
    )
    assert keys_only["Count"] == 10
    assert all(set(i) == {"pk", "sk", "color"} for i in keys_only["Items"])
    include = _query(client, table, "by_size", "ann", Limit=2)
    assert include["Items"][0] == {
        "pk": {"S": "p"},
        "sk": {"N": "0"},
        "owner": {"S": "ann"},
        "size": {"N": "0"},
        "note": {"S": "n0"},
    }
    assert set(include["LastEvaluatedKey"]) == {"pk", "sk", "owner", "size"}


def test_gsi_refuses_what_it_cannot_serve(client: Any, table: str) -> None:
    with pytest.raises(ClientError) as e:
        _query(client, table, "by_color_x", "ann")
    assert error_of(e) == (
        "ValidationException",
        "The table does not have the specified index: by_color_x",
    )
    with pytest.raises(ClientError) as e:
        _query(client, table, "by_size", "ann", Select="ALL_ATTRIBUTES")
    assert error_of(e)[1] == (
        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
        "for global secondary index by_size because its projection type is not ALL"
    )
    with pytest.raises(ClientError) as e:
        _query(client, table, "by_owner", "ann", ConsistentRead=True)
    assert error_of(e)[1] == "Consistent reads are not supported on global secondary indexes"
    with pytest.raises(ClientError) as e:
        _query(client, table, "by_size", "ann", ProjectionExpression="extra")
    assert "does not project [extra]" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        client.query(
            TableName=table,
            IndexName="by_owner",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
        )
    assert error_of(e) == (
        "ValidationException",
        "Query condition missed key schema element: owner",
    )


def test_lsi_query_fetches_unprojected_attributes_from_the_table(client: Any, table: str) -> None:
    ranks = client.query(
        TableName=table,
        IndexName="by_rank",
        KeyConditionExpression="pk = :p AND #r > :r",
        ExpressionAttributeNames={"#r": "rank"},
        ExpressionAttributeValues={":p": {"S": "p"}, ":r": {"N": "94"}},
        ConsistentRead=True,
    )
    assert [int(i["rank"]["N"]) for i in ranks["Items"]] == [95, 96, 97, 98, 99, 100]
    assert set(ranks["Items"][0]) == {"pk", "sk", "rank"}
    full = client.query(
        TableName=table,
        IndexName="by_rank",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Select="ALL_ATTRIBUTES",
        ScanIndexForward=False,
        Limit=1,
    )
    assert full["Items"][0]["note"] == {"S": "n0"}
    assert full["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "0"}, "rank": {"N": "100"}}
    picked = client.query(
        TableName=table,
        IndexName="by_rank",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        ProjectionExpression="note",
        Limit=1,
    )
    assert picked["Items"] == [{"note": {"S": "n9"}}]


def test_sparse_index_scan_and_parallel_segments(client: Any, table: str) -> None:
    scanned = client.scan(TableName=table, IndexName="by_owner")
    assert scanned["Count"] == 13  # the four items without owner are not in the index
    colors = client.scan(TableName=table, IndexName="by_color")
    assert colors["Count"] == 10
    seen: list[tuple[str, str]] = []
    for segment in range(3):
        start: dict[str, Any] | None = None
        while True:
            kw: dict[str, Any] = {"Segment": segment, "TotalSegments": 3, "Limit": 2}
            if start:
                kw["ExclusiveStartKey"] = start
            page = client.scan(TableName=table, IndexName="by_owner", **kw)
            seen += [(i["pk"]["S"], i["sk"]["N"]) for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if start is None:
                break
    assert sorted(seen) == sorted(
        [("p", str(i)) for i in range(10)] + [("q", str(i)) for i in range(3)]
    )
    with pytest.raises(ClientError) as e:
        client.scan(TableName=table, IndexName="by_owner", ConsistentRead=True)
    assert error_of(e)[0] == "ValidationException"


def test_describe_table_counts_index_entries(client: Any, table: str) -> None:
    described = client.describe_table(TableName=table)["Table"]
    counts = {
        i["IndexName"]: i["ItemCount"]
        for i in described["GlobalSecondaryIndexes"] + described["LocalSecondaryIndexes"]
    }
    assert counts == {"by_owner": 13, "by_color": 10, "by_size": 10, "by_rank": 10}
    sizes = {i["IndexName"]: i["IndexSizeBytes"] for i in described["GlobalSecondaryIndexes"]}
    assert sizes["by_owner"] > sizes["by_color"] > 0
