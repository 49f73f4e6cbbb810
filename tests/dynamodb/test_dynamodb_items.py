"""DynamoDB items through boto3: PutItem, GetItem, DeleteItem, batches, the resource API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import error_of as _error


def test_put_then_get_returns_every_type(ddb: Any, table: str) -> None:
    item = {
        "id": {"S": "a"},
        "n": {"N": "01.50"},
        "b": {"B": b"\x00\xff"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.0"]},
        "bs": {"BS": [b"1", b"2"]},
        "m": {"M": {"inner": {"L": [{"NULL": True}, {"BOOL": False}, {"S": ""}]}}},
    }
    assert "Attributes" not in ddb.put_item(TableName=table, Item=item)
    got = ddb.get_item(TableName=table, Key={"id": {"S": "a"}}, ConsistentRead=True)["Item"]
    assert got == dict(item, n={"N": "1.5"}, ns={"NS": ["1", "2"]})
    only = ddb.get_item(TableName=table, Key={"id": {"S": "a"}}, AttributesToGet=["n"])
    assert only["Item"] == {"n": {"N": "1.5"}}


def test_put_and_delete_return_the_old_item(ddb: Any, table: str) -> None:
    key = {"id": {"S": "k"}}
    assert "Attributes" not in ddb.put_item(TableName=table, Item=key, ReturnValues="ALL_OLD")
    second = ddb.put_item(TableName=table, Item=dict(key, v={"N": "2"}), ReturnValues="ALL_OLD")
    assert second["Attributes"] == key
    deleted = ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    assert deleted["Attributes"] == dict(key, v={"N": "2"})
    assert "Item" not in ddb.get_item(TableName=table, Key=key)
    assert "Attributes" not in ddb.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=key, ReturnValues="ALL_NEW")
    assert _error(e)[0] == "ValidationException"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"id": {"N": "1"}},
            "One or more parameter values were invalid: Type mismatch for key id expected: S "
            "actual: N",
        ),
        (
            {"other": {"S": "x"}},
            "One or more parameter values were invalid: Missing the key id in the item",
        ),
        (
            {"id": {"S": ""}},
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            "cannot contain an empty string value. Key: id",
        ),
        (
            {"id": {"S": "a"}, "big": {"S": "x" * (400 * 1024)}},
            "Item size has exceeded the maximum allowed size",
        ),
    ],
)
def test_invalid_items_are_refused(
    ddb: Any, table: str, item: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=item)
    assert _error(e) == ("ValidationException", message)


def test_an_item_just_under_the_limit_is_accepted(ddb: Any, table: str) -> None:
    body = "x" * (400 * 1024 - len("id") - 1 - len("big"))
    ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "big": {"S": body}})
    got = ddb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"]
    assert len(got["big"]["S"]) == len(body)


def test_wrong_keys_do_not_match_the_schema(ddb: Any, table: str) -> None:
    for key in ({"id": {"N": "1"}}, {"id": {"S": "a"}, "x": {"S": "b"}}, {"x": {"S": "a"}}):
        with pytest.raises(ClientError) as e:
            ddb.get_item(TableName=table, Key=key)
        assert _error(e) == (
            "ValidationException",
            "The provided key element does not match the schema",
        )


def test_unknown_tables_are_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="nope-nope", Key={"id": {"S": "a"}})
    assert _error(e) == ("ResourceNotFoundException", "Requested resource not found")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName="nope-nope", Item={"id": {"S": "a"}})
    assert _error(e) == ("ResourceNotFoundException", "Requested resource not found")


def test_batch_write_and_get(ddb: Any, table: str) -> None:
    puts = [{"PutRequest": {"Item": {"id": {"S": f"i{i}"}, "v": {"N": str(i)}}}} for i in range(25)]
    assert ddb.batch_write_item(RequestItems={table: puts})["UnprocessedItems"] == {}
    keys = [{"id": {"S": f"i{i}"}} for i in range(30)]
    got = ddb.batch_get_item(RequestItems={table: {"Keys": keys[:100]}})
    assert got["UnprocessedKeys"] == {}
    assert sorted(int(i["v"]["N"]) for i in got["Responses"][table]) == list(range(25))
    ddb.batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": keys[0]}}]})
    assert "Item" not in ddb.get_item(TableName=table, Key=keys[0])

    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: puts + puts[:1]})
    assert _error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: puts[:2] + puts[:1]})
    assert _error(e) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={table: {"Keys": keys[:1] + keys[:1]}})
    assert _error(e) == ("ValidationException", "Provided list of item keys contains duplicates")


def test_resource_table_api_round_trips_python_values(resource_table: Any) -> None:
    t = resource_table
    assert t.key_schema == [{"AttributeName": "id", "KeyType": "HASH"}]
    t.put_item(Item={"id": "r", "count": 3, "price": Decimal("9.99"), "tags": {"a", "b"}})
    assert t.get_item(Key={"id": "r"})["Item"] == {
        "id": "r",
        "count": Decimal(3),
        "price": Decimal("9.99"),
        "tags": {"a", "b"},
    }
    with t.batch_writer() as batch:
        for i in range(40):
            batch.put_item(Item={"id": f"w{i}", "i": i})
    assert t.scan(Select="COUNT")["Count"] == 41
    t.delete_item(Key={"id": "r"})
    assert "Item" not in t.get_item(Key={"id": "r"})


def test_consumed_capacity_is_reported_when_asked(ddb: Any, table: str) -> None:
    item = {"id": {"S": "c"}, "body": {"S": "x" * 5000}}
    put = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
    assert put["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 5.0}
    key = {"id": {"S": "c"}}
    eventual = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 1.0
    strong = ddb.get_item(
        TableName=table, Key=key, ConsistentRead=True, ReturnConsumedCapacity="INDEXES"
    )
    assert strong["ConsumedCapacity"]["Table"] == {"CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}
    assert "ConsumedCapacity" not in ddb.get_item(TableName=table, Key=key)
    batch = ddb.batch_get_item(
        RequestItems={table: {"Keys": [key]}}, ReturnConsumedCapacity="TOTAL"
    )
    assert batch["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 1.0}]
