"""UpdateItem changes nested values without touching the item read before the update: the old
item (ReturnValues *_OLD, streams' OldImage) stays as stored, the new one is its own where it
changed (``apply_update`` copies on write, ``updated_item`` passes the loaded item as it is)."""

from __future__ import annotations

import copy
from typing import Any

from ddb_support import create_table

from lambdamaker.engines.tables import ExpressionAttributes, parse_update
from lambdamaker.services.dynamodb.update_ops import updated_item

OLD: dict[str, Any] = {
    "id": {"S": "u"},
    "m": {"M": {"a": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "0"}, {"S": "1"}]}}},
    "n": {"N": "1"},
}
TEXT = "SET m.a.x = :v, m.l[0] = :v REMOVE m.l[1] ADD n :one"
VALUES = {":v": {"S": "new"}, ":one": {"N": "1"}}
NEW = {
    "id": {"S": "u"},
    "m": {"M": {"a": {"M": {"x": {"S": "new"}}}, "l": {"L": [{"S": "new"}]}}},
    "n": {"N": "2"},
}


def test_updated_item_leaves_the_loaded_item_alone() -> None:
    old = copy.deepcopy(OLD)
    update = parse_update(TEXT, ExpressionAttributes(None, VALUES))
    new, size = updated_item({"id": {"S": "u"}}, old, update, {})
    assert old == OLD and new == NEW and size > 0
    assert new is not old and new["m"]["M"] is not old["m"]["M"]
    assert new["m"]["M"]["l"]["L"] is not old["m"]["M"]["l"]["L"]
    # A new item starts from the key, which stays as it was too.
    key = {"id": {"S": "k"}}
    created, _ = updated_item(
        key, None, parse_update("SET a = :v", ExpressionAttributes(None, VALUES)), {}
    )
    assert key == {"id": {"S": "k"}} and created == {"id": {"S": "k"}, "a": {"S": "new"}}


def test_nested_updates_return_the_old_item_as_stored(ddb: Any) -> None:
    table = create_table(ddb, "upd-old", None, hash_key="id")
    ddb.put_item(TableName=table, Item=OLD)
    params = {
        "TableName": table,
        "Key": {"id": {"S": "u"}},
        "UpdateExpression": TEXT,
        "ExpressionAttributeValues": VALUES,
    }
    assert ddb.update_item(**params, ReturnValues="ALL_OLD")["Attributes"] == OLD
    assert ddb.get_item(TableName=table, Key={"id": {"S": "u"}})["Item"] == NEW
    ddb.put_item(TableName=table, Item=OLD)
    got = ddb.update_item(**params, ReturnValues="UPDATED_OLD")["Attributes"]
    assert got == {"m": OLD["m"], "n": OLD["n"]}
    ddb.put_item(TableName=table, Item=OLD)
    assert ddb.update_item(**params, ReturnValues="ALL_NEW")["Attributes"] == NEW
    # Again on the stored new item: the same update applies to what was stored.
    again = ddb.update_item(**params, ReturnValues="ALL_NEW")["Attributes"]
    assert again["n"] == {"N": "3"} and again["m"]["M"]["l"] == {"L": [{"S": "new"}]}
