"""The DynamoDB provider's SQL tables: table definitions and items, durable in the store.

Invariants:

- A ``ddb_tables`` row is unique per ``(account, name)``. ``definition`` is the JSON of the
  table's user-visible settings (KeySchema, AttributeDefinitions, BillingMode, throughput,
  indexes, TTL), already validated; everything DescribeTable reports derives from it.
- An item row is keyed by ``(table, hash, range)``: the partition and sort key values in the
  sort-preserving encoding of ``keys`` (``range`` is ``b""`` without a sort key), so a Query of
  one partition is an index range scan in sort-key order.
- ``bucket`` is a stable 16-bit hash of ``hash`` (CRC-32): parallel Scan segment ``i`` of ``n``
  owns the buckets ``[i*65536//n, (i+1)*65536//n)``, and every Scan walks
  ``(bucket, hash, range)`` order, so pagination and segments are index range scans too.
- ``item`` is the JSON of the canonical typed values (``values.dumps``); ``size`` its DynamoDB
  size in bytes (<= 400 KB).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

ddb_tables = sa.Table(
    "ddb_tables",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("table_id", sa.String(36), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("account", "name", name="uq_ddb_tables_account_name"),
)

ddb_items = sa.Table(
    "ddb_items",
    metadata,
    sa.Column(
        "table_id", sa.Integer, sa.ForeignKey("ddb_tables.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sa.Column("range", sa.LargeBinary, nullable=False),
    sa.Column("bucket", sa.Integer, nullable=False),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("table_id", "hash", "range"),
    sa.Index("ix_ddb_items_scan", "table_id", "bucket", "hash", "range"),
)

MIGRATIONS = [
    Migration("dynamodb", 1, create_tables(ddb_tables, ddb_items), "tables and items"),
]
