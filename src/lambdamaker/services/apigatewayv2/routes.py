"""Routes and integrations: Create/Get/Gets/Update/Delete for each.

A route's ``Target`` is ``integrations/<integrationId>`` of the same API. Integrations are
``AWS_PROXY`` to a Lambda function (``IntegrationUri`` a function ARN, or the API Gateway
``.../functions/<arn>/invocations`` form), payload format 2.0 or 1.0; other integration types
are stored and echoed but answered 500 when a request reaches them.
"""

from __future__ import annotations

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
    new_id,
    not_found,
    page,
    pick,
    read_child,
    read_children,
    require_api,
    update_child,
)
from lambdamaker.services.apigatewayv2.deployments import auto_deploy
from lambdamaker.services.apigatewayv2.routekeys import parse_route_key
from lambdamaker.services.base import Provider, RequestContext

if TYPE_CHECKING:
    from lambdamaker.services.apigatewayv2.serving import HttpApiServer

_ROUTE_ECHOED = (
    "RouteKey",
    "Target",
    "AuthorizationType",
    "AuthorizerId",
    "AuthorizationScopes",
    "ApiKeyRequired",
    "OperationName",
    "RequestParameters",
)
_INTEGRATION_ECHOED = (
    "IntegrationType",
    "IntegrationUri",
    "IntegrationMethod",
    "IntegrationSubtype",
    "PayloadFormatVersion",
    "ConnectionType",
    "ConnectionId",
    "CredentialsArn",
    "Description",
    "RequestParameters",
    "ResponseParameters",
    "TimeoutInMillis",
)
_PAYLOAD_VERSIONS = ("1.0", "2.0")
_AUTHORIZATION_TYPES = {"NONE": None, "JWT": "JWT", "CUSTOM": "REQUEST", "AWS_IAM": None}


def _check_authorization(conn: Any, api_id: str, doc: dict[str, Any]) -> None:
    """A route's AuthorizationType names an authorizer of the matching kind (JWT -> JWT,
    CUSTOM -> REQUEST); NONE and AWS_IAM take none; scopes only with JWT."""
    kind = doc.get("AuthorizationType", "NONE")
    if kind not in _AUTHORIZATION_TYPES:
        raise BadRequestError(f"Invalid AuthorizationType {kind}")
    wanted = _AUTHORIZATION_TYPES[kind]
    ident = doc.get("AuthorizerId")
    if wanted is None:
        if ident:
            raise BadRequestError(f"AuthorizerId cannot be set for AuthorizationType {kind}")
    else:
        if not ident:
            raise BadRequestError(f"AuthorizerId is required for AuthorizationType {kind}")
        row = conn.execute(
            sa.select(t.authorizers.c.document).where(
                t.authorizers.c.api_id == api_id, t.authorizers.c.authorizer_id == ident
            )
        ).first()
        if row is None:
            raise not_found("Authorizer", ident)
        if load(row.document).get("AuthorizerType") != wanted:
            raise BadRequestError(
                f"AuthorizationType {kind} requires an authorizer of type {wanted}"
            )
    if doc.get("AuthorizationScopes") and kind != "JWT":
        raise BadRequestError("AuthorizationScopes are only supported with JWT authorizers")


