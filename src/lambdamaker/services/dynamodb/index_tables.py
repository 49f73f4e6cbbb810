"""SQL tables of secondary index entries (GSIs and LSIs) (component ``dynamodb-indexes``).

Invariants:

- One ``ddb_index_entries`` row per (index, item) where the item has every key attribute of the
  index with the type its AttributeDefinition says (sparse indexes: the rest have no row).
  The primary key is ``(table_id, index_name, ihash, irange, hash, range)``: the index's
  partition and sort key values, then the table's, all in ``keys``' sort-preserving encoding
  (``irange`` is ``b""`` for an index without a sort key), so an index Query is a range scan in
  (index sort key, table key) order and two items with equal index keys are still distinct rows.
- ``bucket`` is ``common.bucket_of(ihash)``: parallel Scan of an index walks
  ``(bucket, ihash, irange, hash, range)`` exactly as a table Scan walks ``ddb_items``.
- ``item`` is the JSON (``values.dumps``) of the projected item: the table and index keys, plus
  the NonKeyAttributes (INCLUDE) or everything (ALL); ``size`` its DynamoDB size in bytes.
- Rows go with their table (``ON DELETE CASCADE``) and are written only by ``indexes``, inside
  the transaction of the item change they reflect.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.services.dynamodb.tables import ddb_tables
from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

ddb_index_entries = sa.Table(
    "ddb_index_entries",
    metadata,
    sa.Column(
        "table_id",
        sa.Integer,
        sa.ForeignKey(ddb_tables.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("index_name", sa.String(255), nullable=False),
    sa.Column("ihash", sa.LargeBinary, nullable=False),
    sa.Column("irange", sa.LargeBinary, nullable=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sa.Column("range", sa.LargeBinary, nullable=False),
    sa.Column("bucket", sa.Integer, nullable=False),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("table_id", "index_name", "ihash", "irange", "hash", "range"),
    sa.Index(
        "ix_ddb_index_entries_scan",
        "table_id",
        "index_name",
        "bucket",
        "ihash",
        "irange",
        "hash",
        "range",
    ),
)

MIGRATIONS: list[Migration] = [
    Migration("dynamodb-indexes", 1, create_tables(ddb_index_entries), "secondary index entries"),
]
