"""The TransactWriteItems idempotency table: one row per ``ClientRequestToken`` that succeeded.

Invariants: a row is unique per ``(account, token)`` and is written in the transaction that
applied the request, so a token is recorded iff its writes committed; ``digest`` is the SHA-256
of the request's canonical form and ``response`` the JSON returned then. Rows older than the
10-minute idempotency window are ignored and replaced (``transact_ops``).
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store.migrations import Migration, create_tables

metadata = sa.MetaData()

ddb_tx_tokens = sa.Table(
    "ddb_tx_tokens",
    metadata,
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account", "token"),
)

MIGRATIONS = [
    Migration(
        "dynamodb-transactions", 1, create_tables(ddb_tx_tokens), "ClientRequestToken idempotency"
    ),
]
