"""The SQS provider's tables: queues and their messages, durable in the store.

Invariants:

- A queue row is unique per ``(account, name)``; its ``attributes`` column holds the
  user-settable attributes as the strings AWS returns them (JSON object), defaults filled in.
- A message row belongs to exactly one queue (deleted with it). Its ``id`` (autoincrement) is the
  queue order of FIFO queues (strict); standard queues deliver oldest ``visible_at_ms`` first
  (then ``id``), the order of ``ix_sqs_messages_queue_visible``, so a receive never sorts.
- A message is visible when ``visible_at_ms <= now``; delays and visibility timeouts only move
  ``visible_at_ms``. ``receipt`` changes on every receive, so only the latest receiver's handle
  can delete the message or change its visibility.
- A message is in flight when it was received (``receive_count > 0``) and is not yet visible
  again; a FIFO group with an in-flight message delivers nothing else.
- ``sqs_dedup`` remembers a FIFO queue's deduplication ids until ``expires_ms`` (5 minutes).
- ``sqs_deleted_queues`` holds the last deletion time of a queue name, in the DeleteQueue
  transaction: for 60 s after it, CreateQueue of that name fails (``QueueDeletedRecently``),
  across restarts too. A row is dropped when the name is created again.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

queues = sa.Table(
    "sqs_queues",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("fifo", sa.Boolean, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("modified_ms", sa.BigInteger, nullable=False),
    sa.Column("purged_ms", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("account", "name", name="uq_sqs_queues_account_name"),
)

messages = sa.Table(
    "sqs_messages",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "queue_id", sa.Integer, sa.ForeignKey("sqs_queues.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("body_md5", sa.String(32), nullable=False),
    sa.Column("attributes", sa.Text, nullable=True),  # message attributes, JSON
    sa.Column("attributes_md5", sa.String(32), nullable=True),
    sa.Column("system", sa.Text, nullable=True),  # AWSTraceHeader and the like, JSON
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("sent_ms", sa.BigInteger, nullable=False),
    sa.Column("visible_at_ms", sa.BigInteger, nullable=False),
    sa.Column("receive_count", sa.Integer, nullable=False, default=0),
    sa.Column("first_receive_ms", sa.BigInteger, nullable=True),
    sa.Column("receipt", sa.String(32), nullable=True),
    sa.Column("group_id", sa.String(128), nullable=True),
    sa.Column("dedup_id", sa.String(128), nullable=True),
    sa.Index("ix_sqs_messages_queue_visible", "queue_id", "visible_at_ms", "id"),
)

dedup = sa.Table(
    "sqs_dedup",
    metadata,
    sa.Column("queue_id", sa.Integer, sa.ForeignKey("sqs_queues.id", ondelete="CASCADE")),
    sa.Column("dedup_id", sa.String(128)),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("sequence", sa.BigInteger, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("queue_id", "dedup_id"),
)

move_tasks = sa.Table(
    "sqs_move_tasks",
    metadata,
    sa.Column("handle", sa.String(64), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("source_arn", sa.String(256), nullable=False, index=True),
    sa.Column("destination_arn", sa.String(256), nullable=True),
    sa.Column("max_per_second", sa.Integer, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("moved", sa.BigInteger, nullable=False),
    sa.Column("to_move", sa.BigInteger, nullable=False),
    sa.Column("started_ms", sa.BigInteger, nullable=False),
)

deleted_queues = sa.Table(
    "sqs_deleted_queues",
    metadata,
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("deleted_ms", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account", "name"),
)

MIGRATIONS = [
    Migration(
        "sqs",
        1,
        create_tables(queues, messages, dedup, move_tasks),
        "queues, messages, dedup ids, message move tasks",
    ),
    Migration(
        "sqs",
        2,
        create_tables(deleted_queues),
        "when each queue name was last deleted (QueueDeletedRecently)",
    ),
]
