"""Route authorization for served HTTP APIs: AWS_IAM (SigV4 for ``execute-api``), JWT
authorizers (``jwtauth``) and Lambda REQUEST authorizers (``lambdaauth``).

Invariants: ``check`` answers 200 only after setting the request's authorizer context for both
payload formats; otherwise the status API Gateway answers (401, 403, or 500 for a route whose
authorizer is gone). Lambda authorizer results are cached per API and dropped with ``forget``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.services.apigatewayv2.jwtauth import JwtRejected, JwtVerifier, claim_strings
from lambdamaker.services.apigatewayv2.lambdaauth import LambdaAuthorizers, identity_values
from lambdamaker.services.apigatewayv2.payloads import Incoming
from lambdamaker.services.apigatewayv2.proxy import joined_headers, sigv4_identity

if TYPE_CHECKING:
    from lambdamaker.platform import Platform
    from lambdamaker.services.apigatewayv2.serving import CompiledApi

# call(api, function uri, event, request id) -> the function's answer, or None if it failed
Call = Callable[["CompiledApi", str, dict[str, Any], str], Awaitable[bytes | None]]


class RouteAuthorization:
    def __init__(self, platform: Platform, call: Call) -> None:
        self.platform = platform
        self.call = call
        self.jwt = JwtVerifier()
        self.lambdas = LambdaAuthorizers()

    def forget(self, api_id: str) -> None:
        self.lambdas.forget(api_id)

    async def check(
        self,
        api: CompiledApi,
        authorizers: dict[str, dict[str, Any]],
        route: dict[str, Any],
        req: Incoming,
        signed_path: str,
    ) -> int:
        """200 (and ``req``'s authorizer context set), or the status to answer."""
        kind = route.get("AuthorizationType")
        if kind == "AWS_IAM":
            joined = joined_headers(req.headers)
            signed = HttpRequest(
                req.method, signed_path, req.query_string, joined, req.body, joined.get("host", "")
            )
            iam = sigv4_identity(self.platform, signed, "execute-api")
            if iam is None:
                return 403
            req.authorizer_v2 = {"iam": iam}
            req.authorizer_v1 = {"iam": iam}
            return 200
        doc = authorizers.get(str(route.get("AuthorizerId")))
        if doc is None:
            return 500
        if kind == "JWT":
            source = (doc.get("IdentitySource") or ["$request.header.Authorization"])[0]
            values = identity_values([source], req)
            try:
                claims, scopes = await self.jwt.verify(
                    values[0] if values else None,
                    doc.get("JwtConfiguration") or {},
                    route.get("AuthorizationScopes"),
                )
            except JwtRejected as exc:
                return exc.status
            strings = claim_strings(claims)
            req.authorizer_v2 = {"jwt": {"claims": strings, "scopes": scopes}}
            req.authorizer_v1 = {"claims": strings, "scopes": scopes}
            return 200
        decision = await self.lambdas.authorize(
            api.api_id,
            str(route.get("AuthorizerId")),
            doc,
            req,
            api.region,
            lambda arn, event: self.call(api, arn, event, req.request_id),
        )
        if decision.status == 200:
            req.authorizer_v2 = {"lambda": decision.context}
            v1: dict[str, Any] = dict(decision.context)
            if decision.principal is not None:
                v1["principalId"] = decision.principal
            req.authorizer_v1 = v1
        return decision.status
