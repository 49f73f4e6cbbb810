"""API Gateway HTTP APIs' tables in the metadata store (component ``apigatewayv2``).

Invariants:
- An API id is unique across accounts and regions (it names the API in serving URLs, which
  carry no account), so ``agw_apis`` is keyed by the id alone.
- Routes, integrations and stages belong to one API and are deleted with it, in the same
  transaction. A route key is unique within its API (``agw_routes_key``).
- A deployment's ``snapshot`` is the API's routes, integrations and authorizers as they were when
  it was made (JSON, never updated): a stage without AutoDeploy serves its deployment's
  snapshot; an AutoDeploy stage serves the live configuration (and gets a new deployment,
  recorded in its ``DeploymentId``, by every change).
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

authorizers = sa.Table(
    "agw_authorizers",
    metadata,
    sa.Column("api_id", sa.String(16), primary_key=True),
    sa.Column("authorizer_id", sa.String(16), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
)

deployments = sa.Table(
    "agw_deployments",
    metadata,
    sa.Column("api_id", sa.String(16), primary_key=True),
    sa.Column("deployment_id", sa.String(16), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

CHILDREN = (routes, integrations, stages, authorizers, deployments)

MIGRATIONS = (
    Migration(
        "apigatewayv2",
        1,
        create_tables(apis, routes, integrations, stages),
        "HTTP APIs, routes, integrations, stages",
    ),
    Migration(
        "apigatewayv2",
        2,
        create_tables(authorizers, deployments),
        "HTTP API authorizers and deployments",
    ),
)
