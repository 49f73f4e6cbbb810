"""Authorizers: CreateAuthorizer, GetAuthorizer, GetAuthorizers, UpdateAuthorizer,
DeleteAuthorizer (control plane; ``authorize`` does the checking at request time).

Invariants:
- A JWT authorizer has ``JwtConfiguration.Issuer`` and exactly one identity source; a REQUEST
  (Lambda) authorizer has an ``AuthorizerUri`` and a payload format version (1.0 or 2.0);
  simple responses only with 2.0. Identity sources are ``$request.header.<n>``,
  ``$request.querystring.<n>``, ``$context.<n>`` or ``$stageVariables.<n>``.
- An authorizer a route uses cannot be deleted (BadRequestException).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.apigatewayv2.common import (
    BadRequestError,
    child,
    children,
    delete_child,
    dump,
    load,
    new_id,
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
    "Name",
    "AuthorizerType",
    "AuthorizerUri",
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
)
_SOURCE = re.compile(r"\$(request\.header|request\.querystring|context|stageVariables)\.[^\s,]+")


def validate(doc: dict[str, Any]) -> None:
    """``BadRequestException`` for an authorizer AWS would refuse."""
    kind = doc.get("AuthorizerType")
    sources = doc.get("IdentitySource") or []
    for source in sources:
        if _SOURCE.fullmatch(source) is None:
            raise BadRequestError(f"Invalid identity source {source}")
    ttl = doc.get("AuthorizerResultTtlInSeconds")
    if ttl is not None and not 0 <= int(ttl) <= 3600:
        raise BadRequestError("AuthorizerResultTtlInSeconds must be between 0 and 3600")
    if kind == "JWT":
        jwt = doc.get("JwtConfiguration") or {}
        if not jwt.get("Issuer"):
            raise BadRequestError("JwtConfiguration.Issuer is required for a JWT authorizer")
        if len(sources) != 1:
            raise BadRequestError("A JWT authorizer takes exactly one identity source")
    elif kind == "REQUEST":
        if not doc.get("AuthorizerUri"):
            raise BadRequestError("AuthorizerUri is required for a REQUEST authorizer")
        version = doc.get("AuthorizerPayloadFormatVersion")
        if version not in ("1.0", "2.0"):
            raise BadRequestError(
                "AuthorizerPayloadFormatVersion must be 1.0 or 2.0 for a REQUEST authorizer"
            )
        if doc.get("EnableSimpleResponses") and version != "2.0":
            raise BadRequestError("EnableSimpleResponses requires payload format version 2.0")
        if int(doc.get("AuthorizerResultTtlInSeconds") or 0) > 0 and not sources:
            raise BadRequestError("Identity sources are required when caching is enabled")
    else:
        raise BadRequestError(f"Invalid AuthorizerType {kind}: must be JWT or REQUEST")


class AuthorizerOperations(Provider):
    server: HttpApiServer

    def create_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        doc: dict[str, Any] = pick(params, _ECHOED)
        if doc.get("AuthorizerType") == "REQUEST":
            doc.setdefault("AuthorizerResultTtlInSeconds", 0)
            doc.setdefault("EnableSimpleResponses", False)
        validate(doc)
        ident = new_id()
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            conn.execute(
                sa.insert(t.authorizers).values(
                    api_id=api_id, authorizer_id=ident, document=dump(doc)
                )
            )
        self.server.invalidate(api_id)
        return {"AuthorizerId": ident, **doc}

    def get_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["AuthorizerId"]
        row = read_child(self.platform.store, ctx, t.authorizers, "Authorizer", api_id, ident)
        return {"AuthorizerId": ident, **load(row.document)}

    def get_authorizers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params["ApiId"]
        rows = read_children(
            self.platform.store, ctx, t.authorizers, api_id, t.authorizers.c.authorizer_id
        )
        items = [{"AuthorizerId": r.authorizer_id, **load(r.document)} for r in rows]
        return page(items, params)

    def update_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["AuthorizerId"]
        changes = pick(params, _ECHOED)
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            row = child(conn, t.authorizers, "Authorizer", api_id, ident)
            doc = {**load(row.document), **changes}
            validate(doc)
            update_child(conn, t.authorizers, api_id, ident, document=dump(doc))
            auto_deploy(conn, api_id)
        self.server.invalidate(api_id)
        return {"AuthorizerId": ident, **doc}

    def delete_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, ident = params["ApiId"], params["AuthorizerId"]
        with self.platform.store.begin() as conn:
            require_api(conn, ctx, api_id)
            child(conn, t.authorizers, "Authorizer", api_id, ident)
            for route in children(conn, t.routes, api_id, t.routes.c.route_key):
                if load(route.document).get("AuthorizerId") == ident:
                    raise BadRequestError(
                        f"Cannot delete authorizer {ident}: it is used by route {route.route_key}"
                    )
            delete_child(conn, t.authorizers, api_id, ident)
            auto_deploy(conn, api_id)
        self.server.invalidate(api_id)
        return {}
