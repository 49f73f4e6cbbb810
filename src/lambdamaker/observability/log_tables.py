"""The log store's tables and their migrations (component ``logs``).

- ``log_groups``: one row per group. ``name`` is unique; streams and events point at the
  surrogate ``id`` so a long group name is not repeated in every event row.
- ``log_streams``: one row per stream, unique by ``(group_id, name)``, with the stream's
  statistics (first/last event time, last ingestion, upload sequence, stored bytes) kept up to
  date by every write batch.
- ``log_events``: one row per event. ``id`` grows with insertion order and breaks timestamp ties,
  so ``(timestamp_ms, id)`` is a total, stable order: the order of GetLogEvents within a stream
  (index ``ix_log_events_stream_time``) and of FilterLogEvents within a group
  (``ix_log_events_group_time``). Pagination tokens are positions in that order.

Names sort as byte strings on both backends (SQLite's BINARY collation; ``C`` on PostgreSQL), so
DescribeLogGroups/DescribeLogStreams list in the same order everywhere.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

NameString = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")
# SQLite makes only an INTEGER PRIMARY KEY an alias of the rowid (autoincrementing, cheap).
EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

log_groups = sa.Table(
    "log_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", NameString, nullable=False, unique=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("retention_days", sa.Integer, nullable=True),
    sa.Column("arn", sa.String(1024), nullable=False),
    sa.Column("kms_key_id", sa.String(256), nullable=True),
    sa.Column("log_group_class", sa.String(32), nullable=False, server_default="STANDARD"),
    sa.Column("tags", sa.Text, nullable=False, server_default="{}"),
    sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"),
)

log_streams = sa.Table(
    "log_streams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "group_id", sa.Integer, sa.ForeignKey("log_groups.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", NameString, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("first_event_ms", sa.BigInteger, nullable=True),
    sa.Column("last_event_ms", sa.BigInteger, nullable=True),
    sa.Column("last_ingestion_ms", sa.BigInteger, nullable=True),
    sa.Column("upload_sequence", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("stored_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.UniqueConstraint("group_id", "name", name="uq_log_streams_group_name"),
    sa.Index("ix_log_streams_group_last_event", "group_id", "last_event_ms", "id"),
)

log_events = sa.Table(
    "log_events",
    metadata,
    sa.Column("id", EventId, primary_key=True, autoincrement=True),
    sa.Column(
        "group_id", sa.Integer, sa.ForeignKey("log_groups.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "stream_id",
        sa.Integer,
        sa.ForeignKey("log_streams.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
    sa.Column("ingestion_ms", sa.BigInteger, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Index("ix_log_events_stream_time", "stream_id", "timestamp_ms", "id"),
    sa.Index("ix_log_events_group_time", "group_id", "timestamp_ms", "id"),
)

MIGRATIONS = (
    Migration(
        "logs", 1, create_tables(log_groups, log_streams, log_events), "log groups, streams, events"
    ),
)
