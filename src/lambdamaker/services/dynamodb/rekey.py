"""Migration 2 of component ``dynamodb``: items keyed by bucket-first hashes, one index instead
of two.

Version 1 stored an item's ``hash`` as its partition key's encoding and kept a second index,
``ix_ddb_items_scan (table_id, bucket, hash, range)``, for Scan order. Version 2 stores the
bucket (2 bytes, big-endian) in front of that encoding (``common.stored_hash``), so the primary
key's index is in Scan order too and the second index goes. Secondary index entries name their
item by the same ``hash`` (``ddb_index_entries``), so they are rekeyed with it.

Invariants:

- A store made by this code's migration 1 has no ``ix_ddb_items_scan`` (tables are created as
  declared now) and no rows yet: nothing to do. Only a store written by an earlier release is
  rekeyed.
- Rows are copied into freshly created tables, never updated in place: an UPDATE of a primary
  key could meet another row's old key midway. The copy is SQL on both backends (SQLite
  computes the new key with a function registered for the migration's connection; PostgreSQL
  with ``decode``/``to_hex``). An index entry takes its item's bucket from the item row (every
  entry has one: both are written in one transaction).
- All of it runs in the migration's transaction: a failure leaves version 1 as it was.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_SQLITE_REKEY = "lm_bucket_first"


def _rekey_sqlite(bucket: int, hash_bytes: bytes) -> bytes:
    return int(bucket).to_bytes(2, "big") + bytes(hash_bytes)


def bucket_first_hashes(conn: Connection) -> None:
    from lambdamaker.services.dynamodb.index_tables import ddb_index_entries
    from lambdamaker.services.dynamodb.tables import ddb_items

    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    if "ddb_items" not in tables:
        return
    if "ix_ddb_items_scan" not in {ix["name"] for ix in inspector.get_indexes("ddb_items")}:
        return  # made by this code's migration 1: already in version 2's shape, and empty
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        rekey = "decode(lpad(to_hex({bucket}), 4, '0'), 'hex') || {hash}"
    else:
        driver: Any = conn.connection.driver_connection
        driver.create_function(_SQLITE_REKEY, 2, _rekey_sqlite, deterministic=True)
        rekey = _SQLITE_REKEY + "({bucket}, {hash})"
    _rebuild(
        conn,
        ddb_items,
        "ix_ddb_items_scan",
        postgres,
        f'SELECT table_id, {rekey.format(bucket="bucket", hash="hash")}, "range", bucket, '
        "item, size FROM ddb_items_v1",
    )
    if "ddb_index_entries" in tables:
        _rebuild(
            conn,
            ddb_index_entries,
            "ix_ddb_index_entries_scan",
            postgres,
            "SELECT e.table_id, e.index_name, e.ihash, e.irange, "
            f'{rekey.format(bucket="i.bucket", hash="e.hash")}, e."range", e.bucket, e.item, '
            "e.size FROM ddb_index_entries_v1 e JOIN ddb_items_v1 i "
            'ON i.table_id = e.table_id AND i.hash = e.hash AND i."range" = e."range"',
        )
        conn.execute(sa.text("DROP TABLE ddb_index_entries_v1"))
    conn.execute(sa.text("DROP TABLE ddb_items_v1"))


def _rebuild(
    conn: Connection, table: sa.Table, old_index: str, postgres: bool, select: str
) -> None:
    """Set ``table`` aside as ``<name>_v1`` (without ``old_index``), create it as declared now
    and fill it from ``select`` (columns in the table's order)."""
    conn.execute(sa.text(f"DROP INDEX {old_index}"))
    _set_aside(conn, table.name, postgres)
    table.create(conn)
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    conn.execute(sa.text(f"INSERT INTO {table.name} ({columns}) {select}"))


def _set_aside(conn: Connection, table: str, postgres: bool) -> None:
    """Rename ``table`` to ``<table>_v1``, freeing its name (and, on PostgreSQL, its primary
    key's index name) for the new one."""
    conn.execute(sa.text(f"ALTER TABLE {table} RENAME TO {table}_v1"))
    if postgres:
        conn.execute(
            sa.text(f"ALTER TABLE {table}_v1 RENAME CONSTRAINT {table}_pkey TO {table}_v1_pkey")
        )
