"""DynamoDB ConditionExpression and UpdateExpression through boto3 (client and resource)."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError
from ddb_support import create_table
from ddb_support import error_of as _error


@pytest.fixture()
def table(ddb: Any) -> str:
    name = create_table(ddb, "expr", None)
    return name


KEY = {"pk": {"S": "a"}}


def test_put_condition_guards_creation(ddb: Any, table: str) -> None:
    ddb.put_item(
        TableName=table,
        Item=dict(KEY, v={"N": "1"}),
        ConditionExpression="attribute_not_exists(pk)",
    )
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table,
            Item=dict(KEY, v={"N": "2"}),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert _error(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert e.value.response["Item"] == dict(KEY, v={"N": "1"})
    assert ddb.get_item(TableName=table, Key=KEY)["Item"]["v"] == {"N": "1"}


def test_condition_failure_without_all_old_has_no_item(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item=dict(KEY, v={"N": "1"}))
    with pytest.raises(ClientError) as e:
        ddb.delete_item(
            TableName=table,
            Key=KEY,
            ConditionExpression="v > :n",
            ExpressionAttributeValues={":n": {"N": "5"}},
        )
    assert _error(e)[0] == "ConditionalCheckFailedException"
    assert "Item" not in e.value.response
    ddb.delete_item(
        TableName=table,
        Key=KEY,
        ConditionExpression="#v < :n",
        ExpressionAttributeNames={"#v": "v"},
        ExpressionAttributeValues={":n": {"N": "5"}},
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)


def test_resource_conditions_from_attr(resource_table: Any) -> None:
    resource_table.put_item(Item={"pk": "r", "n": 3, "tags": {"x", "y"}})
    resource_table.put_item(
        Item={"pk": "r", "n": 4}, ConditionExpression=Attr("n").eq(3) & Attr("tags").contains("x")
    )
    with pytest.raises(ClientError) as e:
        resource_table.put_item(Item={"pk": "r"}, ConditionExpression=Attr("n").between(5, 9))
    assert _error(e)[0] == "ConditionalCheckFailedException"
    assert resource_table.get_item(Key={"pk": "r"})["Item"] == {"pk": "r", "n": 4}


def test_unused_and_orphan_placeholders_are_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table,
            Item=KEY,
            ConditionExpression="attribute_not_exists(pk)",
            ExpressionAttributeValues={":unused": {"S": "x"}},
        )
    assert _error(e) == (
        "ValidationException",
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
    )
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=KEY, ExpressionAttributeNames={"#a": "a"})
    assert _error(e) == (
        "ValidationException",
        "ExpressionAttributeNames can only be specified when using expressions",
    )
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)


def test_update_expression_return_values(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item=dict(KEY, a={"N": "1"}, b={"S": "keep"}))
    update = {
        "UpdateExpression": "SET a = a + :one, c = :c REMOVE b",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":c": {"L": [{"S": "x"}]}},
    }
    out = ddb.update_item(TableName=table, Key=KEY, ReturnValues="UPDATED_OLD", **update)
    assert out["Attributes"] == {"a": {"N": "1"}, "b": {"S": "keep"}}
    out = ddb.update_item(TableName=table, Key=KEY, ReturnValues="UPDATED_NEW", **update)
    assert out["Attributes"] == {"a": {"N": "3"}, "c": {"L": [{"S": "x"}]}}
    out = ddb.update_item(TableName=table, Key=KEY, ReturnValues="ALL_OLD", **update)
    assert out["Attributes"] == dict(KEY, a={"N": "3"}, c={"L": [{"S": "x"}]})
    out = ddb.update_item(TableName=table, Key=KEY, ReturnValues="ALL_NEW", **update)
    assert out["Attributes"] == dict(KEY, a={"N": "5"}, c={"L": [{"S": "x"}]})
    assert "Attributes" not in ddb.update_item(TableName=table, Key=KEY, **update)
    assert ddb.get_item(TableName=table, Key=KEY)["Item"]["a"] == {"N": "6"}


def test_update_creates_item_and_nested_paths(resource_table: Any) -> None:
    out = resource_table.update_item(
        Key={"pk": "n"},
        UpdateExpression="SET m = :m, #l = list_append(if_not_exists(#l, :empty), :x) ADD c :one",
        ExpressionAttributeNames={"#l": "l"},
        ExpressionAttributeValues={":m": {"in": 1}, ":empty": [], ":x": ["x"], ":one": 1},
        ReturnValues="ALL_NEW",
    )
    assert out["Attributes"] == {"pk": "n", "m": {"in": 1}, "l": ["x"], "c": 1}
    out = resource_table.update_item(
        Key={"pk": "n"},
        UpdateExpression="SET m.#in = m.#in + :one, l[1] = :y",
        ExpressionAttributeNames={"#in": "in"},
        ExpressionAttributeValues={":one": 1, ":y": "y"},
        ReturnValues="UPDATED_NEW",
    )
    assert out["Attributes"] == {"m": {"in": 2}, "l": ["y"]}


def test_update_condition_and_key_refusal(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET v = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": {"N": "1"}},
        )
    assert _error(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET pk = :v",
            ExpressionAttributeValues={":v": {"S": "b"}},
        )
    assert _error(e) == (
        "ValidationException",
        "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key",
    )


def test_update_size_limit_and_mixed_parameters(ddb: Any, table: str) -> None:
    big = {"S": "x" * 300_000}
    ddb.put_item(TableName=table, Item=dict(KEY, a=big))
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET b = a",
        )
    assert _error(e) == (
        "ValidationException",
        "Item size to update has exceeded the maximum allowed size",
    )
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            UpdateExpression="SET b = :b",
            AttributeUpdates={"c": {"Value": {"S": "c"}}},
            ExpressionAttributeValues={":b": {"S": "b"}},
        )
    assert _error(e) == (
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}",
    )
