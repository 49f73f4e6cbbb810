"""Serving HTTP APIs: a request under ``/_apis/<apiId>/...`` (or to Host
``<apiId>.execute-api.localhost``) is matched to a route and proxied to its Lambda function.

The gateway hands such requests to ``HttpApiServer`` (an ASGI callable) before AWS-protocol
routing; they carry no signature.

Invariants:
- An API's routes, integrations and stages are compiled once into a ``CompiledApi`` and cached;
  every control-plane write to the API drops its entry after committing (``invalidate``), and a
  compile that overlapped any invalidation is not cached, so a request never sees a
  configuration older than the last completed write. The platform is one process.
- The warm path runs no SQL and never leaves the event loop: the compiled API comes from the
  cache and the function is invoked through the Lambda provider's ``invoke`` coroutine, whose
  target cache and engine are the fast in-memory path.
- Each stage serves a ``ServedConfig``: the live configuration (AutoDeploy) or its
  deployment's snapshot (else; no deployment → 404). CORS is API-level and applies at once.
- Order per request: CORS preflight (answered here, before routing) → stage → route (404) →
  throttle (429, in-memory token buckets) → authorization (JWT/CUSTOM: 401/403, AWS_IAM: 403)
  → integration; CORS headers then replace the integration's.
- Answers are API Gateway's: no stage or route → 404 ``{"message":"Not Found"}``; a function
  error, a bad function response or a failed invocation → 500
  ``{"message":"Internal Server Error"}``; a body over 10 MB → 413.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from lambdamaker.engines.functions.spec import EncodedJson
from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.apigatewayv2.authorization import RouteAuthorization
from lambdamaker.services.apigatewayv2.common import load
from lambdamaker.services.apigatewayv2.cors import CorsPolicy
from lambdamaker.services.apigatewayv2.deployments import snapshot
from lambdamaker.services.apigatewayv2.payloads import (
    BadFunctionResponse,
    Incoming,
    Outgoing,
    event_v1,
    event_v2,
    response_v1,
    response_v2,
)
from lambdamaker.services.apigatewayv2.proxy import (
    ConfigCache,
    ProxyServer,
    Receive,
    Scope,
    read_body,
)
from lambdamaker.services.apigatewayv2.routekeys import RouteTable, parse_route_key
from lambdamaker.services.apigatewayv2.throttling import Throttle, limits
from lambdamaker.services.base import RequestContext

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.apigatewayv2")

PATH_PREFIX = "/_apis/"
HOST_SUFFIX = ".execute-api.localhost"
MAX_BODY = 10 * 1024 * 1024
_INVOCATIONS_URI = "/functions/"


@dataclass(frozen=True)
class ServedConfig:
    """What a stage serves: a deployment's snapshot, or the live configuration."""

    routes: RouteTable
    route_docs: dict[str, dict[str, Any]]  # route id -> route document
    integrations: dict[str, dict[str, Any]]  # route id -> its integration's document
    authorizers: dict[str, dict[str, Any]]  # authorizer id -> document


@dataclass(frozen=True)
class StageConfig:
    variables: dict[str, str]
    served: ServedConfig | None  # None: a stage without a deployment (404)
    limits: tuple[float, int] | None  # DefaultRouteSettings throttling
    route_limits: dict[str, tuple[float, int]]  # route key -> RouteSettings throttling


@dataclass(frozen=True)
class CompiledApi:
    api_id: str
    account: str
    region: str
    stages: dict[str, StageConfig]
    cors: CorsPolicy | None


def served_config(snap: dict[str, Any]) -> ServedConfig:
    """Compile a snapshot (``deployments.snapshot``'s shape) for matching."""
    integrations = snap.get("integrations") or {}
    targets: dict[str, dict[str, Any]] = {}
    docs: dict[str, dict[str, Any]] = {}
    keys = []
    for route in snap.get("routes") or []:
        route_id = route["RouteId"]
        keys.append((parse_route_key(route["RouteKey"]), route_id))
        docs[route_id] = route
        target = str(route.get("Target") or "")
        ident = target.partition("/")[2]
        if target.startswith("integrations/") and ident in integrations:
            targets[route_id] = integrations[ident]
    return ServedConfig(RouteTable(keys), docs, targets, dict(snap.get("authorizers") or {}))


