"""DynamoDB secondary indexes through boto3: upkeep on writes, and UpdateTable's GSI updates."""

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


@pytest.fixture()
def table(client: Any) -> str:
    """Table (pk S) with GSI by_status (status S, at N; INCLUDE title)."""
    name = f"idxw-{uuid.uuid4().hex[:10]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "at", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[index("by_status", "status", "at", "INCLUDE", ["title"])],
    )
    return name


def _by_status(client: Any, table: str, status: str) -> list[dict[str, Any]]:
    return client.query(  # type: ignore[no-any-return]
        TableName=table,
        IndexName="by_status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )["Items"]


def _put(client: Any, table: str, pk: str, status: str, at: int, **extra: str) -> None:
    item = {"pk": {"S": pk}, "status": {"S": status}, "at": {"N": str(at)}}
    item.update({k: {"S": v} for k, v in extra.items()})
    client.put_item(TableName=table, Item=item)


def test_updates_move_entries_and_deletes_remove_them(client: Any, table: str) -> None:
    _put(client, table, "a", "open", 1, title="A", body="x")
    _put(client, table, "b", "open", 2, title="B")
    assert _by_status(client, table, "open") == [
        {"pk": {"S": "a"}, "status": {"S": "open"}, "at": {"N": "1"}, "title": {"S": "A"}},
        {"pk": {"S": "b"}, "status": {"S": "open"}, "at": {"N": "2"}, "title": {"S": "B"}},
    ]
    client.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET #s = :s, title = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "done"}, ":t": {"S": "A2"}},
    )
    assert [i["pk"]["S"] for i in _by_status(client, table, "open")] == ["b"]
    assert _by_status(client, table, "done")[0]["title"] == {"S": "A2"}
    # Removing an index key attribute takes the item out of the (sparse) index.
    client.update_item(
        TableName=table,
        Key={"pk": {"S": "b"}},
        UpdateExpression="REMOVE #s",
        ExpressionAttributeNames={"#s": "status"},
    )
    assert _by_status(client, table, "open") == []
    client.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    assert _by_status(client, table, "done") == []
    assert client.scan(TableName=table, IndexName="by_status")["Count"] == 0


def test_batch_writes_maintain_the_index(client: Any, table: str) -> None:
    puts = [
        {
            "PutRequest": {
                "Item": {"pk": {"S": f"k{i}"}, "status": {"S": "new"}, "at": {"N": str(i)}}
            }
        }
        for i in range(5)
    ]
    client.batch_write_item(RequestItems={table: puts})
    assert [i["at"]["N"] for i in _by_status(client, table, "new")] == ["0", "1", "2", "3", "4"]
    deletes = [{"DeleteRequest": {"Key": {"pk": {"S": f"k{i}"}}}} for i in range(0, 5, 2)]
    client.batch_write_item(RequestItems={table: deletes})
    assert [i["at"]["N"] for i in _by_status(client, table, "new")] == ["1", "3"]


def test_index_key_type_mismatch_writes_nothing(client: Any, table: str) -> None:
    _put(client, table, "a", "open", 1)
    bad = {"pk": {"S": "a"}, "status": {"S": "open"}, "at": {"S": "soon"}}
    with pytest.raises(ClientError) as e:
        client.put_item(TableName=table, Item=bad)
    assert error_of(e) == (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for Index Key at "
        "Expected: N Actual: S IndexName: by_status",
    )
    with pytest.raises(ClientError) as e:
        client.update_item(
            TableName=table,
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET #s = :n",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":n": {"N": "3"}},
        )
    assert "Type mismatch for Index Key status Expected: S Actual: N" in error_of(e)[1]
    good = {"PutRequest": {"Item": {"pk": {"S": "z"}, "status": {"S": "open"}, "at": {"N": "9"}}}}
    with pytest.raises(ClientError):
        client.batch_write_item(
            RequestItems={table: [good, {"PutRequest": {"Item": bad | {"pk": {"S": "y"}}}}]}
        )
    # Nothing of the rejected writes is stored, in the table or in the index.
    assert client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["at"] == {"N": "1"}
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "z"}})
    assert [i["pk"]["S"] for i in _by_status(client, table, "open")] == ["a"]
    with pytest.raises(ClientError) as e:
        client.put_item(
            TableName=table, Item={"pk": {"S": "e"}, "status": {"S": ""}, "at": {"N": "1"}}
        )
    assert "IndexName: by_status, IndexKey: status" in error_of(e)[1]


def test_update_table_creates_a_backfilled_gsi_and_deletes_it(client: Any, table: str) -> None:
    for i in range(4):
        _put(client, table, f"k{i}", "open", i, owner=f"o{i % 2}")
    _put(client, table, "none", "open", 9)  # no owner: not in the new index
    client.put_item(TableName=table, Item={"pk": {"S": "num"}, "owner": {"N": "1"}})
    described = client.update_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": index("by_owner", "owner")}],
    )["TableDescription"]
    gsis = {g["IndexName"]: g for g in described["GlobalSecondaryIndexes"]}
    assert gsis["by_owner"]["IndexStatus"] == "ACTIVE"
    assert gsis["by_owner"]["ItemCount"] == 4  # the item with a numeric owner is skipped
    assert {"AttributeName": "owner", "AttributeType": "S"} in described["AttributeDefinitions"]
    found = client.query(
        TableName=table,
        IndexName="by_owner",
        KeyConditionExpression="#o = :o",
        ExpressionAttributeNames={"#o": "owner"},
        ExpressionAttributeValues={":o": {"S": "o1"}},
    )["Items"]
    assert sorted(i["pk"]["S"] for i in found) == ["k1", "k3"]
    assert set(found[0]) == {"pk", "owner"}
    # New writes are maintained in the new index too.
    _put(client, table, "k9", "open", 9, owner="o1")
    assert client.scan(TableName=table, IndexName="by_owner")["Count"] == 5

    described = client.update_table(
        TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_owner"}}]
    )["TableDescription"]
    assert [g["IndexName"] for g in described["GlobalSecondaryIndexes"]] == ["by_status"]
    assert "owner" not in {a["AttributeName"] for a in described["AttributeDefinitions"]}
    with pytest.raises(ClientError) as e:
        client.scan(TableName=table, IndexName="by_owner")
    assert error_of(e)[1] == "The table does not have the specified index: by_owner"


def test_update_table_gsi_errors(client: Any, table: str) -> None:
    def create(name: str, attr: str) -> dict[str, Any]:
        return {"Create": index(name, attr, projection="ALL")}

    with pytest.raises(ClientError) as e:
        client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[create("gsi", "missing")])
    assert error_of(e)[0] == "ValidationException"
    assert "Some index key attributes are not defined in AttributeDefinitions" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        client.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[create("by_status", "pk")]
        )
    assert error_of(e) == (
        "ValidationException",
        "Attempting to create an index which already exists",
    )
    with pytest.raises(ClientError) as e:
        client.update_table(
            TableName=table,
            GlobalSecondaryIndexUpdates=[create("gsi1", "pk"), create("gsi2", "pk")],
        )
    assert error_of(e)[0] == "LimitExceededException"
    with pytest.raises(ClientError) as e:
        client.update_table(
            TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}]
        )
    assert error_of(e)[0] == "ResourceNotFoundException"
    for i in range(19):
        client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[create(f"gsi{i}", "pk")])
    with pytest.raises(ClientError) as e:
        client.update_table(TableName=table, GlobalSecondaryIndexUpdates=[create("gsi20", "pk")])
    assert "exceeds the per-table limit of 20" in error_of(e)[1]
    gsis = client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
    assert len(gsis) == 20
