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
- ``delivered`` turns true in the transaction that fans the message out: every matching
  subscription is either served in that same transaction (SQS enqueue, Lambda event) or has a
  row in ``deliveries``. So ``messages.delivered = false`` means "not fanned out yet".
- ``deliveries`` holds the pending (message, subscription) attempts, with the failed attempts
  so far and when the next is due. A row goes in the transaction that serves it (the enqueue
  or Lambda event), sends it to the subscription's dead-letter queue, or gives it up; for
  http/https, right after the endpoint's 2xx.
- ``messages.trace`` is the publisher's ``X-Amzn-Trace-Id`` (None without one): a Lambda
  subscriber's event carries it on, so a function that publishes to the topic that triggers it
  is stopped by Lambda's recursive loop detection (``lambda_.lineage``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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
    sa.Column("trace", sa.Text, nullable=True),
)

_v2 = sa.MetaData()
_deliveries_v2 = sa.Table(
    "sns_deliveries",
    _v2,
    sa.Column("message_seq", sa.Integer, primary_key=True),
    sa.Column("subscription_arn", sa.String(640), primary_key=True),
)
"""Version 2's shape (done-records), kept so that migration stays as released."""

deliveries = sa.Table(
    "sns_deliveries",
    metadata,
    sa.Column("message_seq", sa.Integer, primary_key=True),
    sa.Column("subscription_arn", sa.String(640), primary_key=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float, nullable=False, index=True),
    sa.Column("last_error", sa.Text, nullable=True),
)


def _pending_deliveries(conn: Connection) -> None:
    """Version 2 recorded finished deliveries of messages not yet fully fanned out; version 3
    records pending ones. The old records are dropped: a message still undelivered is fanned
    out again whole, which may repeat a delivery (at-least-once), never lose one."""
    _deliveries_v2.drop(conn, checkfirst=True)
    deliveries.create(conn)


def _add_trace(conn: Connection) -> None:
    # A store created by this code's migration 1 already has it (create_tables builds the table
    # as declared now); an older store gets it added.
    if "trace" not in {c["name"] for c in sa.inspect(conn).get_columns("sns_messages")}:
        conn.execute(sa.text("ALTER TABLE sns_messages ADD COLUMN trace TEXT"))


MIGRATIONS = (
    Migration(
        "sns",
        1,
        create_tables(topics, subscriptions, tags, messages),
        "topics, subscriptions, tags, published messages",
    ),
    Migration("sns", 2, create_tables(_deliveries_v2), "per-subscription delivery records"),
    Migration("sns", 3, _pending_deliveries, "pending deliveries with their retry schedule"),
    Migration("sns", 4, _add_trace, "the publisher's trace header (recursive loop detection)"),
)
