"""The DynamoDB provider's SQL tables: table definitions and items, durable in the store.

Invariants:

- A ``ddb_tables`` row is unique per ``(account, name)``. ``definition`` is the JSON of the
  table's user-visible settings (KeySchema, AttributeDefinitions, BillingMode, throughput,
  indexes, TTL), already validated; everything DescribeTable reports derives from it.
- An item row is keyed by ``(table, hash, range)``: ``hash`` is the partition key value in the
  sort-preserving encoding of ``keys`` behind its bucket (2 bytes, big-endian; see
  ``common.stored_hash``), ``range`` the sort key value in that encoding (``b""`` without a sort
  key). So a Query of one partition is an index range scan in sort-key order.
- ``bucket`` is a stable 16-bit hash of the partition key's encoding (CRC-32), the prefix of
  ``hash``: parallel Scan segment ``i`` of ``n`` owns the buckets ``[i*65536//n,
  (i+1)*65536//n)``, and every Scan walks ``(hash, range)`` order, i.e. by bucket, so
  pagination and segments are range scans of the same index. One index serves every read: a
  second one in ``(bucket, hash, range)`` order (version 1) cost each item write a page of a
  second randomly ordered index (measured: half the WAL pages of a BatchWriteItem of 25 items).
- ``item`` is the JSON of the canonical typed values (``values.dumps``); ``size`` its DynamoDB
  size in bytes (<= 400 KB).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.services.dynamodb.rekey import bucket_first_hashes
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
)

MIGRATIONS = [
    Migration("dynamodb", 1, create_tables(ddb_tables, ddb_items), "tables and items"),
    Migration("dynamodb", 2, bucket_first_hashes, "one index for items: the bucket in the hash"),
]
