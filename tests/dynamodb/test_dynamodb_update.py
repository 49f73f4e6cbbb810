"""UpdateItem with the legacy AttributeUpdates through boto3 (expressions come later)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

KEY = {"id": {"S": "u"}}


def test_update_creates_puts_adds_and_deletes(ddb: Any, table: str) -> None:
    created = ddb.update_item(TableName=table, Key=KEY, ReturnValues="ALL_NEW")
    assert created["Attributes"] == KEY
    result = ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "name": {"Value": {"S": "x"}, "Action": "PUT"},
            "count": {"Value": {"N": "2.5"}, "Action": "ADD"},
            "tags": {"Value": {"SS": ["a", "b"]}, "Action": "ADD"},
        },
        ReturnValues="UPDATED_NEW",
    )
    assert result["Attributes"] == {
        "name": {"S": "x"},
        "count": {"N": "2.5"},
        "tags": {"SS": ["a", "b"]},
    }
    result = ddb.update_item(
        TableName=table,
        Key=KEY,
        AttributeUpdates={
            "count": {"Value": {"N": "-0.5"}, "Action": "ADD"},
            "tags": {"Value": {"SS": ["a"]}, "Action": "DELETE"},
            "name": {"Action": "DELETE"},
        },
        ReturnValues="UPDATED_OLD",
    )
    assert result["Attributes"] == {
        "name": {"S": "x"},
        "count": {"N": "2.5"},
        "tags": {"SS": ["a", "b"]},
    }
    item = ddb.get_item(TableName=table, Key=KEY)["Item"]
    assert item == {"id": {"S": "u"}, "count": {"N": "2"}, "tags": {"SS": ["b"]}}


def test_update_refuses_key_changes_mismatches_and_undefined_values(ddb: Any, table: str) -> None:
    ddb.put_item(TableName=table, Item=dict(KEY, s={"S": "text"}))
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"AttributeUpdates": {"id": {"Value": {"S": "v"}}}},
            "One or more parameter values were invalid: Cannot update attribute id. This "
            "attribute is part of the key",
        ),
        (
            {"AttributeUpdates": {"s": {"Value": {"N": "1"}, "Action": "ADD"}}},
            "One or more parameter values were invalid: Type mismatch for attribute to update",
        ),
        (
            {"AttributeUpdates": {"s": {"Value": {"S": "1"}, "Action": "ADD"}}},
            "One or more parameter values were invalid: ADD action is not supported for the type S",
        ),
        (
            {"UpdateExpression": "SET a = :a"},
            "Invalid UpdateExpression: An expression attribute value used in expression is not "
            "defined; attribute value: :a",
        ),
    ]
    for extra, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName=table, Key=KEY, **extra)
        assert e.value.response["Error"]["Code"] == "ValidationException"
        assert e.value.response["Error"]["Message"] == message
    assert ddb.get_item(TableName=table, Key=KEY)["Item"] == dict(KEY, s={"S": "text"})