def claims(scope: Scope) -> bool:
    """Whether a request is for a served HTTP API (cheap: path prefix, then Host)."""
    if scope["path"].startswith(PATH_PREFIX):
        return True
    for name, value in scope["headers"]:
        if name == b"host":
            return value.split(b":", 1)[0].endswith(HOST_SUFFIX.encode())
    return False


def function_arn(uri: str) -> str:
    """A Lambda function ARN from an integration URI (the ARN itself, or API Gateway's
    ``arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations``)."""
    if ":apigateway:" in uri and _INVOCATIONS_URI in uri:
        inner = uri.split(_INVOCATIONS_URI, 1)[1]
        return inner.removesuffix("/invocations")
    return uri


def _json(status: int, message: str) -> Outgoing:
    return Outgoing(
        status, [("content-type", "application/json")], json.dumps({"message": message}).encode()
    )


def not_found() -> Outgoing:
    return _json(404, "Not Found")


def internal_error() -> Outgoing:
    return _json(500, "Internal Server Error")


_STATUS_MESSAGES = {401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error"}


class HttpApiServer(ProxyServer):
    request_id_header = b"apigw-requestid"
    label = "HTTP API"

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.apis = ConfigCache(self._compile)
        self.throttle = Throttle()
        self.authorization = RouteAuthorization(platform, self._call)

    def invalidate(self, api_id: str) -> None:
        self.apis.invalidate(api_id)
        self.authorization.forget(api_id)

    def failure(self) -> Outgoing:
        return internal_error()

    def _compile(self, api_id: str) -> CompiledApi | None:
        with self.platform.store.read() as conn:
            api = conn.execute(sa.select(t.apis).where(t.apis.c.api_id == api_id)).first()
            if api is None:
                return None
            stages = conn.execute(sa.select(t.stages).where(t.stages.c.api_id == api_id)).all()
            live = snapshot(conn, api_id)
            wanted = set()
            for row in stages:
                doc = load(row.document)
                if not doc.get("AutoDeploy") and doc.get("DeploymentId"):
                    wanted.add(doc["DeploymentId"])
            deployed = {}
            if wanted:
                deployed = {
                    row.deployment_id: load(row.snapshot)
                    for row in conn.execute(
                        sa.select(t.deployments.c.deployment_id, t.deployments.c.snapshot).where(
                            t.deployments.c.api_id == api_id,
                            t.deployments.c.deployment_id.in_(wanted),
                        )
                    )
                }
        live_config = served_config(live)
        compiled: dict[str, ServedConfig] = {}
        out: dict[str, StageConfig] = {}
        for row in stages:
            doc = load(row.document)
            served: ServedConfig | None = live_config
            if not doc.get("AutoDeploy"):
                ident = str(doc.get("DeploymentId") or "")
                if ident in deployed:
                    if ident not in compiled:
                        compiled[ident] = served_config(deployed[ident])
                    served = compiled[ident]
                else:
                    served = None
            route_limits = {}
            for key, settings in (doc.get("RouteSettings") or {}).items():
                found = limits(settings)
                if found is not None:
                    route_limits[key] = found
            out[row.stage_name] = StageConfig(
                variables=dict(doc.get("StageVariables") or {}),
                served=served,
                limits=limits(doc.get("DefaultRouteSettings")),
                route_limits=route_limits,
            )
        return CompiledApi(
            api_id=api_id,
            account=api.account,
            region=api.region,
            stages=out,
            cors=CorsPolicy.from_config(load(api.document).get("CorsConfiguration")),
        )

    # --- ASGI -------------------------------------------------------------------------------

    async def serve(self, scope: Scope, receive: Receive, request_id: str) -> Outgoing:
        raw = scope.get("raw_path")
        path = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k == "host"), "")
        if path.startswith(PATH_PREFIX):
            api_id, _, rest = path[len(PATH_PREFIX) :].partition("/")
            rest = "/" + rest
            domain = f"{api_id}{HOST_SUFFIX}"
        else:
            domain = host.split(":", 1)[0]
            api_id, rest = domain[: -len(HOST_SUFFIX)], path or "/"
        body = await read_body(receive, MAX_BODY)
        if body is None:
            return _json(413, "Request Entity Too Large")
        api = await self.apis.get(api_id)
        if api is None:
            return not_found()
        if api.cors is None:
            return await self._route(api, scope, headers, rest, domain, body, request_id)
        if scope["method"] == "OPTIONS":
            preflight = api.cors.preflight(dict(headers))
            if preflight is not None:
                return preflight
        out = await self._route(api, scope, headers, rest, domain, body, request_id)
        return api.cors.decorate(out, next((v for k, v in headers if k == "origin"), None))

    async def _route(
        self,
        api: CompiledApi,
        scope: Scope,
        headers: list[tuple[str, str]],
        rest: str,
        domain: str,
        body: bytes,
        request_id: str,
    ) -> Outgoing:
        first = rest[1:].partition("/")[0]
        if first and first != "$default" and first in api.stages:
            stage = first
            route_path = rest[1 + len(first) :] or "/"
        elif "$default" in api.stages:
            stage, route_path = "$default", rest
        else:
            return not_found()
        config = api.stages[stage]
        served = config.served
        if served is None:
            return not_found()
        matched = served.routes.match(scope["method"], route_path)
        if matched is None:
            return not_found()
        route_key, route_id, path_params = matched
        if not self.throttle.admit(
            api.account,
            (api.api_id, stage),
            route_key,
            config.limits,
            config.route_limits.get(route_key),
        ):
            return _json(429, "Too Many Requests")
        integration = served.integrations.get(route_id)
        if integration is None:
            return not_found()
        client = scope.get("client") or ("127.0.0.1", 0)
        query = scope.get("query_string", b"").decode("latin-1")
        incoming = Incoming(
            method=scope["method"],
            raw_path=rest,
            route_path=route_path,
            query_string=query,
            headers=headers,
            body=body,
            source_ip=str(client[0]),
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            api_id=api.api_id,
            account_id=api.account,
            domain_name=domain,
            stage=stage,
            route_key=route_key,
            path_parameters=path_params,
            request_id=request_id,
            now=time.time(),
            stage_variables=config.variables,
        )
        route = served.route_docs[route_id]
        kind = route.get("AuthorizationType", "NONE")
        if kind != "NONE":
            raw = scope.get("raw_path")
            signed_path = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
            status = await self.authorization.check(
                api, served.authorizers, route, incoming, signed_path
            )
            if status != 200:
                return _json(status, _STATUS_MESSAGES.get(status, "Forbidden"))
        return await self._invoke(api, integration, incoming)

    async def _call(
        self, api: CompiledApi, uri: str, event: dict[str, Any], request_id: str
    ) -> bytes | None:
        """The function's answer, or None if it failed (error, or invocation failure)."""
        lam = self.platform.providers.get("lambda")
        invoke = getattr(lam, "invoke", None)
        if invoke is None:
            return None
        ctx = RequestContext(
            request_id=request_id,
            service="lambda",
            operation="Invoke",
            region=api.region,
            account_id=api.account,
            endpoint_url=str(self.platform.endpoint_url),
        )
        params = {
            "FunctionName": function_arn(uri),
            "InvocationType": "RequestResponse",
            "Payload": EncodedJson(orjson.dumps(event)),
        }
        try:
            result = await invoke(ctx, params)
        except Exception as exc:
            log.warning("HTTP API %s: invoking %s failed: %s", api.api_id, uri, exc)
            return None
        if result.get("FunctionError"):
            return None
        return bytes(result.get("Payload") or b"")

    async def _invoke(
        self, api: CompiledApi, integration: dict[str, Any], incoming: Incoming
    ) -> Outgoing:
        if integration.get("IntegrationType") != "AWS_PROXY":
            log.warning("HTTP API %s: integration type not served", api.api_id)
            return internal_error()
        v1 = integration.get("PayloadFormatVersion") == "1.0"
        event = event_v1(incoming) if v1 else event_v2(incoming)
        payload = await self._call(
            api, str(integration.get("IntegrationUri", "")), event, incoming.request_id
        )
        if payload is None:
            return internal_error()
        try:
            return response_v1(payload) if v1 else response_v2(payload)
        except BadFunctionResponse as exc:
            log.warning("HTTP API %s: bad function response: %s", api.api_id, exc)
            return internal_error()
