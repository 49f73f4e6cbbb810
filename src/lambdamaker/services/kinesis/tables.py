"""The Kinesis provider's tables: streams, their shards and their records, durable in the store.

Invariants:

- A stream row is unique per ``(account, name)``; its ``id`` never repeats (autoincrement), so an
  iterator naming a deleted stream's id never reads a re-created stream of the same name.
- A shard row is unique per ``(stream_id, shard_index)``; ``shard_index`` is the number in
  ``shardId-<12 digits>`` and grows with every shard a stream ever had. Hash keys are stored as
  39-digit zero-padded decimals (``hashing.key_text``) so that text order is numeric order.
  The open shards of a stream (``ending_seq`` NULL) cover ``0..2**128-1`` exactly once.
- ``next_seq`` is the counter of the shard's next record; a record's ``seq`` is the counter it
  took, so records of one shard are ordered by ``seq`` and the sequence numbers built from it
  (``hashing.sequence_number``) increase with it.
- A closed shard (``ending_seq`` set) receives no record again; its records stay readable.
- Records are deleted with their stream; retention is applied when reading (a record older than
  the stream's retention period is never returned).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

streams = sa.Table(
    "kinesis_streams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("retention_hours", sa.Integer, nullable=False),
    sa.Column("next_shard_index", sa.Integer, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("tags", sa.Text, nullable=False, server_default="{}"),  # JSON object
    sa.UniqueConstraint("account", "name", name="uq_kinesis_streams_account_name"),
    sqlite_autoincrement=True,
)

shards = sa.Table(
    "kinesis_shards",
    metadata,
    sa.Column(
        "stream_id",
        sa.Integer,
        sa.ForeignKey("kinesis_streams.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("shard_index", sa.Integer, nullable=False),
    sa.Column("hash_start", sa.String(39), nullable=False),
    sa.Column("hash_end", sa.String(39), nullable=False),
    sa.Column("parent_index", sa.Integer, nullable=True),
    sa.Column("adjacent_parent_index", sa.Integer, nullable=True),
    sa.Column("next_seq", sa.BigInteger, nullable=False),
    sa.Column("ending_seq", sa.BigInteger, nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("stream_id", "shard_index"),
)

records = sa.Table(
    "kinesis_records",
    metadata,
    sa.Column(
        "stream_id",
        sa.Integer,
        sa.ForeignKey("kinesis_streams.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("shard_index", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("partition_key", sa.String(256), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("arrival_ms", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("stream_id", "shard_index", "seq"),
)

MIGRATIONS = [
    Migration(
        "kinesis",
        1,
        create_tables(streams, shards, records),
        "streams, shards and records",
    ),
]
