"""SNS's tables in the metadata store, and their migrations (component ``sns``).

Invariants:
- A topic's ARN is its identity (``arn:aws:sns:<region>:<account>:<name>``); one row per ARN.
- ``attributes`` columns hold a JSON object of the attributes the user set (strings, as SNS
  stores them); computed attributes (Owner, counts, EffectiveDeliveryPolicy) are never stored.
- A subscription belongs to exactly one topic; deleting the topic deletes its subscriptions and
  tags in the same transaction.
- ``messages`` holds every accepted Publish/PublishBatch entry, written in the request's
  transaction before the 2xx: an acknowledged message is never lost. ``seq`` orders them (and
  is a FIFO topic's SequenceNumber); ``delivered`` stays false until delivery fans it out.
- ``pending`` subscriptions (http/https awaiting the confirmation handshake) carry a ``token``
  that ConfirmSubscription exchanges for confirmation; confirmed ones carry none.
- ``deliveries`` records each (message, subscription) delivery once it is committed, in the
  same transaction as the SQS enqueue or the Lambda event; when a message is fully delivered
  its rows go and ``delivered`` turns true, in one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

topics = sa.Table(
    "sns_topics",
    metadata,
    sa.Column("arn", sa.String(512), primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("fifo", sa.Boolean, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

subscriptions = sa.Table(
    "sns_subscriptions",
    metadata,
    sa.Column("arn", sa.String(640), primary_key=True),
    sa.Column("topic_arn", sa.String(512), nullable=False, index=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("protocol", sa.String(32), nullable=False),
    sa.Column("endpoint", sa.Text, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("pending", sa.Boolean, nullable=False),
    sa.Column("token", sa.String(256), nullable=True, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

tags = sa.Table(
    "sns_tags",
    metadata,
    sa.Column("resource_arn", sa.String(512), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

messages = sa.Table(
    "sns_messages",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(64), nullable=False, unique=True),
    sa.Column("topic_arn", sa.String(512), nullable=False, index=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("subject", sa.String(100), nullable=True),
    sa.Column("structure", sa.String(16), nullable=True),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("group_id", sa.String(128), nullable=True),
    sa.Column("dedup_id", sa.String(128), nullable=True),
    sa.Column("published_at", sa.Float, nullable=False),
    sa.Column("delivered", sa.Boolean, nullable=False, index=True),
)

deliveries = sa.Table(
    "sns_deliveries",
    metadata,
    sa.Column("message_seq", sa.Integer, primary_key=True),
    sa.Column("subscription_arn", sa.String(640), primary_key=True),
)

MIGRATIONS = (
    Migration(
        "sns",
        1,
        create_tables(topics, subscriptions, tags, messages),
        "topics, subscriptions, tags, published messages",
    ),
    Migration("sns", 2, create_tables(deliveries), "per-subscription delivery records"),
)
