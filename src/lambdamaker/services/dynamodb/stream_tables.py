"""SQL tables of DynamoDB Streams: streams and their records (component ``dynamodb-streams``).

Invariants:

- A ``ddb_streams`` row is one stream a table ever had; ``arn`` is unique (the label is bumped
  by a millisecond when two streams of one table would share it). Rows do not reference
  ``ddb_tables``: a stream outlives its table (DISABLED, readable for 24 hours).
- ``disabled_ms`` is NULL while the stream is ENABLED; once set, no record is added again, and
  24 hours later the stream is gone (hidden from every read; its records are deleted lazily).
- ``last_seq`` is the counter of the stream's (single) shard: a change takes ``last_seq + 1``
  with one ``UPDATE ... RETURNING`` in the write transaction, so the row lock orders writers and
  sequence numbers increase in commit order, densely (a rolled back write gives its number
  back). Records of one stream are ordered by ``seq``.
- A record row holds the change as committed: ``keys`` / ``new_image`` / ``old_image`` are the
  JSON of typed values (``values.dumps``; binaries in base64, as Lambda's events show them),
  the images only as the stream's view type asks. Records older than 24 hours count as trimmed
  whether or not they were deleted yet.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

ddb_streams = sa.Table(
    "ddb_streams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("table_name", sa.String(255), nullable=False),
    sa.Column("arn", sa.String(1024), nullable=False),
    sa.Column("label", sa.String(32), nullable=False),
    sa.Column("view_type", sa.String(32), nullable=False),
    sa.Column("key_schema", sa.Text, nullable=False),  # JSON: the table's KeySchema
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("disabled_ms", sa.BigInteger, nullable=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("arn", name="uq_ddb_streams_arn"),
    sa.Index("ix_ddb_streams_table", "account", "table_name"),
    sqlite_autoincrement=True,
)

ddb_stream_records = sa.Table(
    "ddb_stream_records",
    metadata,
    sa.Column(
        "stream_id",
        sa.Integer,
        sa.ForeignKey("ddb_streams.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.String(32), nullable=False),
    sa.Column("event_name", sa.String(8), nullable=False),
    sa.Column("arrival_ms", sa.BigInteger, nullable=False),
    sa.Column("keys", sa.Text, nullable=False),
    sa.Column("new_image", sa.Text, nullable=True),
    sa.Column("old_image", sa.Text, nullable=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("identity", sa.Text, nullable=True),  # JSON {"type", "principalId"} (TTL)
    sa.PrimaryKeyConstraint("stream_id", "seq"),
)

MIGRATIONS: list[Migration] = [
    Migration(
        "dynamodb-streams",
        1,
        create_tables(ddb_streams, ddb_stream_records),
        "streams and stream records",
    ),
]
