"""Item rows: read, upsert and delete one item by its stored key, in the caller's transaction.

Invariants: an upsert replaces the whole item (DynamoDB's PutItem); the row's ``bucket`` and
``size`` always match its key and item. Statements are built once and run straight on the driver (``store.raw``): one runs per item.

Every write of an item (put, update, delete, batch, transaction, TTL expiry) goes through
``put_item`` / ``delete_item`` with the item as it was before, so ``changes.after_write`` sees
each change exactly once, in the same transaction: secondary indexes and the table's stream can
never disagree with the items. The exceptions, ``replace_item`` and ``delete_key``, write
without the item as it was; they are only for tables ``changes.watched`` says have nothing to
maintain, so they skip nothing ``after_write`` would have done.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from lambdamaker.services.dynamodb import changes
from lambdamaker.services.dynamodb.common import StoredKey, Table
from lambdamaker.services.dynamodb.tables import ddb_items
from lambdamaker.services.dynamodb.values import Item, dumps, loads
from lambdamaker.store import Store
from lambdamaker.store.raw import RawStatement

_WHERE_KEY = sa.and_(
    ddb_items.c.table_id == sa.bindparam("t"),
    ddb_items.c.hash == sa.bindparam("h"),
    ddb_items.c.range == sa.bindparam("r"),
)
_GET = RawStatement(sa.select(ddb_items.c.item).where(_WHERE_KEY))
_DELETE = RawStatement(sa.delete(ddb_items).where(_WHERE_KEY))


_ROW_NAMES = ("t", "h", "r", "b", "item", "size")


def _upsert(dialect: str, rows: int = 0) -> sa.Insert:
    """The upsert of one row (parameters ``t h r b item size``), or with ``rows`` of that many
    (the same names suffixed with the row's position)."""
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    names = _ROW_NAMES
    columns = ("table_id", "hash", "range", "bucket", "item", "size")
    suffixes = [str(i) for i in range(rows)] if rows else [""]
    values: list[dict[str, object]] = [
        {column: sa.bindparam(name + suffix) for column, name in zip(columns, names, strict=True)}
        for suffix in suffixes
    ]
    stmt = maker(ddb_items).values(values if rows else values[0])
    return stmt.on_conflict_do_update(
        index_elements=[ddb_items.c.table_id, ddb_items.c.hash, ddb_items.c.range],
        set_={"item": stmt.excluded.item, "size": stmt.excluded.size},
    )


_UPSERTS = {
    "postgresql": RawStatement(_upsert("postgresql")),
    "sqlite": RawStatement(_upsert("sqlite")),
}


def _params(table: Table, key: StoredKey) -> dict[str, object]:
    return {"t": table.id, "h": key.hash, "r": key.range}


def read_item(store: Store, table: Table, key: StoredKey) -> Item | None:
    """The stored item, read outside any transaction (GetItem's hot path)."""
    reader = store.point_reader()
    if reader is None:
        with store.read() as conn:
            return get_item(conn, table, key)
    # fetchall: the statement runs to its end, so its read snapshot ends with it.
    rows = _GET.execute_sqlite(reader, _params(table, key)).fetchall()
    return loads(rows[0][0]) if rows else None


def get_item(conn: Connection, table: Table, key: StoredKey) -> Item | None:
    row = _GET.execute(conn, _params(table, key)).fetchone()
    return None if row is None else loads(row[0])


def put_item(
    conn: Connection,
    table: Table,
    key: StoredKey,
    item: Item,
    size: int,
    old: Item | None,
    identity: dict[str, str] | None = None,
) -> None:
    """Store ``item`` (replacing ``old``, the stored item or None, as read in this transaction)."""
    _upsert_row(conn, table, key, item, size)
    changes.after_write(conn, table, key, old, item, identity)


def _upsert_row(conn: Connection, table: Table, key: StoredKey, item: Item, size: int) -> None:
    values = (table.id, key.hash, key.range, key.bucket, dumps(item), size)
    _UPSERTS[conn.dialect.name].execute_ordered(conn, _ROW_NAMES, values)


@functools.lru_cache(maxsize=128)
def _upsert_rows(dialect: str, rows: int) -> tuple[RawStatement, tuple[str, ...]]:
    """The upsert of ``rows`` rows and its parameter names in the statement's order (row by
    row, each row's columns as ``_upsert`` lists them)."""
    names = tuple(f"{name}{i}" for i in range(rows) for name in _ROW_NAMES)
    return RawStatement(_upsert(dialect, rows)), names


def replace_items(conn: Connection, table: Table, items: list[tuple[Item, StoredKey, int]]) -> None:
    """``replace_item`` of each ``(item, key, size)``, in one statement. The keys are distinct
    (PostgreSQL refuses to upsert one row twice in a statement)."""
    if not items:
        return
    values: list[object] = []
    table_id = table.id
    for item, key, size in items:
        values += (table_id, key.hash, key.range, key.bucket, dumps(item), size)
    statement, names = _upsert_rows(conn.dialect.name, len(items))
    statement.execute_ordered(conn, names, values)


def replace_item(conn: Connection, table: Table, key: StoredKey, item: Item, size: int) -> None:
    """Store ``item`` over whatever is stored under ``key``, unread: only for a table that is
    not ``changes.watched`` (the caller checks, in this transaction)."""
    _upsert_row(conn, table, key, item, size)


def delete_key(conn: Connection, table: Table, key: StoredKey) -> None:
    """Delete whatever is stored under ``key`` (nothing if nothing is), unread: only for a
    table that is not ``changes.watched``."""
    _DELETE.execute(conn, _params(table, key))


def delete_item(
    conn: Connection,
    table: Table,
    key: StoredKey,
    old: Item,
    identity: dict[str, str] | None = None,
) -> None:
    """Delete the stored item ``old``. ``identity`` is the stream record's ``userIdentity``
    (TTL deletions: the DynamoDB service principal)."""
    _DELETE.execute(conn, _params(table, key))
    changes.after_write(conn, table, key, old, None, identity)
