"""APIs: CreateApi, GetApi, GetApis, UpdateApi, DeleteApi. HTTP APIs only (``ProtocolType`` HTTP).

``ApiEndpoint`` is where this platform serves the API: ``<endpoint>/_apis/<apiId>`` (also
reachable as Host ``<apiId>.execute-api.localhost``). A quick create (``Target``) makes the
``$default`` route to an AWS_PROXY integration and an auto-deployed ``$default`` stage, as AWS
does.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.apigatewayv2.common import (
    BadRequestError,
    dump,
    load,
    new_id,
    page,
    pick,
    require_api,
)
from lambdamaker.services.apigatewayv2.cors import validate_cors
from lambdamaker.services.apigatewayv2.deployments import auto_deploy
from lambdamaker.services.apigatewayv2.routekeys import DEFAULT_ROUTE, parse_route_key
from lambdamaker.services.base import Provider, RequestContext

if TYPE_CHECKING:
    from lambdamaker.services.apigatewayv2.serving import HttpApiServer

_ECHOED = (
    "Name",
    "ProtocolType",
    "Description",
    "Version",
    "CorsConfiguration",
    "DisableExecuteApiEndpoint",
    "DisableSchemaValidation",
    "IpAddressType",
    "Tags",
)


class ApiOperations(Provider):
    server: HttpApiServer

    def api_endpoint(self, api_id: str) -> str:
        return f"{self.platform.local_endpoint()}/_apis/{api_id}"

    def _api_shape(self, row: Any) -> dict[str, Any]:
        doc = load(row.document)
        out: dict[str, Any] = {
            "ApiId": row.api_id,
            "ApiEndpoint": self.api_endpoint(row.api_id),
            "CreatedDate": datetime.fromtimestamp(row.created_at, UTC),
            "RouteSelectionExpression": "${request.method} ${request.path}",
            "ApiKeySelectionExpression": "$request.header.x-api-key",
            "DisableExecuteApiEndpoint": False,
            "IpAddressType": "ipv4",
            "Tags": {},
        }
        out.update(doc)
        return out

    def create_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["ProtocolType"] != "HTTP":
            raise BadRequestError(
                "Only HTTP APIs are supported by lambdamaker (ProtocolType HTTP)."
            )
        route_key = params.get("RouteKey")
        target = params.get("Target")
        if route_key is not None and target is None:
            raise BadRequestError("RouteKey can only be specified with Target (quick create).")
        doc = pick(params, _ECHOED)
        validate_cors(doc.get("CorsConfiguration"))
        api_id = new_id(10)
        now = time.time()
        with self.platform.store.begin() as conn:
            conn.execute(
                sa.insert(t.apis).values(
                    api_id=api_id,
                    account=ctx.account_id,
                    region=ctx.region,
                    name=params["Name"],
                    document=dump(doc),
                    created_at=now,
                )
            )
            if target is not None:
                self._quick_create(conn, api_id, route_key or DEFAULT_ROUTE, target, now)
                auto_deploy(conn, api_id)
            row = require_api(conn, ctx, api_id)
        self.server.invalidate(api_id)
        return self._api_shape(row)

    def _quick_create(
        self, conn: Any, api_id: str, route_key: str, target: str, now: float
    ) -> None:
        parse_route_key(route_key)
        integration_id = new_id()
        integration = {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": target,
            "PayloadFormatVersion": "2.0",
            "IntegrationMethod": "POST",
            "ConnectionType": "INTERNET",
            "TimeoutInMillis": 30000,
            "ApiGatewayManaged": True,
        }
        conn.execute(
            sa.insert(t.integrations).values(
                api_id=api_id, integration_id=integration_id, document=dump(integration)
            )
        )
        route = {
            "RouteKey": route_key,
            "Target": f"integrations/{integration_id}",
            "AuthorizationType": "NONE",
            "ApiKeyRequired": False,
            "ApiGatewayManaged": True,
        }
        conn.execute(
            sa.insert(t.routes).values(
                api_id=api_id, route_id=new_id(), route_key=route_key, document=dump(route)
            )
        )
        stage = {"StageName": "$default", "AutoDeploy": True, "ApiGatewayManaged": True}
        conn.execute(
            sa.insert(t.stages).values(
                api_id=api_id,
                stage_name="$default",
                document=dump(stage),
                created_at=now,
                updated_at=now,
            )
        )

    def get_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            row = require_api(conn, ctx, params["ApiId"])
        return self._api_shape(row)

    def get_apis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            rows = conn.execute(
                sa.select(t.apis)
                .where(t.apis.c.account == ctx.account_id, t.apis.c.region == ctx.region)
                .order_by(t.apis.c.created_at, t.apis.c.api_id)
            ).all()
        return page([self._api_shape(row) for row in rows], params)

    def update_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        changes = pick(params, tuple(n for n in _ECHOED if n not in ("ProtocolType", "Tags")))
        validate_cors(changes.get("CorsConfiguration"))
        with self.platform.store.begin() as conn:
            row = require_api(conn, ctx, api_id)
            doc = {**load(row.document), **changes}
            conn.execute(
                sa.update(t.apis)
                .where(t.apis.c.api_id == api_id)
                .values(name=doc["Name"], document=dump(doc))
            )
            row = require_api(conn, ctx, api_id)
        self.server.invalidate(api_id)
        return self._api_shape(row)

    def delete_cors_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        api_id = params["ApiId"]
        with self.platform.store.begin() as conn:
            row = require_api(conn, ctx, api_id)
            doc = load(row.document)
            doc.pop("CorsConfiguration", None)
            conn.execute(
                sa.update(t.apis).where(t.apis.c.api_id == api_id).values(document=dump(doc))
            )
        self.server.invalidate(api_id)
        return {}

    def delete_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            for table in t.CHILDREN:
                conn.execute(sa.delete(table).where(table.c.api_id == api_id))
            conn.execute(sa.delete(t.apis).where(t.apis.c.api_id == api_id))
        self.server.invalidate(api_id)
        self.server.throttle.forget(api_id)
        return {}
