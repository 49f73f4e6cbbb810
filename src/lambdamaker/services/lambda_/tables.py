"""Lambda's tables in the metadata store, and their migrations (component ``lambda``).

Invariants:
- A function is one ``lambda_functions`` row plus one ``lambda_versions`` row per version;
  ``$LATEST`` always exists while the function does. Published versions are immutable except
  for their state, revision id and resource policy.
- ``config`` holds the version's configuration as JSON in the API's member names (Runtime,
  Handler, MemorySize...). It is written whole on every change, so a reader never sees half an
  update.
- Every version and alias carries a ``revision_id`` that changes with every change to it,
  including state transitions and policy changes (``RevisionId`` preconditions compare it).
- ``config_token`` changes only with the code or configuration of ``$LATEST``; a published
  version keeps the token it was published from, so PublishVersion can tell "nothing changed".
- Async events (``lambda_events``) are committed before Invoke answers 202 and deleted only
  after their attempt ended: a crash in between runs the event again (at-least-once).
- ``lambda_events.trace`` is the X-Ray header of the call that queued the event (None from
  outside a function); ``throttles`` counts attempts refused for concurrency, which are retried
  with their own backoff and never count as attempts.
- ``lambda_event_configs`` holds one FunctionEventInvokeConfig per (function, qualifier), the
  qualifier ``$LATEST`` for an unqualified function; ``config`` is its JSON in API member names.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

functions = sa.Table(
    "lambda_functions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("next_version", sa.Integer, nullable=False),
    sa.Column("reserved_concurrency", sa.Integer, nullable=True),
    sa.Column("tags", sa.Text, nullable=False, server_default="{}"),
    # Migration 3: PutFunctionRecursionConfig's RecursiveLoop ("Allow"); None is "Terminate".
    sa.Column("recursive_loop", sa.String(16), nullable=True),
)

versions = sa.Table(
    "lambda_versions",
    metadata,
    sa.Column("function_name", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(16), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("config_token", sa.String(32), nullable=False),
    sa.Column("code_sha256", sa.String(64), nullable=False),
    sa.Column("code_hex", sa.String(64), nullable=False),
    sa.Column("code_size", sa.BigInteger, nullable=False),
    sa.Column("code_unzipped", sa.BigInteger, nullable=False),
    sa.Column("code_blob", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("state_reason", sa.Text, nullable=True),
    sa.Column("state_reason_code", sa.String(64), nullable=True),
    sa.Column("update_status", sa.String(16), nullable=True),
    sa.Column("update_reason", sa.Text, nullable=True),
    sa.Column("update_reason_code", sa.String(64), nullable=True),
    sa.Column("revision_id", sa.String(36), nullable=False),
    sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
    sa.Column("policy", sa.Text, nullable=True),
)

aliases = sa.Table(
    "lambda_aliases",
    metadata,
    sa.Column("function_name", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("function_version", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("routing", sa.Text, nullable=True),
    sa.Column("revision_id", sa.String(36), nullable=False),
    sa.Column("policy", sa.Text, nullable=True),
)

layers = sa.Table(
    "lambda_layers",
    metadata,
    sa.Column("name", sa.String(140), primary_key=True),
    sa.Column("next_version", sa.Integer, nullable=False),
)

layer_versions = sa.Table(
    "lambda_layer_versions",
    metadata,
    sa.Column("name", sa.String(140), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("license_info", sa.Text, nullable=True),
    sa.Column("runtimes", sa.Text, nullable=True),
    sa.Column("architectures", sa.Text, nullable=True),
    sa.Column("code_sha256", sa.String(64), nullable=False),
    sa.Column("code_hex", sa.String(64), nullable=False),
    sa.Column("code_size", sa.BigInteger, nullable=False),
    sa.Column("code_unzipped", sa.BigInteger, nullable=False),
    sa.Column("code_blob", sa.String(32), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
)

provisioned = sa.Table(
    "lambda_provisioned",
    metadata,
    sa.Column("function_name", sa.String(64), primary_key=True),
    sa.Column("qualifier", sa.String(128), primary_key=True),
    sa.Column("requested", sa.Integer, nullable=False),
    sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
)

events = sa.Table(
    "lambda_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("function_name", sa.String(64), nullable=False),
    sa.Column("qualifier", sa.String(128), nullable=True),
    sa.Column("invoked_arn", sa.String(256), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False, server_default="0"),
    # Migration 3: the X-Ray header the event arrived with (recursive loop detection) and the
    # throttled attempts so far (their backoff grows; they are not retries of function errors).
    sa.Column("trace", sa.Text, nullable=True),
    sa.Column("throttles", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_lambda_events_due", "next_attempt_ms", "id"),
)

event_configs = sa.Table(
    "lambda_event_configs",
    metadata,
    sa.Column("function_name", sa.String(64), primary_key=True),
    sa.Column("qualifier", sa.String(128), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
)

role_keys = sa.Table(
    "lambda_role_keys",
    metadata,
    sa.Column("principal_arn", sa.String(512), primary_key=True),
    sa.Column("access_key_id", sa.String(32), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


def _add_event_columns(conn: sa.engine.Connection) -> None:
    # A store created by this code's migration 1 already has them (create_tables builds the
    # table as declared now); an older store gets them added.
    if "recursive_loop" not in {
        c["name"] for c in sa.inspect(conn).get_columns("lambda_functions")
    }:
        conn.execute(sa.text("ALTER TABLE lambda_functions ADD COLUMN recursive_loop VARCHAR(16)"))
    have = {c["name"] for c in sa.inspect(conn).get_columns("lambda_events")}
    if "trace" not in have:
        conn.execute(sa.text("ALTER TABLE lambda_events ADD COLUMN trace TEXT"))
    if "throttles" not in have:
        conn.execute(
            sa.text("ALTER TABLE lambda_events ADD COLUMN throttles INTEGER NOT NULL DEFAULT 0")
        )


MIGRATIONS = (
    Migration(
        "lambda",
        1,
        create_tables(
            functions,
            versions,
            aliases,
            layers,
            layer_versions,
            provisioned,
            events,
            role_keys,
        ),
        "functions, versions, aliases, layers, provisioned concurrency, async events, role keys",
    ),
    Migration(
        "lambda",
        2,
        create_tables(event_configs),
        "async invocation configs (retries, event age, destinations)",
    ),
    Migration(
        "lambda",
        3,
        _add_event_columns,
        "recursive loop detection (event trace headers, RecursiveLoop) and throttle counts",
    ),
)
