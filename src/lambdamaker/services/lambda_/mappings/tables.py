"""The event source mappings' SQL tables (component ``lambda-esm``).

Invariants:

- ``esm_mappings`` has one row per mapping (``uuid``); ``config`` is the JSON of the mapping's
  user-visible settings, already validated; ``state`` is one of Lambda's State values.
- ``esm_checkpoints`` has one row per (mapping, shard) the mapping has started: ``checkpoint``
  is the sequence number of the last record that is done (processed, sent to OnFailure, or
  filtered out); None means nothing of the shard is done yet. ``finished`` marks a closed shard
  read to its end (its children may start). A checkpoint only moves forward.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

esm_mappings = sa.Table(
    "esm_mappings",
    metadata,
    sa.Column("uuid", sa.String(36), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("function_arn", sa.String(256), nullable=False),
    sa.Column("source_arn", sa.String(1024), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("state_reason", sa.String(256), nullable=False, server_default=""),
    sa.Column("last_result", sa.String(256), nullable=False, server_default=""),
    sa.Column("modified_ms", sa.BigInteger, nullable=False),
    sa.Index("ix_esm_mappings_function", "account", "function_arn"),
    sa.Index("ix_esm_mappings_source", "source_arn"),
)

esm_checkpoints = sa.Table(
    "esm_checkpoints",
    metadata,
    sa.Column(
        "uuid",
        sa.String(36),
        sa.ForeignKey("esm_mappings.uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("shard_id", sa.String(128), nullable=False),
    sa.Column("checkpoint", sa.String(128), nullable=True),
    sa.Column("finished", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("uuid", "shard_id"),
)

MIGRATIONS = [
    Migration(
        "lambda-esm", 1, create_tables(esm_mappings, esm_checkpoints), "event source mappings"
    ),
]
