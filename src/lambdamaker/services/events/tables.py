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
  ``event_id`` is the row's key: the event's id for PutEvents entries, a fresh id for an event
  forwarded from another bus (whose JSON keeps the original id); ``eb_event_hops`` counts the
  forwards of such a row (no row: 0).
- ``eb_deliveries`` holds the target deliveries that failed and wait for a retry (migration 2),
  each with everything needed to retry or dead-letter it without re-reading rule or target.
- ``eb_schedule_cursors`` holds, per scheduled rule, the last tick that fired (or was dropped)
  together with the expression and anchor it was computed for (migration 2).
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

event_hops = sa.Table(
    "eb_event_hops",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("hops", sa.Integer, nullable=False),
)

deliveries = sa.Table(
    "eb_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("rule_arn", sa.String(1600), nullable=False),
    sa.Column("target", sa.Text, nullable=False),  # the Target shape's JSON, as matched
    sa.Column("event", sa.Text, nullable=False),  # the original event (what a DLQ receives)
    sa.Column("body", sa.Text, nullable=False),  # what the target receives (input shaped)
    sa.Column("hops", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),  # ingestion: the event's age starts here
    sa.Column("attempts", sa.Integer, nullable=False),  # failed attempts so far
    sa.Column("next_attempt_at", sa.Float, nullable=False, index=True),
    sa.Column("error_code", sa.String(256), nullable=False),
    sa.Column("error_message", sa.Text, nullable=False),
)

schedule_cursors = sa.Table(
    "eb_schedule_cursors",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("rule", sa.String(64), primary_key=True),
    sa.Column("expression", sa.String(256), nullable=False),
    sa.Column("anchor", sa.Float, nullable=False),
    sa.Column("cursor", sa.Float, nullable=False),
)

MIGRATIONS = (
    Migration(
        "eventbridge", 1, create_tables(buses, rules, targets, events), "buses, rules, events"
    ),
    Migration(
        "eventbridge",
        2,
        create_tables(event_hops, deliveries, schedule_cursors),
        "delivery retries, forwarded hops, schedule cursors",
    ),
)
