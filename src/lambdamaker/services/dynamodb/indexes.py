"""Secondary indexes (GSIs and LSIs): their definitions and the upkeep of their entries.

An index entry (``index_tables``) is a copy of the projected part of an item under the index's
keys. ``maintain`` runs from ``changes.after_write`` for every item change, inside the write's
transaction; ``backfill`` fills a GSI created by UpdateTable from the existing items, in the
UpdateTable transaction.

Invariants:

- After every committed write, an index holds exactly one entry per item having all of the
  index's key attributes with their defined types (sparse), and that entry's keys and
  projection match the item as stored.
- A write whose item has an index key attribute of the wrong type (or an empty string/binary)
  raises ValidationException from ``maintain`` before anything of it commits: the caller's
  transaction rolls back, so the item and all its index entries stay as they were.
- A backfill skips such items (DynamoDB reports them as index violations rather than failing).
- Tables without indexes pay one dictionary lookup per write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.dynamodb.common import StoredKey, Table, bucket_of, item_key
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.index_tables import ddb_index_entries
from lambdamaker.services.dynamodb.keys import encode_key
from lambdamaker.services.dynamodb.tables import ddb_items
from lambdamaker.services.dynamodb.values import Item, dumps, item_size, loads

_E = ddb_index_entries.c
_DELETE = sa.delete(ddb_index_entries).where(
    _E.table_id == sa.bindparam("t"),
    _E.index_name == sa.bindparam("n"),
    _E.ihash == sa.bindparam("ih"),
    _E.irange == sa.bindparam("ir"),
    _E.hash == sa.bindparam("h"),
    _E.range == sa.bindparam("r"),
)
_INSERT = sa.insert(ddb_index_entries).values(
    table_id=sa.bindparam("t"),
    index_name=sa.bindparam("n"),
    ihash=sa.bindparam("ih"),
    irange=sa.bindparam("ir"),
    hash=sa.bindparam("h"),
    range=sa.bindparam("r"),
    bucket=sa.bindparam("b"),
    item=sa.bindparam("item"),
    size=sa.bindparam("size"),
)
_STATS = (
    sa.select(_E.index_name, sa.func.count(), sa.func.coalesce(sa.func.sum(_E.size), 0))
    .where(_E.table_id == sa.bindparam("t"))
    .group_by(_E.index_name)
)


@dataclass(frozen=True)
class Index:
    """One secondary index of a table, with its key types resolved."""

    name: str
    global_: bool
    keys: list[tuple[str, str]]
    """``[(name, type)]``: the index partition key, then its sort key if any."""
    projection: str
    non_key: tuple[str, ...]
    table_keys: tuple[str, ...]

    @property
    def projects_all(self) -> bool:
        return self.projection == "ALL"

    def projected_names(self) -> set[str] | None:
        """The top-level attributes an entry holds (None: all of them)."""
        if self.projects_all:
            return None
        return {*self.table_keys, *(k for k, _ in self.keys), *self.non_key}

    def project(self, item: Item) -> Item:
        names = self.projected_names()
        if names is None:
            return item
        return {k: v for k, v in item.items() if k in names}


def _index(table: Table, spec: dict[str, Any], global_: bool, types: dict[str, str]) -> Index:
    projection = spec.get("Projection") or {}
    return Index(
        name=spec["IndexName"],
        global_=global_,
        keys=[(k["AttributeName"], types[k["AttributeName"]]) for k in spec["KeySchema"]],
        projection=projection.get("ProjectionType", "ALL"),
        non_key=tuple(projection.get("NonKeyAttributes") or ()),
        table_keys=tuple(name for name, _ in table.key_schema),
    )


def indexes_of(table: Table) -> list[Index]:
    d = table.definition
    gsis = d.get("GlobalSecondaryIndexes") or []
    lsis = d.get("LocalSecondaryIndexes") or []
    if not gsis and not lsis:
        return []
    types = {a["AttributeName"]: a["AttributeType"] for a in d["AttributeDefinitions"]}
    return [_index(table, g, True, types) for g in gsis] + [
        _index(table, lsi, False, types) for lsi in lsis
    ]


def find_index(table: Table, name: str) -> Index:
    for index in indexes_of(table):
        if index.name == name:
            return index
    raise validation(f"The table does not have the specified index: {name}")


def index_key(index: Index, item: Item, *, strict: bool) -> tuple[bytes, bytes] | None:
    """``(ihash, irange)`` of ``item`` in ``index``, or None when the item is not in it.

    ``strict``: a key attribute of the wrong type or empty raises ValidationException (a
    write); otherwise such an item is left out (a backfill, or reading the old item).
    """
    parts: list[bytes] = []
    for name, type_ in index.keys:
        value = item.get(name)
        if value is None:
            return None
        ((actual, inner),) = value.items()
        if actual != type_:
            if not strict:
                return None
            raise invalid(
                f"Type mismatch for Index Key {name} Expected: {type_} Actual: {actual} "
                f"IndexName: {index.name}"
            )
        if actual in ("S", "B") and len(inner) == 0:
            if not strict:
                return None
            kind = "string" if actual == "S" else "binary"
            raise validation(
                "One or more parameter values are not valid. A value specified for a secondary "
                "index key is not supported. The AttributeValue for a key attribute cannot "
                f"contain an empty {kind} value. IndexName: {index.name}, IndexKey: {name}"
            )
        parts.append(encode_key(type_, inner))
    return parts[0], parts[1] if len(parts) > 1 else b""


def _entry(
    table: Table, index: Index, key: StoredKey, ikey: tuple[bytes, bytes], item: Item
) -> dict[str, Any]:
    projected = index.project(item)
    return {
        "t": table.id,
        "n": index.name,
        "ih": ikey[0],
        "ir": ikey[1],
        "h": key.hash,
        "r": key.range,
        "b": bucket_of(ikey[0]),
        "item": dumps(projected),
        "size": item_size(projected),
    }


def _same_entry(index: Index, old: Item, new: Item) -> bool:
    return index.project(old) == index.project(new)


def maintain(
    conn: Connection, table: Table, key: StoredKey, old: Item | None, new: Item | None
) -> None:
    """Move the item's entries from ``old`` to ``new`` in every index of ``table``."""
    indexes = indexes_of(table)
    if not indexes:
        return
    # Validate every index first, so a bad attribute changes no index at all.
    new_keys = [None if new is None else index_key(i, new, strict=True) for i in indexes]
    for index, new_key in zip(indexes, new_keys, strict=True):
        old_key = None if old is None else index_key(index, old, strict=False)
        same_key = old_key is not None and new_key == old_key
        if same_key and old is not None and new is not None and _same_entry(index, old, new):
            continue  # e.g. an update of an attribute the index does not project
        if old_key is not None:
            params = {"t": table.id, "n": index.name, "ih": old_key[0], "ir": old_key[1]}
            conn.execute(_DELETE, params | {"h": key.hash, "r": key.range})
        if new_key is not None and new is not None:
            conn.execute(_INSERT, _entry(table, index, key, new_key, new))


def backfill(conn: Connection, table: Table, index: Index) -> None:
    """Index every existing item of ``table`` in the new ``index`` (skipping violations)."""
    rows = conn.execute(sa.select(ddb_items.c.item).where(ddb_items.c.table_id == table.id))
    batch: list[dict[str, Any]] = []
    for row in rows:
        item = loads(row.item)
        ikey = index_key(index, item, strict=False)
        if ikey is not None:
            batch.append(_entry(table, index, item_key(table, item), ikey, item))
    if batch:
        conn.execute(_INSERT, batch)


def drop(conn: Connection, table: Table, name: str) -> None:
    """Remove every entry of the index ``name``."""
    conn.execute(sa.delete(ddb_index_entries).where(_E.table_id == table.id, _E.index_name == name))


def stats(conn: Connection, table: Table) -> dict[str, tuple[int, int]]:
    """``{index name: (item count, size in bytes)}`` of the indexes holding entries."""
    return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(_STATS, {"t": table.id})}