class RouteOperations(Provider):
    server: HttpApiServer

    # --- routes ---------------------------------------------------------------------------

    def create_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        key = parse_route_key(params["RouteKey"])
        doc = {"AuthorizationType": "NONE", "ApiKeyRequired": False}
        doc.update(pick(params, _ROUTE_ECHOED))
        route_id = new_id()
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            target = params.get("Target")
            if target is not None:
                self._check_target(conn, api_id, target)
            taken = conn.execute(
                sa.select(t.routes.c.route_id).where(
                    t.routes.c.api_id == api_id, t.routes.c.route_key == key.text
                )
            ).first()
            if taken is not None:
                raise _duplicate_route()
            _check_authorization(conn, api_id, doc)
            try:
                conn.execute(
                    sa.insert(t.routes).values(
                        api_id=api_id, route_id=route_id, route_key=key.text, document=dump(doc)
                    )
                )
            except IntegrityError as exc:
                raise _duplicate_route() from exc
            auto_deploy(conn, api_id)
        self.server.invalidate(api_id)
        return {"RouteId": route_id, **doc}

    def _check_target(self, conn: Any, api_id: str, target: str) -> None:
        kind, _, ident = target.partition("/")
        if kind != "integrations" or not ident:
            raise BadRequestError(f"Invalid target {target}: expected integrations/<id>")
        found = conn.execute(
            sa.select(t.integrations.c.integration_id).where(
                t.integrations.c.api_id == api_id, t.integrations.c.integration_id == ident
            )
        ).first()
        if found is None:
            raise BadRequestError(f"Invalid integration identifier specified {ident}")

    def get_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, route_id = params["ApiId"], params["RouteId"]
        row = read_child(self.platform.store, ctx, t.routes, "Route", api_id, route_id)
        return {"RouteId": row.route_id, **load(row.document)}

    def get_routes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        rows = read_children(self.platform.store, ctx, t.routes, api_id, t.routes.c.route_key)
        return page([{"RouteId": r.route_id, **load(r.document)} for r in rows], params)

    def update_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, route_id = params["ApiId"], params["RouteId"]
        changes = pick(params, _ROUTE_ECHOED)
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            row = child(conn, t.routes, "Route", api_id, route_id)
            if changes.get("Target") is not None:
                self._check_target(conn, api_id, changes["Target"])
            key = row.route_key
            if "RouteKey" in changes and changes["RouteKey"] != key:
                key = parse_route_key(changes["RouteKey"]).text
                taken = conn.execute(
                    sa.select(t.routes.c.route_id).where(
                        t.routes.c.api_id == api_id, t.routes.c.route_key == key
                    )
                ).first()
                if taken is not None:
                    raise _duplicate_route()
            doc = {**load(row.document), **changes}
            if changes.get("AuthorizationType") in ("NONE", "AWS_IAM"):
                doc.pop("AuthorizerId", None)
            if doc.get("AuthorizationType") != "JWT":
                doc.pop("AuthorizationScopes", None)
            _check_authorization(conn, api_id, doc)
            update_child(conn, t.routes, api_id, route_id, route_key=key, document=dump(doc))
            auto_deploy(conn, api_id)
        self.server.invalidate(api_id)
        return {"RouteId": route_id, **doc}

    def delete_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, route_id = params["ApiId"], params["RouteId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            gone = delete_child(conn, t.routes, api_id, route_id)
            if gone:
                auto_deploy(conn, api_id)
        if not gone:
            raise not_found("Route", route_id)
        self.server.invalidate(api_id)
        return {}

    # --- integrations ---------------------------------------------------------------------

    def create_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        kind = params["IntegrationType"]
        doc: dict[str, Any] = {"ConnectionType": "INTERNET", "TimeoutInMillis": 30000}
        doc.update(pick(params, _INTEGRATION_ECHOED))
        if kind == "AWS_PROXY":
            if not params.get("IntegrationUri") and not params.get("IntegrationSubtype"):
                raise BadRequestError("IntegrationUri is required for an AWS_PROXY integration.")
            # Without one, API Gateway (and Terraform's documented default) use 1.0.
            doc.setdefault("PayloadFormatVersion", "1.0")
            doc.setdefault("IntegrationMethod", "POST")
        version = doc.get("PayloadFormatVersion")
        if version is not None and version not in _PAYLOAD_VERSIONS:
            raise BadRequestError(f"Invalid PayloadFormatVersion {version}: must be 1.0 or 2.0")
        integration_id = new_id()
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            conn.execute(
                sa.insert(t.integrations).values(
                    api_id=api_id, integration_id=integration_id, document=dump(doc)
                )
            )
            auto_deploy(conn, api_id)
        self.server.invalidate(api_id)
        return {"IntegrationId": integration_id, **doc}

    def get_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["IntegrationId"]
        row = read_child(self.platform.store, ctx, t.integrations, "Integration", api_id, ident)
        return {"IntegrationId": row.integration_id, **load(row.document)}

    def get_integrations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        rows = read_children(
            self.platform.store, ctx, t.integrations, api_id, t.integrations.c.integration_id
        )
        items = [{"IntegrationId": r.integration_id, **load(r.document)} for r in rows]
        return page(items, params)

    def update_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["IntegrationId"]
        changes = pick(params, _INTEGRATION_ECHOED)
        version = changes.get("PayloadFormatVersion")
        if version is not None and version not in _PAYLOAD_VERSIONS:
            raise BadRequestError(f"Invalid PayloadFormatVersion {version}: must be 1.0 or 2.0")
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            row = child(conn, t.integrations, "Integration", api_id, ident)
            doc = {**load(row.document), **changes}
            update_child(conn, t.integrations, api_id, ident, document=dump(doc))
            auto_deploy(conn, api_id)
        self.server.invalidate(api_id)
        return {"IntegrationId": ident, **doc}

    def delete_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["IntegrationId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            gone = delete_child(conn, t.integrations, api_id, ident)
            if gone:
                auto_deploy(conn, api_id)
        if not gone:
            raise not_found("Integration", ident)
        self.server.invalidate(api_id)
        return {}


def _duplicate_route() -> ConflictError:
    return ConflictError("Unable to create route. Route key already exists for this API")
