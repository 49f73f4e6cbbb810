"""EventBridge Scheduler's tables in the metadata store (component ``scheduler``).

Invariants:
- Schedules are keyed by (account, region, group, name). The ``default`` group has no row in
  ``sch_groups``; it always exists and cannot be deleted.
- Times the loop compares are integer microseconds since the epoch (``*_us``): floats would lose
  the microsecond that separates a rate schedule's first tick from its initial cursor.
- ``cursor_us`` is the last tick fired (or the boundary before the first tick, for a schedule
  that has not fired): ticks at or before it never fire. It only moves forward for a given
  timing, and it is written in the same transaction as the firing's delivery.
- ``next_due_us`` is when the loop must look at the schedule next (the next tick plus its
  flexible-window offset); NULL when the schedule is over. Derived from the other columns and
  rewritten with them.
- ``sch_attempts`` holds fired ticks whose delivery failed and is being retried; a row is
  inserted in the firing's transaction, so a failed tick is never lost, and deleted in the
  transaction that delivers it (or dead-letters it).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

groups = sa.Table(
    "sch_groups",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("modified_at", sa.Float, nullable=False),
)

tags = sa.Table(
    "sch_tags",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("group_name", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

schedules = sa.Table(
    "sch_schedules",
    metadata,
    sa.Column("account", sa.String(12), primary_key=True),
    sa.Column("region", sa.String(32), primary_key=True),
    sa.Column("group_name", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("arn", sa.String(1224), nullable=False),
    # The definition as the API shapes it (Target, FlexibleTimeWindow...), JSON.
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("modified_at", sa.Float, nullable=False),
    sa.Column("anchor_us", sa.BigInteger, nullable=False),
    sa.Column("cursor_us", sa.BigInteger, nullable=False),
    sa.Column("next_due_us", sa.BigInteger, nullable=True),
    sa.Index("sch_schedules_due", "state", "next_due_us"),
)

attempts = sa.Table(
    "sch_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("schedule_arn", sa.String(1224), nullable=False),
    sa.Column("target", sa.Text, nullable=False),  # the Target shape at firing time, JSON
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("tick_us", sa.BigInteger, nullable=False),
    sa.Column("fired_us", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("not_before_us", sa.BigInteger, nullable=False, index=True),
    sa.Column("error_code", sa.String(128), nullable=False),
    sa.Column("error_message", sa.Text, nullable=False),
)

MIGRATIONS = (
    Migration(
        "scheduler",
        1,
        create_tables(groups, tags, schedules, attempts),
        "schedule groups, tags, schedules, delivery retries",
    ),
)
