"""DynamoDB KeyConditionExpression, FilterExpression and ProjectionExpression through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from ddb_support import create_table
from ddb_support import error_of as _error


@pytest.fixture()
def table(ddb: Any) -> str:
    """(pk: S, sk: N): partition "p" holds sk 0..9 with ``odd`` and ``m`` attributes."""
    name = create_table(ddb, "exr", ("sk", "N"))
    for i in range(10):
        ddb.put_item(
            TableName=name,
            Item={
                "pk": {"S": "p"},
                "sk": {"N": str(i)},
                "odd": {"BOOL": i % 2 == 1},
                "m": {"M": {"a": {"N": str(i)}, "b": {"S": "drop"}}},
            },
        )
    ddb.put_item(TableName=name, Item={"pk": {"S": "q"}, "sk": {"N": "0"}})
    return name


def test_key_conditions_from_resource(resource_table: Any) -> None:
    def sks(**kwargs: Any) -> list[int]:
        return [int(i["sk"]) for i in resource_table.query(**kwargs)["Items"]]

    assert sks(KeyConditionExpression=Key("pk").eq("p")) == list(range(10))
    assert sks(KeyConditionExpression=Key("pk").eq("p") & Key("sk").between(3, 5)) == [3, 4, 5]
    assert sks(KeyConditionExpression=Key("pk").eq("p") & Key("sk").gt(7)) == [8, 9]
    assert sks(
        KeyConditionExpression=Key("pk").eq("p") & Key("sk").lte(2), ScanIndexForward=False
    ) == [2, 1, 0]
    assert sks(KeyConditionExpression=Key("pk").eq("q")) == [0]


def test_filter_runs_after_limit(resource_table: Any) -> None:
    out = resource_table.query(
        KeyConditionExpression=Key("pk").eq("p"), FilterExpression=Attr("odd").eq(True), Limit=4
    )
    assert [int(i["sk"]) for i in out["Items"]] == [1, 3]
    assert (out["Count"], out["ScannedCount"]) == (2, 4)
    assert out["LastEvaluatedKey"] == {"pk": "p", "sk": 3}
    out = resource_table.scan(FilterExpression=Attr("m.a").gte(8), Select="COUNT")
    assert (out["Count"], out["ScannedCount"]) == (2, 11)
    assert "Items" not in out


def test_projection_on_reads(ddb: Any, table: str) -> None:
    projection = {"ProjectionExpression": "sk, #m.a", "ExpressionAttributeNames": {"#m": "m"}}
    key = {"pk": {"S": "p"}, "sk": {"N": "2"}}
    got = ddb.get_item(TableName=table, Key=key, **projection)["Item"]
    assert got == {"sk": {"N": "2"}, "m": {"M": {"a": {"N": "2"}}}}
    batch = ddb.batch_get_item(RequestItems={table: {"Keys": [key], **projection}})
    assert batch["Responses"][table] == [got]
    out = ddb.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND sk < :two",
        ExpressionAttributeValues={":p": {"S": "p"}, ":two": {"N": "2"}},
        **projection,
    )
    assert [i["m"]["M"] for i in out["Items"]] == [{"a": {"N": "0"}}, {"a": {"N": "1"}}]
    scanned = ddb.scan(TableName=table, ProjectionExpression="pk")["Items"]
    assert len(scanned) == 11 and all(set(i) == {"pk"} for i in scanned)


def test_key_condition_errors(ddb: Any, table: str) -> None:
    values = {":p": {"S": "p"}, ":x": {"N": "1"}}
    cases = [
        ("sk = :x", values | {}, "Query condition missed key schema element: pk"),
        (
            "pk = :p",
            values,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}",
        ),
        (
            "pk = :p AND begins_with(sk, :x)",
            values,
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
            "operator or function: begins_with, operand type: N",
        ),
        (
            "pk = :x",
            {":x": {"N": "1"}},
            "One or more parameter values were invalid: Condition parameter type does not match "
            "schema type",
        ),
    ]
    for text, attrs, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.query(TableName=table, KeyConditionExpression=text, ExpressionAttributeValues=attrs)
        assert _error(e) == ("ValidationException", message), text
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, ProjectionExpression="pk", AttributesToGet=["pk"])
    assert _error(e)[1].startswith("Can not use both expression and non-expression parameters")
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, FilterExpression="a = :a")
    assert _error(e)[0] == "ValidationException"
