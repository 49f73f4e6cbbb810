"""Item operations: PutItem, GetItem, DeleteItem, BatchGetItem, BatchWriteItem.

Invariants: every item written passed ``values.check_item`` and the key checks of ``common``,
and is at most 400 KB; a batch is one transaction here (all or nothing, ``Unprocessed*`` always
empty). A ConditionExpression is evaluated against the stored item inside the write's
transaction, so check and write are atomic. The legacy ``Expected`` / ``ConditionalOperator``
(``legacy``) become that same condition.

A write reads the item it replaces only when something needs it (``blind``): its condition,
``ReturnValues``, a capacity report, or the table's indexes and stream (``changes.watched``).
Otherwise it is a single upsert or delete; the responses are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from lambdamaker.engines.tables import project as project_paths
from lambdamaker.services.base import RequestContext
from lambdamaker.services.dynamodb import changes, item_store, legacy
from lambdamaker.services.dynamodb.capacity import Meter, read_units, write_units
from lambdamaker.services.dynamodb.common import (
    DynamoDBBase,
    StoredKey,
    Table,
    item_key,
    request_key,
)
from lambdamaker.services.dynamodb.errors import not_supported, validation
from lambdamaker.services.dynamodb.expressions import RequestExpressions
from lambdamaker.services.dynamodb.values import (
    MAX_ITEM_BYTES,
    Item,
    check_item,
    check_sized_item,
    item_size,
)

MAX_BATCH_WRITES = 25
MAX_BATCH_GETS = 100


def refuse(params: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if params.get(name):
            raise not_supported(name)


def write_expressions(params: dict[str, Any]) -> RequestExpressions:
    """A write request's expressions, its condition taken from ``Expected`` when that is given
    (the mix with ConditionExpression is refused by ``RequestExpressions``)."""
    expressions = RequestExpressions(params)
    condition = legacy.expected_condition(params)
    if condition is not None:
        expressions.condition = condition
    return expressions


def check_return_values(params: dict[str, Any]) -> bool:
    """True when the caller asked for the old item."""
    value = params.get("ReturnValues") or "NONE"
    if value not in ("NONE", "ALL_OLD"):
        raise validation("ReturnValues can only be ALL_OLD or NONE")
    return bool(value == "ALL_OLD")


def condition_check(
    expressions: RequestExpressions, params: dict[str, Any]
) -> Callable[[Item | None], None] | None:
    """The request's condition as a check of the stored item; None without a condition."""
    if expressions.condition is None:
        return None
    return lambda old: expressions.check(old, params)


def project(item: Item, names: list[str] | None) -> Item:
    """Legacy ``AttributesToGet``: the top-level attributes named."""
    if not names:
        return item
    return {k: v for k, v in item.items() if k in names}


def select(item: Item, params: dict[str, Any], expressions: RequestExpressions) -> Item:
    """The item as returned: ProjectionExpression, else AttributesToGet, else whole."""
    if expressions.projection is not None:
        return project_paths(item, expressions.projection)
    return project(item, params.get("AttributesToGet"))


def prepare(table: Table, raw: Item) -> tuple[Item, StoredKey, int]:
    """An item to write: checked (``check_item``), its stored key and its size, in the order
    DynamoDB reports their errors (values, then key, then size)."""
    item, size = check_sized_item(raw)
    key = item_key(table, item)
    if size > MAX_ITEM_BYTES:
        raise validation("Item size has exceeded the maximum allowed size")
    return item, key, size


def blind(
    table: Table, meter: Meter, check: Callable[[Item | None], None] | None, want_old: bool
) -> bool:
    """Whether a write may skip reading the item it replaces: nothing asks for it (no
    condition, no ReturnValues, no capacity report) and the table has no index or stream to
    maintain (``changes.watched``)."""
    return check is None and not want_old and not meter.counting and not changes.watched(table)


