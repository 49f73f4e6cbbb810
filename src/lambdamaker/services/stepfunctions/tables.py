"""Step Functions resource tables in the metadata store (component ``stepfunctions``).

Invariants:
- a state machine row holds its *current revision*: definition, role, logging, tracing and
  encryption configuration (JSON in canonical form, so equal configurations compare equal as
  text). ``revision_id`` is NULL until the first update that changes something (AWS's
  "INITIAL" revision) and changes with every such update;
- versions are immutable snapshots of a revision, numbered from 1 per state machine;
  ``next_version`` only grows, so a deleted version's number is never reused;
- an alias routes to one or two versions of its own state machine, weights summing to 100;
  a version an alias routes to cannot be deleted;
- deleting a state machine deletes its versions, aliases and tags in the same transaction;
- tags are keyed by the resource's ARN (state machines and activities).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

state_machines = sa.Table(
    "sfn_state_machines",
    metadata,
    sa.Column("arn", sa.String(256), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("role_arn", sa.String(256), nullable=False),
    sa.Column("logging", sa.Text, nullable=False),
    sa.Column("tracing", sa.Text, nullable=False),
    sa.Column("encryption", sa.Text, nullable=False),
    sa.Column("revision_id", sa.String(64), nullable=True),
    sa.Column("next_version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("sfn_state_machines_by_name", "account", "region", "name", unique=True),
)

versions = sa.Table(
    "sfn_versions",
    metadata,
    sa.Column("state_machine_arn", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("arn", sa.String(300), nullable=False, unique=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("role_arn", sa.String(256), nullable=False),
    sa.Column("logging", sa.Text, nullable=False),
    sa.Column("tracing", sa.Text, nullable=False),
    sa.Column("encryption", sa.Text, nullable=False),
    sa.Column("revision_id", sa.String(64), nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

aliases = sa.Table(
    "sfn_aliases",
    metadata,
    sa.Column("state_machine_arn", sa.String(256), primary_key=True),
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("arn", sa.String(340), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=True),
    # [{"stateMachineVersionArn": ..., "weight": ...}], as the API shapes it.
    sa.Column("routing", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

activities = sa.Table(
    "sfn_activities",
    metadata,
    sa.Column("arn", sa.String(256), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("encryption", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("sfn_activities_by_name", "account", "region", "name", unique=True),
)

tags = sa.Table(
    "sfn_tags",
    metadata,
    sa.Column("resource_arn", sa.String(256), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

MIGRATIONS: list[Migration] = [
    Migration(
        "stepfunctions",
        1,
        create_tables(state_machines, versions, aliases, activities, tags),
        "state machines, versions, aliases, activities, tags",
    ),
]
