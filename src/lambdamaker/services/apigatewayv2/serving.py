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
- Answers are API Gateway's: no stage or route → 404 ``{"message":"Not Found"}``; a function
  error, a bad function response or a failed invocation → 500
  ``{"message":"Internal Server Error"}``; a body over 10 MB → 413.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import sqlalchemy as sa

from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.apigatewayv2.common import load
from lambdamaker.services.apigatewayv2.payloads import (
    BadFunctionResponse,
    Incoming,
    Outgoing,
    event_v1,
    event_v2,
    response_v1,
    response_v2,
)
from lambdamaker.services.apigatewayv2.routekeys import RouteTable, parse_route_key
from lambdamaker.services.base import RequestContext

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.apigatewayv2")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PATH_PREFIX = "/_apis/"
HOST_SUFFIX = ".execute-api.localhost"
MAX_BODY = 10 * 1024 * 1024
_INVOCATIONS_URI = "/functions/"


@dataclass(frozen=True)
class CompiledApi:
    api_id: str
    account: str
    region: str
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    routes: RouteTable
    integrations: dict[str, dict[str, Any]]  # route id -> its integration's document


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


class HttpApiServer:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._cache: dict[str, CompiledApi] = {}
        # Bumped by every invalidation: a compile that raced a write is not cached.
        self._generation = 0

    def invalidate(self, api_id: str) -> None:
        self._generation += 1
        self._cache.pop(api_id, None)

    def _compile(self, api_id: str) -> CompiledApi | None:
        with self.platform.store.read() as conn:
            api = conn.execute(sa.select(t.apis).where(t.apis.c.api_id == api_id)).first()
            if api is None:
                return None
            stages = conn.execute(sa.select(t.stages).where(t.stages.c.api_id == api_id)).all()
            routes = conn.execute(sa.select(t.routes).where(t.routes.c.api_id == api_id)).all()
            integrations = conn.execute(
                sa.select(t.integrations).where(t.integrations.c.api_id == api_id)
            ).all()
        by_id = {row.integration_id: load(row.document) for row in integrations}
        targets: dict[str, dict[str, Any]] = {}
        keys = []
        for row in routes:
            keys.append((parse_route_key(row.route_key), row.route_id))
            target = str(load(row.document).get("Target") or "")
            ident = target.partition("/")[2]
            if target.startswith("integrations/") and ident in by_id:
                targets[row.route_id] = by_id[ident]
        return CompiledApi(
            api_id=api_id,
            account=api.account,
            region=api.region,
            stages={
                row.stage_name: dict(load(row.document).get("StageVariables") or {})
                for row in stages
            },
            routes=RouteTable(keys),
            integrations=targets,
        )

    async def _compiled(self, api_id: str) -> CompiledApi | None:
        cached = self._cache.get(api_id)
        if cached is not None:
            return cached
        generation = self._generation
        compiled = await anyio.to_thread.run_sync(self._compile, api_id)
        # Unknown ids are not cached (no growth from probes); nor is a compile a write raced.
        if compiled is not None and generation == self._generation:
            self._cache[api_id] = compiled
        return compiled

    # --- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        try:
            out = await self._serve(scope, receive, request_id)
        except _Disconnected:
            return
        except Exception:
            log.exception("HTTP API request %s %s failed", scope["method"], scope["path"])
            out = internal_error()
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.headers]
        headers.append((b"apigw-requestid", request_id.encode()))
        headers.append((b"content-length", str(len(out.body)).encode()))
        await send({"type": "http.response.start", "status": out.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else out.body
        await send({"type": "http.response.body", "body": body})

    async def _serve(self, scope: Scope, receive: Receive, request_id: str) -> Outgoing:
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
        body = await _read_body(receive)
        if body is None:
            return _json(413, "Request Entity Too Large")
        api = await self._compiled(api_id)
        if api is None:
            return not_found()
        first = rest[1:].partition("/")[0]
        if first and first != "$default" and first in api.stages:
            stage = first
            route_path = rest[1 + len(first) :] or "/"
        elif "$default" in api.stages:
            stage, route_path = "$default", rest
        else:
            return not_found()
        matched = api.routes.match(scope["method"], route_path)
        if matched is None:
            return not_found()
        route_key, route_id, path_params = matched
        integration = api.integrations.get(route_id)
        if integration is None:
            return not_found()
        client = scope.get("client") or ("127.0.0.1", 0)
        incoming = Incoming(
            method=scope["method"],
            raw_path=rest,
            route_path=route_path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            source_ip=str(client[0]),
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            api_id=api_id,
            account_id=api.account,
            domain_name=domain,
            stage=stage,
            route_key=route_key,
            path_parameters=path_params,
            request_id=request_id,
            now=time.time(),
            stage_variables=api.stages[stage],
        )
        return await self._invoke(api, integration, incoming)

    async def _invoke(
        self, api: CompiledApi, integration: dict[str, Any], incoming: Incoming
    ) -> Outgoing:
        if integration.get("IntegrationType") != "AWS_PROXY":
            log.warning("HTTP API %s: integration type not served", api.api_id)
            return internal_error()
        v1 = integration.get("PayloadFormatVersion") == "1.0"
        event = event_v1(incoming) if v1 else event_v2(incoming)
        lam = self.platform.providers.get("lambda")
        invoke = getattr(lam, "invoke", None)
        if invoke is None:
            return internal_error()
        ctx = RequestContext(
            request_id=incoming.request_id,
            service="lambda",
            operation="Invoke",
            region=api.region,
            account_id=api.account,
            endpoint_url=str(self.platform.endpoint_url),
        )
        params = {
            "FunctionName": function_arn(str(integration.get("IntegrationUri", ""))),
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(event).encode(),
        }
        try:
            result = await invoke(ctx, params)
        except Exception as exc:
            log.warning("HTTP API %s: invoking the function failed: %s", api.api_id, exc)
            return internal_error()
        if result.get("FunctionError"):
            return internal_error()
        payload = bytes(result.get("Payload") or b"")
        try:
            return response_v1(payload) if v1 else response_v2(payload)
        except BadFunctionResponse as exc:
            log.warning("HTTP API %s: bad function response: %s", api.api_id, exc)
            return internal_error()


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it is over ``MAX_BODY``."""
    chunks: list[bytes] = []
    size = 0
    too_big = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            too_big = True
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return None if too_big else b"".join(chunks)
