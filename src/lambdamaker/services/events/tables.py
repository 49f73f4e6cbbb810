"""EventBridge's tables in the metadata store (component ``eventbridge``).

Invariants:
- Buses, rules and targets are keyed by (account, region, bus name[, rule name[, target id]]):
  EventBridge resources are regional. The ``default`` bus has no row; it always exists.
- A rule's event pattern is stored as the exact text the user sent (AWS echoes it verbatim) and
  was validated before the row was written; schedules only live on rules of the default bus.
- A target's definition is stored as the JSON of the ``Target`` shape, minus nothing: AWS
  returns it as given.
- ``eb_events`` is the durable log of accepted PutEvents entries, in commit order (``seq``):
  a row exists iff its EventId was returned; ``delivered`` marks the dispatcher's progress.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

buses = sa.Table(
    "eb_buses",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("arn", sa.String(1600), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("modified_at", sa.Float, nullable=False),
)

rules = sa.Table(
    "eb_rules",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("bus", sa.String(256), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("arn", sa.String(1600), nullable=False),
    sa.Column("event_pattern", sa.Text, nullable=True),
    sa.Column("schedule", sa.String(256), nullable=True),
    sa.Column("state", sa.String(64), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("role_arn", sa.String(1600), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

targets = sa.Table(
    "eb_targets",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("bus", sa.String(256), primary_key=True),
    sa.Column("rule", sa.String(64), primary_key=True),
    sa.Column("target_id", sa.String(64), primary_key=True),
    sa.Column("arn", sa.String(1600), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
)

events = sa.Table(
    "eb_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("bus", sa.String(256), nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered", sa.Boolean, nullable=False, server_default=sa.false()),
)

MIGRATIONS = (
    Migration(
        "eventbridge", 1, create_tables(buses, rules, targets, events), "buses, rules, events"
    ),
)
