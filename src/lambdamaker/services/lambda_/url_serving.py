"""Serving Lambda function URLs: a request under ``/_urls/<url-id>/...`` (or to Host
``<url-id>.lambda-url.<region>.localhost[:port]``) invokes the function or alias the URL
belongs to with AWS's payload format 2.0 event, and its answer becomes the HTTP response.

The gateway hands such requests to ``FunctionUrlServer`` (an ASGI callable) ahead of
AWS-protocol routing (``claims`` is the cheap test it uses).

Invariants:
- The url-id → config map is cached (``proxy.ConfigCache``) and dropped whole on every config write, when it
  is made and after it commits (``invalidate``); a load that overlapped an invalidation is not
  kept. The warm path runs no SQL: config from the cache, then the Lambda provider's ``invoke``
  coroutine (in-memory targets, ``engine.invoke_async``) on the event loop.
- ``AWS_IAM`` URLs require a valid SigV4 signature for service ``lambda`` by a known key
  (verified as the gateway verifies AWS requests, over the path as the client sent it);
  anything else is 403 ``{"Message":"Forbidden"}``. ``NONE`` URLs take any request.
- With a Cors config, a preflight (OPTIONS with Origin and Access-Control-Request-Method) is
  answered here without invoking; other responses to a request with an allowed Origin get the
  CORS headers, which replace any the function set.
- Answers, as function URLs give them: unknown url-id → 404; a function error or a response
  that cannot be mapped → 502 ``Internal Server Error``; throttled → 429; a body over 6 MB →
  413. RESPONSE_STREAM URLs are served buffered.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from lambdamaker.errors import ResourceNotFoundError, ServiceError, TooManyRequestsError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.services.apigatewayv2.cors import CorsPolicy
from lambdamaker.services.apigatewayv2.payloads import (
    BadFunctionResponse,
    Incoming,
    Outgoing,
    event_v2,
    response_v2,
)
from lambdamaker.services.apigatewayv2.proxy import (
    ConfigCache,
    ProxyServer,
    Receive,
    Scope,
    joined_headers,
    read_body,
    sigv4_identity,
)
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.function_url_tables import function_urls

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.function_urls import FunctionUrlOperations

log = logging.getLogger("lambdamaker.lambda")

PATH_PREFIX = "/_urls/"
HOST_MARKER = b".lambda-url."
MAX_BODY = 6 * 1024 * 1024


@dataclass(frozen=True)
class UrlConfig:
    url_id: str
    function_name: str
    qualifier: str | None  # an alias, or None for the unqualified function
    auth_type: str
    cors: CorsPolicy | None


def claims(scope: Scope) -> bool:
    """Whether a request is for a function URL (cheap: path prefix, then Host)."""
    if scope["path"].startswith(PATH_PREFIX):
        return True
    for name, value in scope["headers"]:
        if name == b"host":
            return HOST_MARKER in value and b".localhost" in value
    return False


def _message(status: int, message: str | None) -> Outgoing:
    body = orjson.dumps({"Message": message})
    return Outgoing(status, [("content-type", "application/json")], body)


def forbidden() -> Outgoing:
    return _message(403, "Forbidden")


def bad_gateway() -> Outgoing:
    return Outgoing(502, [("content-type", "application/json")], b"Internal Server Error")


class FunctionUrlServer(ProxyServer):
    label = "function URL"

    def __init__(self, provider: FunctionUrlOperations) -> None:
        self.provider = provider
        self.platform = provider.platform
        self.configs = ConfigCache(self._load)

    def invalidate(self) -> None:
        self.configs.invalidate()

    def failure(self) -> Outgoing:
        return bad_gateway()

    def _load(self, url_id: str) -> UrlConfig | None:
        with self.platform.store.read() as conn:
            row = conn.execute(
                sa.select(function_urls).where(function_urls.c.url_id == url_id)
            ).first()
        if row is None:
            return None
        return UrlConfig(
            url_id=url_id,
            function_name=row.function_name,
            qualifier=None if row.qualifier == "$LATEST" else row.qualifier,
            auth_type=row.auth_type,
            cors=CorsPolicy.from_config(
                orjson.loads(row.cors) if row.cors else None, preflight_status=200, vary=True
            ),
        )

    # --- ASGI -------------------------------------------------------------------------------

    async def serve(self, scope: Scope, receive: Receive, request_id: str) -> Outgoing:
        raw = scope.get("raw_path")
        full_path = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k == "host"), "")
        region = self.provider.arns.region
        if full_path.startswith(PATH_PREFIX):
            url_id, _, rest = full_path[len(PATH_PREFIX) :].partition("/")
            path = "/" + rest
            domain = f"{url_id}.lambda-url.{region}.localhost"
        else:
            domain = host.split(":", 1)[0]
            url_id, path = domain.split(".", 1)[0], full_path or "/"
        body = await read_body(receive, MAX_BODY)
        config = await self.configs.get(url_id)
        if config is None:
            return _message(404, "Not Found")
        if body is None:
            return _message(413, "Request must be smaller than 6291456 bytes")
        joined = joined_headers(headers)
        if config.cors is not None and scope["method"] == "OPTIONS":
            preflight = config.cors.preflight(joined)
            if preflight is not None:
                return preflight
        query = scope.get("query_string", b"").decode("latin-1")
        authorizer: dict[str, Any] | None = None
        if config.auth_type == "AWS_IAM":
            request = HttpRequest(scope["method"], full_path, query, joined, body, host)
            try:
                authorizer = self._authenticate(request)
            except ServiceError as exc:
                log.info("function URL %s: refused a request: %s", url_id, exc.message)
                return forbidden()
        out = await self._invoke(
            config, scope, headers, path, query, body, domain, request_id, authorizer
        )
        if config.cors is not None:
            out = config.cors.decorate(out, joined.get("origin"))
        return out

    def _authenticate(self, request: HttpRequest) -> dict[str, Any] | None:
        """The ``authorizer`` of a request validly signed for ``lambda`` (None for an unsigned
        request when the platform runs without auth); raises ``ServiceError`` (403)."""
        if not self.platform.config.auth and "authorization" not in request.headers:
            return None
        iam = sigv4_identity(self.platform, request, "lambda")
        if iam is None:
            raise ServiceError("not validly signed for lambda", code="Forbidden", status=403)
        return {"iam": iam}

    async def _invoke(
        self,
        config: UrlConfig,
        scope: Scope,
        headers: list[tuple[str, str]],
        path: str,
        query: str,
        body: bytes,
        domain: str,
        request_id: str,
        authorizer: dict[str, Any] | None,
    ) -> Outgoing:
        client = scope.get("client") or ("127.0.0.1", 0)
        account = self.provider.arns.account
        # The front end's headers, as AWS adds them (the caller's own values win here).
        names = {name for name, _ in headers}
        server = scope.get("server") or ("127.0.0.1", 80)
        for name, value in (
            ("x-forwarded-for", str(client[0])),
            ("x-forwarded-proto", str(scope.get("scheme", "http"))),
            ("x-forwarded-port", str(server[1])),
        ):
            if name not in names:
                headers.append((name, value))
        incoming = Incoming(
            method=scope["method"],
            raw_path=path,
            route_path=path,
            query_string=query,
            headers=headers,
            body=body,
            source_ip=str(client[0]),
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            api_id=config.url_id,
            account_id=account if config.auth_type == "AWS_IAM" else "anonymous",
            domain_name=domain,
            stage="$default",
            route_key="$default",
            path_parameters={},
            request_id=request_id,
            now=time.time(),
        )
        event = event_v2(incoming)
        event["pathParameters"] = None
        event["stageVariables"] = None
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        ctx = RequestContext(
            request_id=request_id,
            service="lambda",
            operation="Invoke",
            region=self.provider.arns.region,
            account_id=account,
            endpoint_url=str(self.platform.endpoint_url),
        )
        params: dict[str, Any] = {
            "FunctionName": config.function_name,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(event).encode(),
        }
        if config.qualifier is not None:
            params["Qualifier"] = config.qualifier
        try:
            result = await self.provider.invoke(ctx, params)  # type: ignore[attr-defined]
        except TooManyRequestsError:
            return _message(429, "Rate Exceeded.")
        except ResourceNotFoundError:
            return _message(404, "Not Found")
        except ServiceError as exc:
            log.warning("function URL %s: invoking failed: %s", config.url_id, exc.message)
            return bad_gateway()
        if result.get("FunctionError"):
            return bad_gateway()
        try:
            return response_v2(bytes(result.get("Payload") or b""))
        except BadFunctionResponse as exc:
            log.warning("function URL %s: bad function response: %s", config.url_id, exc)
            return bad_gateway()
