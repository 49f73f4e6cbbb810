"""Scan and Query (legacy ``KeyConditions``): paged reads of a table's items, or with
``IndexName`` of a secondary index's entries (``index_reads``).

Invariants:

- A Scan walks ``(bucket, hash, range)`` order and a Query one partition's ``range`` order
  (``keys`` makes that DynamoDB's sort-key order), both index range scans. A page ends after
  ``Limit`` items or once 1 MB has been read; ``LastEvaluatedKey`` is then the last item's key,
  and ``ExclusiveStartKey`` resumes strictly after it, so pages never repeat or skip items.
- Parallel Scan segment ``i`` of ``n`` owns a contiguous bucket range (``tables``); segments
  partition the table.
- A Query's key conditions (KeyConditionExpression or legacy ``KeyConditions``) become bounds
  on the stored sort key (``key_conditions``), so both forms share one range scan.
- A FilterExpression runs after ``Limit`` items were read (``ScannedCount`` counts them,
  ``Count`` the survivors), and projection applies last, as in DynamoDB.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterable
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.dynamodb import legacy
from lambdamaker.services.dynamodb.capacity import Meter, read_units
from lambdamaker.services.dynamodb.common import (
    BUCKETS,
    DynamoDBBase,
    StoredKey,
    Table,
    bucket_bound,
    request_key,
    stored_hash,
)
from lambdamaker.services.dynamodb.errors import validation
from lambdamaker.services.dynamodb.expressions import RequestExpressions
from lambdamaker.services.dynamodb.index_reads import E, IndexRead, open_index, tuple_after
from lambdamaker.services.dynamodb.indexes import find_index
from lambdamaker.services.dynamodb.item_ops import select
from lambdamaker.services.dynamodb.key_conditions import (
    checked_condition,
    expression_conditions,
    range_bounds,
    range_clauses,
)
from lambdamaker.services.dynamodb.keys import encode_key
from lambdamaker.services.dynamodb.query_sql import read_table_query
from lambdamaker.services.dynamodb.tables import ddb_items
from lambdamaker.services.dynamodb.values import Item, check_item, loads

MAX_PAGE_BYTES = 1024 * 1024


def legacy_filter(params: dict[str, Any], expressions: RequestExpressions, name: str) -> None:
    """A legacy ``ScanFilter`` / ``QueryFilter`` (with ConditionalOperator) becomes the filter;
    ``RequestExpressions`` has already refused mixing it with a FilterExpression."""
    condition = legacy.filter_condition(params.get(name), params.get("ConditionalOperator"))
    if condition is not None:
        expressions.filter = condition


def _start_key(table: Table, params: dict[str, Any]) -> StoredKey | None:
    raw = params.get("ExclusiveStartKey")
    if not raw:
        return None
    try:
        return request_key(table, check_item(raw))
    except ServiceError as e:
        raise validation(f"The provided starting key is invalid: {e}") from None


def _select_mode(params: dict[str, Any]) -> str:
    chosen = [p for p in ("AttributesToGet", "ProjectionExpression") if params.get(p) is not None]
    on_index = params.get("IndexName") is not None
    default = "ALL_PROJECTED_ATTRIBUTES" if on_index else "ALL_ATTRIBUTES"
    mode = params.get("Select") or ("SPECIFIC_ATTRIBUTES" if chosen else default)
    if mode == "ALL_PROJECTED_ATTRIBUTES" and not on_index:
        raise validation(
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        )
    if mode == "SPECIFIC_ATTRIBUTES" and not chosen:
        raise validation(
            "Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression"
        )
    if mode in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and chosen:
        raise validation(f"Cannot specify the {chosen[0]} when choosing to get {mode}")
    return str(mode)


INLINE_ROWS = 256
"""A Query runs on the event loop while its page is at most this many rows scanned (a thread
hop costs more than a small Query); a longer page is read again in a worker thread."""

_INLINE_CAP: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "dynamodb_inline_cap", default=None
)


class _LongPage(Exception):
    """The page is longer than may be read on the event loop."""


def _page(
    table: Table,
    key_names: list[str],
    rows: Iterable[Any],
    params: dict[str, Any],
    mode: str,
    expressions: RequestExpressions,
) -> dict[str, Any]:
    limit = params.get("Limit")
    stop = limit if limit is not None else sys.maxsize
    items: list[Item] = []
    scanned = 0
    count = 0
    read = 0
    last: Item | None = None
    cap = _INLINE_CAP.get()
    # A COUNT without a filter needs no item but the last one (for LastEvaluatedKey).
    counting = mode == "COUNT" and expressions.filter is None
    listing = mode != "COUNT"
    # Hoisted out of the loop: the filter (None: keep all) and whether items are returned
    # whole (no projection), as ``expressions.keep`` and ``select`` would decide per item.
    keep = None if expressions.filter is None else expressions.filter.evaluate
    whole = expressions.projection is None and not params.get("AttributesToGet")
    for text, size in rows:  # every read selects (item, size)
        scanned += 1
        if cap is not None and scanned > cap:
            raise _LongPage
        read += size
        if counting:
            count += 1
            if scanned >= stop or read >= MAX_PAGE_BYTES:
                item = loads(text)
                last = {name: item[name] for name in key_names}
                break
            continue
        item = loads(text)
        if keep is None or keep(item):
            count += 1
            if listing:
                items.append(item if whole else select(item, params, expressions))
        if scanned >= stop or read >= MAX_PAGE_BYTES:
            last = {name: item[name] for name in key_names}
            break
    out: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
    meter = Meter(params)
    meter.add_read(table.name, read_units(read, bool(params.get("ConsistentRead"))))
    meter.single(out, table.name)
    if mode != "COUNT":
        out["Items"] = items
    if last is not None:
        out["LastEvaluatedKey"] = last
    return out


class ReadOperations(DynamoDBBase):
    def scan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        expressions = RequestExpressions(params)
        legacy_filter(params, expressions, "ScanFilter")
        mode = _select_mode(params)
        segment, total = params.get("Segment"), params.get("TotalSegments")
        if segment is not None and total is None:
            raise validation(
                "The TotalSegments parameter is required but was not present in the request "
                "when Segment parameter is present"
            )
        if total is not None and segment is None:
            raise validation(
                "The Segment parameter is required but was not present in the request when "
                "parameter TotalSegments is present"
            )
        if segment is not None and segment >= total:
            raise validation(
                "The Segment parameter is zero-based and must be less than parameter "
                f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
            )
        c = ddb_items.c
        with self.platform.store.read() as conn:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
            if params.get("IndexName") is not None:
                index = find_index(table, params["IndexName"])
                reader = open_index(table, index, params, mode, expressions)
                return self._scan_index(conn, reader, params, mode, expressions)
            start = _start_key(table, params)
            query = sa.select(c.item, c.size).where(c.table_id == table.id)
            if segment is not None:
                low, high = segment * BUCKETS // total, (segment + 1) * BUCKETS // total
                # A segment is a range of buckets: of the stored hashes they begin with.
                query = query.where(c.hash >= sa.literal(bucket_bound(low), sa.LargeBinary))
                upper = bucket_bound(high)
                if upper is not None:
                    query = query.where(c.hash < sa.literal(upper, sa.LargeBinary))
                if start is not None and not low <= start.bucket < high:
                    raise validation(
                        "The provided Exclusive start key does not map to the provided segment"
                    )
            if start is not None:
                query = query.where(
                    sa.tuple_(c.hash, c.range)
                    > sa.tuple_(
                        sa.literal(start.hash, sa.LargeBinary),
                        sa.literal(start.range, sa.LargeBinary),
                    )
                )
            query = query.order_by(c.hash, c.range)
            if params.get("Limit") is not None:
                query = query.limit(params["Limit"])
            key_names = [name for name, _ in table.key_schema]
            return _page(table, key_names, conn.execute(query), params, mode, expressions)

    @staticmethod
    def _scan_index(
        conn: Connection,
        reader: IndexRead,
        params: dict[str, Any],
        mode: str,
        expressions: RequestExpressions,
    ) -> dict[str, Any]:
        segment, total = params.get("Segment"), params.get("TotalSegments")
        query = reader.select()
        start = reader.start(params)
        if segment is not None:
            low, high = segment * BUCKETS // total, (segment + 1) * BUCKETS // total
            query = query.where(E.bucket >= low, E.bucket < high)
            if start is not None and not low <= start[0] < high:
                raise validation(
                    "The provided Exclusive start key does not map to the provided segment"
                )
        order = [E.bucket, E.ihash, E.irange, E.hash, E.range]
        if start is not None:
            query = query.where(tuple_after(order, start, True))
        query = query.order_by(*order)
        if params.get("Limit") is not None:
            query = query.limit(params["Limit"])
        rows = conn.execute(query)
        return _page(reader.table, reader.key_names, rows, params, mode, expressions)

    async def query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Small pages on the event loop, long ones in a worker thread (``INLINE_ROWS``)."""
        token = _INLINE_CAP.set(INLINE_ROWS)
        try:
            return self._query(ctx, params)
        except _LongPage:
            pass
        finally:
            _INLINE_CAP.reset(token)
        return await anyio.to_thread.run_sync(self._query, ctx, params)

    def _query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        expressions = RequestExpressions(params, defer_finish=True)
        legacy_filter(params, expressions, "QueryFilter")
        key_expression = params.get("KeyConditionExpression")
        conditions: dict[str, Any] = params.get("KeyConditions") or {}
        if not conditions and key_expression is None:
            raise validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        if key_expression is None:
            expressions.finish()
        mode = _select_mode(params)
        forward = params.get("ScanIndexForward", True)
        table = self.lookup_table(ctx.account_id, params["TableName"])
        schema = table.key_schema
        for name, _ in schema:
            if name in (params.get("QueryFilter") or {}):
                raise validation(
                    "QueryFilter can only contain non-primary key attributes: Primary key "
                    f"attribute: {name}"
                )
        if params.get("IndexName") is not None:
            index = find_index(table, params["IndexName"])
            schema = index.keys
        (hash_name, hash_type), rest = schema[0], schema[1:]
        if key_expression is not None:
            conditions = expression_conditions(key_expression, schema, expressions)
        for name in conditions:
            if name not in dict(schema):
                raise validation("Query condition missed key schema element")
        if hash_name not in conditions:
            raise validation(f"Query condition missed key schema element: {hash_name}")
        hash_op, (hash_value,) = checked_condition(conditions[hash_name], hash_type)
        if hash_op != "EQ":
            raise validation("Query key condition not supported")
        if params.get("IndexName") is not None:
            reader = open_index(table, index, params, mode, expressions)
            with self.platform.store.read() as conn:
                return self._query_index(
                    conn, reader, conditions, hash_value, params, mode, expressions
                )
        bounds: list[tuple[str, bytes]] = []
        if rest and rest[0][0] in conditions:
            bounds = range_bounds(conditions[rest[0][0]], rest[0][1])
        start = _start_key(table, params)
        if start is not None:
            bounds.append((">" if forward else "<", start.range))
        limit = params.get("Limit")
        shape = (tuple(op for op, _ in bounds), bool(forward), limit is not None)
        values: dict[str, Any] = {
            "t": table.id,
            "h": stored_hash(encode_key(hash_type, hash_value))[0],
        }
        values.update({f"r{i}": value for i, (_, value) in enumerate(bounds)})
        if limit is not None:
            values["n"] = limit
        key_names = [name for name, _ in table.key_schema]
        return read_table_query(
            self.platform.store,
            shape,
            values,
            lambda rows: _page(table, key_names, rows, params, mode, expressions),
        )

    def _query_index(
        self,
        conn: Connection,
        reader: IndexRead,
        conditions: dict[str, Any],
        hash_value: Any,
        params: dict[str, Any],
        mode: str,
        expressions: RequestExpressions,
    ) -> dict[str, Any]:
        keys = reader.index.keys
        forward = params.get("ScanIndexForward", True)
        query = reader.select().where(E.ihash == encode_key(keys[0][1], hash_value))
        if len(keys) > 1 and keys[1][0] in conditions:
            query = query.where(*range_clauses(conditions[keys[1][0]], keys[1][1], E.irange))
        order = [E.irange, E.hash, E.range]
        start = reader.start(params)
        if start is not None:
            query = query.where(tuple_after(order, start[2:], forward))
        query = query.order_by(*(order if forward else [col.desc() for col in order]))
        if params.get("Limit") is not None:
            query = query.limit(params["Limit"])
        rows = conn.execute(query)
        return _page(reader.table, reader.key_names, rows, params, mode, expressions)
