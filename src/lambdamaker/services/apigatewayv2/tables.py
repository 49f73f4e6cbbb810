"""API Gateway HTTP APIs' tables in the metadata store (component ``apigatewayv2``).

Invariants:
- An API id is unique across accounts and regions (it names the API in serving URLs, which
  carry no account), so ``agw_apis`` is keyed by the id alone.
- Routes, integrations and stages belong to one API and are deleted with it, in the same
  transaction. A route key is unique within its API (``agw_routes_key``).
- Each resource's API shape (minus ids and dates) is kept as JSON in ``document``: the control
  plane echoes it, serving reads the few fields it needs.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

apis = sa.Table(
    "agw_apis",
    metadata,
    sa.Column("api_id", sa.String(16), primary_key=True),
    sa.Column("account", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("agw_apis_owner", "account", "region"),
)

routes = sa.Table(
    "agw_routes",
    metadata,
    sa.Column("api_id", sa.String(16), primary_key=True),
    sa.Column("route_id", sa.String(16), primary_key=True),
    sa.Column("route_key", sa.String(512), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Index("agw_routes_key", "api_id", "route_key", unique=True),
)

integrations = sa.Table(
    "agw_integrations",
    metadata,
    sa.Column("api_id", sa.String(16), primary_key=True),
    sa.Column("integration_id", sa.String(16), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
)

stages = sa.Table(
    "agw_stages",
    metadata,
    sa.Column("api_id", sa.String(16), primary_key=True),
    sa.Column("stage_name", sa.String(128), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

CHILDREN = (routes, integrations, stages)

MIGRATIONS = (
    Migration(
        "apigatewayv2",
        1,
        create_tables(apis, routes, integrations, stages),
        "HTTP APIs, routes, integrations, stages",
    ),
)
