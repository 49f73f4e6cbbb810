"""Stages: CreateStage, GetStage, GetStages, UpdateStage, DeleteStage.

An ``AutoDeploy`` stage serves the API's current configuration (and gets a new deployment on
every change, see ``deployments``); any other stage serves the snapshot of its ``DeploymentId``
and answers 404 without one. ``$default`` is served at the API's root, any other stage under ``/<stageName>``.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.apigatewayv2.common import (
    BadRequestError,
    ConflictError,
    child,
    delete_child,
    dump,
    load,
    not_found,
    page,
    pick,
    read_child,
    read_children,
    require_api,
    update_child,
)
from lambdamaker.services.apigatewayv2.deployments import auto_deploy
from lambdamaker.services.base import Provider, RequestContext

if TYPE_CHECKING:
    from lambdamaker.services.apigatewayv2.serving import HttpApiServer

_ECHOED = (
    "StageName",
    "AutoDeploy",
    "DeploymentId",
    "Description",
    "StageVariables",
    "DefaultRouteSettings",
    "RouteSettings",
    "AccessLogSettings",
    "Tags",
)
_STAGE_NAME = re.compile(r"\$default|[A-Za-z0-9_\-]{1,128}")


def _shape(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AutoDeploy": False,
        "RouteSettings": {},
        "StageVariables": {},
        "Tags": {},
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
    }
    out.update(load(row.document))
    out["CreatedDate"] = datetime.fromtimestamp(row.created_at, UTC)
    out["LastUpdatedDate"] = datetime.fromtimestamp(row.updated_at, UTC)
    return out


class StageOperations(Provider):
    server: HttpApiServer

    def create_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, name = params["ApiId"], params["StageName"]
        if _STAGE_NAME.fullmatch(name) is None:
            raise BadRequestError(
                f"Stage name {name} is invalid: only letters, digits, - and _, or $default."
            )
        doc = pick(params, _ECHOED)
        now = time.time()
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            taken = conn.execute(
                sa.select(t.stages.c.stage_name).where(
                    t.stages.c.api_id == api_id, t.stages.c.stage_name == name
                )
            ).first()
            if taken is not None:
                raise _duplicate(name)
            _check_deployment(conn, api_id, doc.get("DeploymentId"))
            try:
                conn.execute(
                    sa.insert(t.stages).values(
                        api_id=api_id,
                        stage_name=name,
                        document=dump(doc),
                        created_at=now,
                        updated_at=now,
                    )
                )
            except IntegrityError as exc:
                raise _duplicate(name) from exc
            auto_deploy(conn, api_id, only=name)
            row = self._row(conn, api_id, name)
        self.server.invalidate(api_id)
        return _shape(row)

    def _row(self, conn: Any, api_id: str, name: str) -> Any:
        return child(conn, t.stages, "Stage", api_id, name)

    def get_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = read_child(
            self.platform.store, ctx, t.stages, "Stage", params["ApiId"], params["StageName"]
        )
        return _shape(row)

    def get_stages(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        rows = read_children(self.platform.store, ctx, t.stages, api_id, t.stages.c.stage_name)
        return page([_shape(r) for r in rows], params)

    def update_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, name = params["ApiId"], params["StageName"]
        changes = pick(params, tuple(n for n in _ECHOED if n not in ("StageName", "Tags")))
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            row = self._row(conn, api_id, name)
            doc = {**load(row.document), **changes}
            _check_deployment(conn, api_id, changes.get("DeploymentId"))
            update_child(conn, t.stages, api_id, name, document=dump(doc), updated_at=time.time())
            if changes.get("AutoDeploy") and "DeploymentId" not in changes:
                auto_deploy(conn, api_id, only=name)
            row = self._row(conn, api_id, name)
        self.server.invalidate(api_id)
        return _shape(row)

    def delete_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, name = params["ApiId"], params["StageName"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            gone = delete_child(conn, t.stages, api_id, name)
        if not gone:
            raise not_found("Stage", name)
        self.server.invalidate(api_id)
        return {}


def _check_deployment(conn: Any, api_id: str, deployment_id: str | None) -> None:
    if deployment_id is None:
        return
    found = conn.execute(
        sa.select(t.deployments.c.deployment_id).where(
            t.deployments.c.api_id == api_id, t.deployments.c.deployment_id == deployment_id
        )
    ).first()
    if found is None:
        raise not_found("Deployment", deployment_id)


def _duplicate(name: str) -> ConflictError:
    return ConflictError(f"Unable to create stage. Stage already exists: {name}")
