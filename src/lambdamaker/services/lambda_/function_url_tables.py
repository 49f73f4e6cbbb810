"""Lambda function URL configs in the metadata store (component ``lambda-urls``).

Invariants:
- One row per (function, qualifier); ``qualifier`` is an alias name, or ``$LATEST`` for the
  unqualified function (AWS allows no version qualifiers here).
- ``url_id`` (32 lowercase alphanumerics) is unique and never changes for the row's lifetime:
  it is what the served URL names.
- ``cors`` is the Cors structure as JSON in API member names, or NULL when none was set.
- A row lives no longer than its function and alias (``FunctionUrlOperations.changed``).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

function_urls = sa.Table(
    "lambda_function_urls",
    metadata,
    sa.Column("function_name", sa.String(64), primary_key=True),
    sa.Column("qualifier", sa.String(128), primary_key=True),
    sa.Column("url_id", sa.String(32), nullable=False, unique=True),
    sa.Column("auth_type", sa.String(16), nullable=False),
    sa.Column("invoke_mode", sa.String(16), nullable=False),
    sa.Column("cors", sa.Text, nullable=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("modified_ms", sa.BigInteger, nullable=False),
)

MIGRATIONS = (Migration("lambda-urls", 1, create_tables(function_urls), "function URL configs"),)
