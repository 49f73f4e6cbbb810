"""Deployments: CreateDeployment, GetDeployment, GetDeployments, UpdateDeployment,
DeleteDeployment; and ``auto_deploy``, which every configuration write calls.

Invariants:
- A deployment freezes the API's routes, integrations and authorizers (``snapshot``) in the
  transaction that creates it; it is never changed afterwards (UpdateDeployment changes only
  the Description).
- A stage without AutoDeploy serves the snapshot of its ``DeploymentId`` (none: 404); an
  AutoDeploy stage serves the live configuration and, after each change to routes,
  integrations, authorizers or the stage itself, gets a fresh deployment (``AutoDeployed``) in
  the same transaction, so GetStage's ``DeploymentId`` follows the configuration.
- A deployment a stage uses cannot be deleted (BadRequestException, as AWS).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.apigatewayv2.common import (
    BadRequestError,
    child,
    children,
    delete_child,
    dump,
    load,
    new_id,
    not_found,
    page,
    read_child,
    read_children,
    require_api,
    update_child,
)
from lambdamaker.services.base import Provider, RequestContext

if TYPE_CHECKING:
    from lambdamaker.services.apigatewayv2.serving import HttpApiServer


def snapshot(conn: Connection, api_id: str) -> dict[str, Any]:
    """The API's routes, integrations and authorizers as serving needs them."""
    routes = [
        {"RouteId": r.route_id, **load(r.document), "RouteKey": r.route_key}
        for r in children(conn, t.routes, api_id, t.routes.c.route_key)
    ]
    integrations = {
        r.integration_id: load(r.document)
        for r in children(conn, t.integrations, api_id, t.integrations.c.integration_id)
    }
    authorizers = {
        r.authorizer_id: load(r.document)
        for r in children(conn, t.authorizers, api_id, t.authorizers.c.authorizer_id)
    }
    return {"routes": routes, "integrations": integrations, "authorizers": authorizers}


def _insert(conn: Connection, api_id: str, description: str | None, auto: bool) -> str:
    deployment_id = new_id()
    doc: dict[str, Any] = {"DeploymentStatus": "DEPLOYED", "AutoDeployed": auto}
    if description is not None:
        doc["Description"] = description
    conn.execute(
        sa.insert(t.deployments).values(
            api_id=api_id,
            deployment_id=deployment_id,
            document=dump(doc),
            snapshot=dump(snapshot(conn, api_id)),
            created_at=time.time(),
        )
    )
    return deployment_id


def _set_stage_deployment(conn: Connection, api_id: str, stage: Any, deployment_id: str) -> None:
    doc = {**load(stage.document), "DeploymentId": deployment_id}
    update_child(
        conn, t.stages, api_id, stage.stage_name, document=dump(doc), updated_at=time.time()
    )


def auto_deploy(conn: Connection, api_id: str, only: str | None = None) -> None:
    """Give every AutoDeploy stage of the API (or just stage ``only``) a new deployment of
    the current configuration. Called inside the write transaction of every change."""
    stages = [
        s
        for s in children(conn, t.stages, api_id, t.stages.c.stage_name)
        if load(s.document).get("AutoDeploy") and (only is None or s.stage_name == only)
    ]
    if not stages:
        return
    has_routes = conn.execute(
        sa.select(t.routes.c.route_id).where(t.routes.c.api_id == api_id).limit(1)
    ).first()
    if has_routes is None:
        return
    deployment_id = _insert(conn, api_id, None, auto=True)
    for stage in stages:
        _set_stage_deployment(conn, api_id, stage, deployment_id)


def _shape(row: Any) -> dict[str, Any]:
    return {
        "DeploymentId": row.deployment_id,
        "CreatedDate": datetime.fromtimestamp(row.created_at, UTC),
        **load(row.document),
    }


class DeploymentOperations(Provider):
    server: HttpApiServer

    def create_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            stage = None
            if params.get("StageName"):
                stage = child(conn, t.stages, "Stage", api_id, params["StageName"])
                if load(stage.document).get("AutoDeploy"):
                    raise BadRequestError(
                        "Cannot create a deployment for a stage with AutoDeploy enabled."
                    )
            has_routes = conn.execute(
                sa.select(t.routes.c.route_id).where(t.routes.c.api_id == api_id).limit(1)
            ).first()
            if has_routes is None:
                raise BadRequestError("At least one route is required before deploying the Api.")
            deployment_id = _insert(conn, api_id, params.get("Description"), auto=False)
            if stage is not None:
                _set_stage_deployment(conn, api_id, stage, deployment_id)
            row = child(conn, t.deployments, "Deployment", api_id, deployment_id)
        self.server.invalidate(api_id)
        return _shape(row)

    def get_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        row = read_child(
            self.platform.store, ctx, t.deployments, "Deployment", api_id, params["DeploymentId"]
        )
        return _shape(row)

    def get_deployments(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        rows = read_children(
            self.platform.store, ctx, t.deployments, api_id, t.deployments.c.created_at
        )
        return page([_shape(r) for r in rows], params)

    def update_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["DeploymentId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            row = child(conn, t.deployments, "Deployment", api_id, ident)
            doc = load(row.document)
            if params.get("Description") is not None:
                doc["Description"] = params["Description"]
            update_child(conn, t.deployments, api_id, ident, document=dump(doc))
            row = child(conn, t.deployments, "Deployment", api_id, ident)
        return _shape(row)

    def delete_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["DeploymentId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            child(conn, t.deployments, "Deployment", api_id, ident)
            for stage in children(conn, t.stages, api_id, t.stages.c.stage_name):
                if load(stage.document).get("DeploymentId") == ident:
                    raise BadRequestError(
                        f"Active stages pointing to this deployment must be moved or deleted "
                        f"(stage {stage.stage_name})"
                    )
            gone = delete_child(conn, t.deployments, api_id, ident)
        if not gone:
            raise not_found("Deployment", ident)
        self.server.invalidate(api_id)
        return {}