class ItemOperations(DynamoDBBase):
    def _write(
        self,
        conn: Connection,
        table: Table,
        prepared: tuple[Item, StoredKey, int],
        meter: Meter,
        check: Callable[[Item | None], None] | None = None,
        want_old: bool = False,
    ) -> Item | None:
        item, key, size = prepared
        if blind(table, meter, check, want_old):
            item_store.replace_item(conn, table, key, item, size)
            return None
        old = item_store.get_item(conn, table, key)
        if check is not None:
            check(old)
        item_store.put_item(conn, table, key, item, size, old)
        old_size = 0 if old is None else item_size(old)
        meter.add_write(table.name, write_units(max(size, old_size)))
        return old

    def _delete(
        self,
        conn: Connection,
        table: Table,
        key: StoredKey,
        meter: Meter,
        check: Callable[[Item | None], None] | None = None,
        want_old: bool = False,
    ) -> Item | None:
        if blind(table, meter, check, want_old):
            item_store.delete_key(conn, table, key)
            return None
        old = item_store.get_item(conn, table, key)
        if check is not None:
            check(old)
        if old is not None:
            item_store.delete_item(conn, table, key, old)
        meter.add_write(table.name, write_units(0 if old is None else item_size(old)))
        return old

    async def put_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        want_old = check_return_values(params)
        expressions = write_expressions(params)
        meter = Meter(params)
        check = condition_check(expressions, params)

        def work(conn: Connection) -> tuple[Table, Item | None]:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
            prepared = prepare(table, params["Item"])
            old = self._write(conn, table, prepared, meter, check, want_old)
            return table, old

        table, old = await self.committer.run_async(work)
        out = {"Attributes": old} if want_old and old is not None else {}
        return meter.single(out, table.name)

    def get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        expressions = RequestExpressions(params)
        table = self.lookup_table(ctx.account_id, params["TableName"])
        key = request_key(table, check_item(params["Key"]))
        item = item_store.read_item(self.platform.store, table, key)
        meter = Meter(params)
        if meter.counting:
            size = 0 if item is None else item_size(item)
            meter.add_read(table.name, read_units(size, bool(params.get("ConsistentRead"))))
        if item is None:
            return meter.single({}, table.name)
        return meter.single({"Item": select(item, params, expressions)}, table.name)

    async def delete_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        want_old = check_return_values(params)
        expressions = write_expressions(params)
        meter = Meter(params)
        check = condition_check(expressions, params)

        def work(conn: Connection) -> tuple[Table, Item | None]:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
            key = request_key(table, check_item(params["Key"]))
            old = self._delete(conn, table, key, meter, check, want_old)
            return table, old

        table, old = await self.committer.run_async(work)
        out = {"Attributes": old} if want_old and old is not None else {}
        return meter.single(out, table.name)

    async def batch_write_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        requests: dict[str, list[dict[str, Any]]] = params["RequestItems"]
        total = sum(len(r) for r in requests.values())
        if total > MAX_BATCH_WRITES:
            raise validation("Too many items requested for the BatchWriteItem call")
        if total == 0:
            raise validation("The batch write request list for a table cannot be null or empty")
        meter = Meter(params)

        def work(conn: Connection) -> None:
            for name, writes in requests.items():
                self._batch_writes(conn, self.get_table(conn, ctx.account_id, name), writes, meter)

        await self.committer.run_async(work)
        return meter.many({"UnprocessedItems": {}}, list(requests))

    def _batch_writes(
        self, conn: Connection, table: Table, writes: list[dict[str, Any]], meter: Meter
    ) -> None:
        """One table's WriteRequests, each checked before it is written. Without anything
        needing the old items (``blind``) the writes wait until all are checked (an unread
        write cannot fail, so the outcome is the same); the puts then go as one statement."""
        unread = blind(table, meter, None, False)
        puts: list[tuple[Item, StoredKey, int]] = []
        deletes: list[StoredKey] = []
        seen: set[tuple[bytes, bytes]] = set()
        for write in writes:
            put, delete = write.get("PutRequest"), write.get("DeleteRequest")
            prepared: tuple[Item, StoredKey, int] | None = None
            if put is not None and delete is None:
                item, size = check_sized_item(put["Item"])
                stored = item_key(table, item)
                prepared = (item, stored, size)
            elif delete is not None and put is None:
                stored = request_key(table, check_item(delete["Key"]))
            else:
                raise validation(
                    "A WriteRequest must contain exactly one of PutRequest or DeleteRequest"
                )
            if (stored.hash, stored.range) in seen:
                raise validation("Provided list of item keys contains duplicates")
            seen.add((stored.hash, stored.range))
            if prepared is not None:
                if prepared[2] > MAX_ITEM_BYTES:
                    raise validation("Item size has exceeded the maximum allowed size")
                if unread:
                    puts.append(prepared)
                else:
                    self._write(conn, table, prepared, meter)
            elif unread:
                deletes.append(stored)
            else:
                self._delete(conn, table, stored, meter)
        item_store.replace_items(conn, table, puts)
        for stored in deletes:
            item_store.delete_key(conn, table, stored)

    def batch_get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        requests: dict[str, dict[str, Any]] = params["RequestItems"]
        total = sum(len(r["Keys"]) for r in requests.values())
        if total > MAX_BATCH_GETS:
            raise validation("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        meter = Meter(params)
        with self.platform.store.read() as conn:
            for name, request in requests.items():
                expressions = RequestExpressions(request)
                table = self.get_table(conn, ctx.account_id, name)
                seen: set[tuple[bytes, bytes]] = set()
                found: list[Item] = []
                for raw in request["Keys"]:
                    key = request_key(table, check_item(raw))
                    if (key.hash, key.range) in seen:
                        raise validation("Provided list of item keys contains duplicates")
                    seen.add((key.hash, key.range))
                    item = item_store.get_item(conn, table, key)
                    if meter.counting:
                        size = 0 if item is None else item_size(item)
                        consistent = bool(request.get("ConsistentRead"))
                        meter.add_read(name, read_units(size, consistent))
                    if item is not None:
                        found.append(select(item, request, expressions))
                responses[name] = found
        return meter.many({"Responses": responses, "UnprocessedKeys": {}}, list(requests))
