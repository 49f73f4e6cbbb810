"""DynamoDB table lifecycle through boto3: create, describe, list, update, TTL, delete."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import error_of as _error


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def _create(ddb: Any, name: str, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    args.update(extra)
    result: dict[str, Any] = ddb.create_table(**args)["TableDescription"]
    return result


def test_create_table_is_active_at_once_and_described(ddb: Any) -> None:
    name = _name()
    created = _create(ddb, name)
    assert created["TableStatus"] == "ACTIVE"
    assert (
        created["TableArn"]
        == f"arn:aws:dynamodb:us-east-1:{created['TableArn'].split(':')[4]}:table/{name}"
    )
    assert created["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["TableId"] == created["TableId"]
    assert described["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert described["ItemCount"] == 0
    assert described["CreationDateTime"] == created["CreationDateTime"]
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})


def test_creating_an_existing_table_is_resource_in_use(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    with pytest.raises(ClientError) as e:
        _create(ddb, name)
    assert _error(e) == ("ResourceInUseException", f"Table already exists: {name}")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}]},
            "One or more parameter values were invalid: Some index key attributes are not "
            "defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [other]",
        ),
        (
            {
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "x", "AttributeType": "N"},
                ]
            },
            "One or more parameter values were invalid: Number of attributes in KeySchema does "
            "not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            {"BillingMode": "PROVISIONED"},
            "One or more parameter values were invalid: ReadCapacityUnits and "
            "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ),
        (
            {"ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}},
            "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
            "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
        ),
        (
            {"KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}]},
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
    ],
)
def test_invalid_table_definitions_are_refused(
    ddb: Any, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as e:
        _create(ddb, _name(), **extra)
    assert _error(e) == ("ValidationException", message)


def test_indexes_are_validated_and_described(ddb: Any) -> None:
    name = _name()
    defs = [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"},
        {"AttributeName": "l", "AttributeType": "B"},
    ]
    key = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    gsi = {
        "IndexName": "by-g",
        "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    lsi = {
        "IndexName": "by-l",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "l", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    created = _create(
        ddb,
        name,
        KeySchema=key,
        AttributeDefinitions=defs,
        GlobalSecondaryIndexes=[gsi],
        LocalSecondaryIndexes=[lsi],
    )
    assert created["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    assert created["GlobalSecondaryIndexes"][0]["IndexArn"].endswith(f"table/{name}/index/by-g")
    assert created["LocalSecondaryIndexes"][0]["IndexName"] == "by-l"

    bad_lsi = dict(
        lsi,
        KeySchema=[
            {"AttributeName": "g", "KeyType": "HASH"},
            {"AttributeName": "l", "KeyType": "RANGE"},
        ],
    )
    with pytest.raises(ClientError) as e:
        _create(
            ddb, _name(), KeySchema=key, AttributeDefinitions=defs, LocalSecondaryIndexes=[bad_lsi]
        )
    assert "does not have the same leading hash key" in _error(e)[1]

    with pytest.raises(ClientError) as e:
        _create(
            ddb,
            _name(),
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[gsi],
        )
    assert _error(e)[0] == "ValidationException"
    assert "Keys: [g]" in _error(e)[1]


def test_list_tables_pages_in_name_order(ddb: Any) -> None:
    prefix = f"list-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        _create(ddb, n)
    everything = ddb.list_tables(ExclusiveStartTableName=prefix)["TableNames"]
    mine = [n for n in everything if n.startswith(prefix)]
    assert mine == names
    page = ddb.list_tables(ExclusiveStartTableName=prefix, Limit=2)
    assert page["TableNames"] == names[:2]
    assert page["LastEvaluatedTableName"] == names[1]
    page = ddb.list_tables(ExclusiveStartTableName=names[1], Limit=2)
    assert page["TableNames"] == names[2:4]
    paginated = [
        n
        for p in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 3})
        for n in p["TableNames"]
    ]
    assert [n for n in paginated if n.startswith(prefix)] == names


def test_delete_table_removes_it_and_its_items(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}})
    deleted = ddb.delete_table(TableName=name)["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    for call in (ddb.describe_table, ddb.delete_table):
        with pytest.raises(ClientError) as e:
            call(TableName=name)
        assert _error(e) == (
            "ResourceNotFoundException",
            f"Requested resource not found: Table: {name} not found",
        )
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"id": {"S": "a"}})
    assert _error(e) == ("ResourceNotFoundException", "Requested resource not found")
    _create(ddb, name)
    assert "Item" not in ddb.get_item(TableName=name, Key={"id": {"S": "a"}})


def test_update_table_switches_billing_and_throughput(ddb: Any) -> None:
    name = _name()
    _create(
        ddb,
        name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        )
    assert "will not change" in _error(e)[1]
    updated = ddb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3}
    )["TableDescription"]
    assert updated["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    on_demand = ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    summary = on_demand["TableDescription"]["BillingModeSummary"]
    assert summary["BillingMode"] == "PAY_PER_REQUEST"
    assert "LastUpdateToPayPerRequestDateTime" in summary
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


def test_time_to_live_is_stored_and_described(ddb: Any) -> None:
    name = _name()
    _create(ddb, name)
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"
    }
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert (
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)[
            "TimeToLiveSpecification"
        ]
        == spec
    )
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires",
    }
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    assert _error(e) == ("ValidationException", "TimeToLive is already enabled")
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"}
    )
    assert (
        ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
        == "DISABLED"
    )
