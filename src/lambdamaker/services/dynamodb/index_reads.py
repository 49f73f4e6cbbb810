"""Query and Scan with ``IndexName``: the SQL over index entries and DynamoDB's index rules.

Invariants:

- An index Query is a range scan of one index partition (``ihash``) in ``(irange, hash,
  range)`` order, reversed for ``ScanIndexForward=false``; an index Scan walks ``(bucket,
  ihash, irange, hash, range)``. ``LastEvaluatedKey`` holds the table keys and the index keys
  of the last item read, and ``ExclusiveStartKey`` resumes strictly after that tuple.
- Items come from the entry's projected copy, except for an LSI that does not project
  everything a request needs (all attributes, attributes it lacks, a filter): then the item is
  read from the table, as DynamoDB fetches it. A GSI never reads the table: asking it for more
  than it projects is a ValidationException, as are consistent reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb.common import Table, bucket_of, item_key
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.expressions import RequestExpressions
from lambdamaker.services.dynamodb.index_tables import ddb_index_entries
from lambdamaker.services.dynamodb.indexes import Index, index_key
from lambdamaker.services.dynamodb.tables import ddb_items
from lambdamaker.services.dynamodb.values import check_item

E = ddb_index_entries.c


@dataclass(frozen=True)
class IndexRead:
    table: Table
    index: Index
    fetch: bool
    """Read each item from the table rather than from the entry (LSIs only)."""

    @property
    def key_names(self) -> list[str]:
        names = [name for name, _ in self.table.key_schema]
        return names + [name for name, _ in self.index.keys if name not in names]

    def select(self) -> sa.Select[Any]:
        """Rows ``(item, size)`` of the index's entries (joined to the items when fetching)."""
        if not self.fetch:
            return sa.select(E.item, E.size).where(
                E.table_id == self.table.id, E.index_name == self.index.name
            )
        i = ddb_items.c
        joined = ddb_index_entries.join(
            ddb_items, sa.and_(i.table_id == E.table_id, i.hash == E.hash, i.range == E.range)
        )
        return (
            sa.select(i.item, i.size)
            .select_from(joined)
            .where(E.table_id == self.table.id, E.index_name == self.index.name)
        )

    def start(self, params: dict[str, Any]) -> tuple[int, bytes, bytes, bytes, bytes] | None:
        """``(bucket, ihash, irange, hash, range)`` of ExclusiveStartKey, if given."""
        raw = params.get("ExclusiveStartKey")
        if not raw:
            return None
        try:
            item = check_item(raw)
            if set(item) != set(self.key_names):
                raise validation("The provided key element does not match the schema")
            key = item_key(self.table, item)
            ikey = index_key(self.index, item, strict=True)
            if ikey is None:  # pragma: no cover - every index key name is in the item
                raise validation("The provided key element does not match the schema")
        except ServiceError as e:
            raise validation(f"The provided starting key is invalid: {e}") from None
        return bucket_of(ikey[0]), ikey[0], ikey[1], key.hash, key.range


def open_index(
    table: Table, index: Index, params: dict[str, Any], mode: str, expressions: RequestExpressions
) -> IndexRead:
    """Check the request against the index's rules; decide whether items come from the table."""
    if index.global_ and params.get("ConsistentRead"):
        raise validation("Consistent reads are not supported on global secondary indexes")
    projected = index.projected_names()
    if projected is None:
        return IndexRead(table, index, fetch=False)
    if mode == "ALL_ATTRIBUTES" and index.global_:
        raise invalid(
            f"Select type ALL_ATTRIBUTES is not supported for global secondary index "
            f"{index.name} because its projection type is not ALL"
        )
    wanted: list[str] = []
    if expressions.projection is not None:
        wanted = [str(path[0]) for path in expressions.projection]
    elif params.get("AttributesToGet"):
        wanted = list(params["AttributesToGet"])
    missing = [name for name in dict.fromkeys(wanted) if name not in projected]
    if index.global_:
        if missing:
            raise invalid(
                f"Global secondary index {index.name} does not project [{', '.join(missing)}]"
            )
        return IndexRead(table, index, fetch=False)
    fetch = mode == "ALL_ATTRIBUTES" or bool(missing) or expressions.filter is not None
    return IndexRead(table, index, fetch=fetch)


def tuple_after(columns: list[Any], start: tuple[Any, ...], forward: bool) -> Any:
    """``columns > start`` (or ``<`` backwards), compared as a tuple."""
    values = [
        sa.literal(v, sa.Integer) if isinstance(v, int) else sa.literal(v, sa.LargeBinary)
        for v in start
    ]
    left, right = sa.tuple_(*columns), sa.tuple_(*values)
    return left > right if forward else left < right
