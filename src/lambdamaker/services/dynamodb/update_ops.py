"""UpdateItem with an ``UpdateExpression`` (tables engine), the legacy ``AttributeUpdates``
(PUT, DELETE, ADD), or neither (the item is created with its key alone); an optional
ConditionExpression (or legacy ``Expected``) is checked against the stored item in the same transaction.

Invariants: key attributes are never updated; the result is validated and size-checked like a
PutItem; ReturnValues reports exactly the attributes DynamoDB reports (``UPDATED_*`` only the
attributes, or with an expression the paths, named in the update).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from lambdamaker.engines.tables import Update, apply_update, project
from lambdamaker.services.base import RequestContext
from lambdamaker.services.dynamodb import item_store
from lambdamaker.services.dynamodb.capacity import Meter, write_units
from lambdamaker.services.dynamodb.common import DynamoDBBase, Table, request_key
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.item_ops import write_expressions
from lambdamaker.services.dynamodb.keys import EXACT
from lambdamaker.services.dynamodb.values import (
    MAX_ITEM_BYTES,
    Item,
    canonical_number,
    check_item,
    check_value,
    item_size,
)

_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
_SETS = ("SS", "NS", "BS")


def _mismatch() -> Exception:
    return invalid("Type mismatch for attribute to update")


def _apply(item: Item, name: str, update: dict[str, Any]) -> None:
    action = update.get("Action") or "PUT"
    raw = update.get("Value")
    value = check_value(raw) if raw is not None else None
    current = item.get(name)
    if action == "PUT":
        if value is None:
            raise invalid("Only DELETE action is allowed when no attribute value is specified")
        item[name] = value
        return
    if action == "DELETE":
        if value is None:
            item.pop(name, None)
            return
        ((type_, members),) = value.items()
        if type_ not in _SETS:
            raise invalid(f"DELETE action with value is not supported for the type {type_}")
        if current is None:
            return
        if type_ not in current:
            raise _mismatch()
        remaining = [m for m in current[type_] if m not in members]
        if remaining:
            item[name] = {type_: remaining}
        else:
            del item[name]
        return
    # ADD
    if value is None:
        raise invalid("Only DELETE action is allowed when no attribute value is specified")
    ((type_, operand),) = value.items()
    if type_ == "N":
        if current is None:
            item[name] = value
        elif "N" not in current:
            raise _mismatch()
        else:
            total = EXACT.add(EXACT.create_decimal(current["N"]), EXACT.create_decimal(operand))
            item[name] = {"N": canonical_number(str(total))}
        return
    if type_ not in _SETS:
        raise invalid(f"ADD action is not supported for the type {type_}")
    if current is None:
        item[name] = value
    elif type_ not in current:
        raise _mismatch()
    else:
        item[name] = {type_: current[type_] + [m for m in operand if m not in current[type_]]}


def check_key_untouched(
    key_item: Item, update: Update | None, updates: dict[str, dict[str, Any]]
) -> None:
    heads = [path[0] for path in update.targets] if update is not None else list(updates)
    for name in heads:
        if name in key_item:
            raise invalid(f"Cannot update attribute {name}. This attribute is part of the key")


def updated_item(
    key_item: Item, old: Item | None, update: Update | None, updates: dict[str, dict[str, Any]]
) -> tuple[Item, int]:
    """The item after the update (``UpdateExpression`` or ``AttributeUpdates``) and its size;
    ValidationException when the update cannot apply or the result is too large."""
    base = old if old is not None else key_item
    # apply_update returns a copy-on-write of ``base``; the legacy updates change top-level
    # attributes only, so a shallow copy keeps ``old`` intact for them.
    new = apply_update(base, update, new_item=old is None) if update is not None else dict(base)
    for name, change in updates.items():
        _apply(new, name, change)
    size = item_size(new)
    if size > MAX_ITEM_BYTES:
        raise validation("Item size to update has exceeded the maximum allowed size")
    return new, size


class UpdateOperations(DynamoDBBase):
    async def update_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("ReturnValues") or "NONE"
        if mode not in _RETURN_VALUES:
            raise validation(f"ReturnValues {mode} is not supported for UpdateItem")
        expressions = write_expressions(params)
        update = expressions.update
        updates: dict[str, dict[str, Any]] = params.get("AttributeUpdates") or {}
        meter = Meter(params)

        def work(conn: Connection) -> tuple[Table, Item | None, Item]:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
            key_item = check_item(params["Key"])
            key = request_key(table, key_item)
            check_key_untouched(key_item, update, updates)
            old = item_store.get_item(conn, table, key)
            expressions.check(old, params)
            new, size = updated_item(key_item, old, update, updates)
            item_store.put_item(conn, table, key, new, size, old)
            old_size = 0 if old is None else item_size(old)
            meter.add_write(table.name, write_units(max(size, old_size)))
            return table, old, new

        table, old, new = await self.committer.run_async(work)
        out: dict[str, Any] = {}
        source = old if mode.endswith("_OLD") else new
        if mode in ("ALL_OLD", "ALL_NEW") and source:
            out["Attributes"] = source
        elif mode in ("UPDATED_OLD", "UPDATED_NEW") and source:
            if update is not None:
                changed = project(source, update.targets)
            else:
                changed = {k: v for k, v in source.items() if k in updates}
            if changed:
                out["Attributes"] = changed
        return meter.single(out, table.name)
