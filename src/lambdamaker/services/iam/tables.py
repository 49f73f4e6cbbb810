"""IAM's tables in the metadata store, and their migrations (component ``iam``).

Invariants:
- Names of roles, users and customer managed policies are unique regardless of case, as in IAM;
  ``name_key`` is the lower-cased name and carries the unique constraint, ``*_name`` keeps the
  spelling the user chose.
- Every entity has a random id (``AROA…``, ``AIDA…``, ``ANPA…``). Ids never repeat, so tags,
  inline policies and attachments hang off the id: a role deleted and created again under the
  same name starts clean, as in IAM.
- ``attachment_count`` and ``boundary_count`` of a policy change in the same transaction as the
  attachment rows they count.
- AWS managed policies are rows too (``scope = 'AWS'``), inserted from the built-in catalogue at
  start-up, so listing and attaching treat both scopes alike.
- Policy documents are stored as the exact text the user sent: IAM returns them verbatim.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

roles = sa.Table(
    "iam_roles",
    metadata,
    sa.Column("role_id", sa.String(32), primary_key=True),
    sa.Column("name_key", sa.String(64), nullable=False, unique=True),
    sa.Column("role_name", sa.String(64), nullable=False),
    sa.Column("path", sa.String(512), nullable=False),
    sa.Column("arn", sa.String(2048), nullable=False),
    sa.Column("assume_role_policy", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("max_session_duration", sa.Integer, nullable=False),
    sa.Column("permissions_boundary", sa.String(2048), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

users = sa.Table(
    "iam_users",
    metadata,
    sa.Column("user_id", sa.String(32), primary_key=True),
    sa.Column("name_key", sa.String(64), nullable=False, unique=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("path", sa.String(512), nullable=False),
    sa.Column("arn", sa.String(2048), nullable=False, index=True),
    sa.Column("permissions_boundary", sa.String(2048), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

policies = sa.Table(
    "iam_policies",
    metadata,
    sa.Column("policy_id", sa.String(32), primary_key=True),
    sa.Column("arn", sa.String(2048), nullable=False, unique=True),
    sa.Column("scope", sa.String(8), nullable=False),
    sa.Column("name_key", sa.String(128), nullable=False),
    sa.Column("policy_name", sa.String(128), nullable=False),
    sa.Column("path", sa.String(512), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("default_version_id", sa.String(16), nullable=False),
    sa.Column("next_version", sa.Integer, nullable=False),
    sa.Column("attachment_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("boundary_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("scope", "name_key", name="uq_iam_policies_scope_name"),
)

policy_versions = sa.Table(
    "iam_policy_versions",
    metadata,
    sa.Column("policy_id", sa.String(32), primary_key=True),
    sa.Column("version_id", sa.String(16), primary_key=True),
    sa.Column("version_number", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

role_attachments = sa.Table(
    "iam_role_attachments",
    metadata,
    sa.Column("role_id", sa.String(32), primary_key=True),
    sa.Column("policy_id", sa.String(32), primary_key=True, index=True),
    sa.Column("attached_at", sa.Float, nullable=False),
)

role_inline_policies = sa.Table(
    "iam_role_inline_policies",
    metadata,
    sa.Column("role_id", sa.String(32), primary_key=True),
    sa.Column("policy_name", sa.String(128), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
)

tags = sa.Table(
    "iam_tags",
    metadata,
    sa.Column("entity_id", sa.String(32), primary_key=True),
    sa.Column("key_lower", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("value", sa.String(256), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
)

MIGRATIONS = (
    Migration(
        "iam",
        1,
        create_tables(
            roles, users, policies, policy_versions, role_attachments, role_inline_policies, tags
        ),
        "roles, users, managed and inline policies, attachments, tags",
    ),
)
