"""Writes that skip reading the item they replace (``item_ops.blind``), and Queries on SQLite's
point reader, on SQLite and PostgreSQL: the stored items, the responses and the capacity
reported are those of the reading path, and a table with an index still gets its entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ddb_inprocess import NOW, DynamoDB, in_process
from ddb_support import PK_SK, index

from lambdamaker.testing import FakeClock


@pytest.fixture()
def ddb(tmp_path: Path, store_url: str) -> Iterator[DynamoDB]:
    with in_process(tmp_path / "data", store_url, FakeClock(NOW), loop=False) as db:
        yield db


def _item(sk: int, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"N": str(sk)}, **extra}


def _puts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": item}} for item in items]


def test_batch_writes_replace_and_delete_without_reading(ddb: DynamoDB) -> None:
    ddb("CreateTable", TableName="plain", **PK_SK)
    ddb("PutItem", TableName="plain", Item=_item(1, old={"S": "x" * 3000}))
    ddb("PutItem", TableName="plain", Item=_item(2))
    writes = _puts([_item(1, v={"N": "0100"}), _item(3, v={"N": "-1.50"})])
    writes.append({"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"N": "2"}}}})
    writes.append({"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"N": "9"}}}})
    assert ddb("BatchWriteItem", RequestItems={"plain": writes}) == {"UnprocessedItems": {}}
    query = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}}
    out = ddb("Query", TableName="plain", **query)
    assert out["Items"] == [_item(1, v={"N": "100"}), _item(3, v={"N": "-1.5"})]
    assert (out["Count"], out["ScannedCount"]) == (2, 2)
    first = ddb("Query", TableName="plain", Limit=1, ScanIndexForward=False, **query)
    assert first["Items"] == [_item(3, v={"N": "-1.5"})]
    assert first["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "3"}}
    start = first["LastEvaluatedKey"]
    rest = ddb("Query", TableName="plain", ExclusiveStartKey=start, ScanIndexForward=False, **query)
    assert rest["Items"] == [_item(1, v={"N": "100"})]
    assert "LastEvaluatedKey" not in rest


def test_capacity_and_old_items_are_still_read_when_asked_for(ddb: DynamoDB) -> None:
    ddb("CreateTable", TableName="plain", **PK_SK)
    big = _item(1, v={"S": "x" * 3000})
    ddb("PutItem", TableName="plain", Item=big)
    # The replaced 3 KB item counts: 3 units, though the new item is tiny.
    out = ddb("PutItem", TableName="plain", Item=_item(1), ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": "plain", "CapacityUnits": 3.0}
    out = ddb("PutItem", TableName="plain", Item=big, ReturnValues="ALL_OLD")
    assert out == {"Attributes": _item(1)}
    writes = _puts([_item(1)])
    out = ddb("BatchWriteItem", RequestItems={"plain": writes}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == [{"TableName": "plain", "CapacityUnits": 3.0}]
    out = ddb(
        "DeleteItem",
        TableName="plain",
        Key={"pk": {"S": "p"}, "sk": {"N": "1"}},
        ReturnValues="ALL_OLD",
    )
    assert out == {"Attributes": _item(1)}
    assert ddb("GetItem", TableName="plain", Key={"pk": {"S": "p"}, "sk": {"N": "1"}}) == {}


def test_binary_and_nested_values_round_trip(ddb: DynamoDB) -> None:
    ddb("CreateTable", TableName="plain", **PK_SK)
    binary = _item(
        1,
        b={"B": b"\x00\xff"},
        bs={"BS": [b"a", b"b"]},
        m={"M": {"B": {"L": [{"B": b"\x01"}, {"S": "B"}]}}},
    )
    text = _item(2, B={"S": "B"}, BS={"SS": ["B", "BS"]}, n={"NS": ["1", "2.50"]})
    ddb("BatchWriteItem", RequestItems={"plain": _puts([binary, text])})
    got = ddb("GetItem", TableName="plain", Key={"pk": {"S": "p"}, "sk": {"N": "1"}})
    assert got["Item"] == binary
    got = ddb("GetItem", TableName="plain", Key={"pk": {"S": "p"}, "sk": {"N": "2"}})
    assert got["Item"] == {**text, "n": {"NS": ["1", "2.5"]}}


def test_a_table_with_an_index_still_sees_every_change(ddb: DynamoDB) -> None:
    # (Tables with a stream: test_ddb_streams_api writes them with BatchWriteItem too.)
    attributes = [*PK_SK["AttributeDefinitions"], {"AttributeName": "g", "AttributeType": "S"}]
    ddb(
        "CreateTable",
        TableName="indexed",
        **{**PK_SK, "AttributeDefinitions": attributes},
        GlobalSecondaryIndexes=[index("byg", "g", projection="ALL")],
    )
    ddb("PutItem", TableName="indexed", Item=_item(1, g={"S": "a"}))
    ddb("PutItem", TableName="indexed", Item=_item(2, g={"S": "a"}))
    writes = _puts([_item(1, g={"S": "b"})])
    writes.append({"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"N": "2"}}}})
    ddb("BatchWriteItem", RequestItems={"indexed": writes})

    def by_g(value: str) -> list[dict[str, Any]]:
        out = ddb(
            "Query",
            TableName="indexed",
            IndexName="byg",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": value}},
        )
        return list(out["Items"])

    assert by_g("b") == [_item(1, g={"S": "b"})]
    assert by_g("a") == []
