"""Item rows: read, upsert and delete one item by its stored key, in the caller's transaction.

Invariants: an upsert replaces the whole item (DynamoDB's PutItem); the row's ``bucket`` and
``size`` always match its key and item. Statements are built once and run straight on the driver (``store.raw``): one runs per item.

Every write of an item (put, update, delete, batch, transaction, TTL expiry) goes through
``put_item`` / ``delete_item`` with the item as it was before, so ``changes.after_write`` sees
each change exactly once, in the same transaction: secondary indexes and the table's stream can
never disagree with the items.
"""

from __future__ import annotations

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


def _upsert(dialect: str) -> sa.Insert:
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(ddb_items).values(
        table_id=sa.bindparam("t"),
        hash=sa.bindparam("h"),
        range=sa.bindparam("r"),
        bucket=sa.bindparam("b"),
        item=sa.bindparam("item"),
        size=sa.bindparam("size"),
    )
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
    values = _params(table, key) | {"b": key.bucket, "item": dumps(item), "size": size}
    _UPSERTS[conn.dialect.name].execute(conn, values)
    changes.after_write(conn, table, key, old, item, identity)


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
