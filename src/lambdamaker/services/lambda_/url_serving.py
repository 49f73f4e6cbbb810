"""Serving Lambda function URLs: a request under ``/_urls/<url-id>/...`` (or to Host
``<url-id>.lambda-url.<region>.localhost[:port]``) invokes the function or alias the URL
belongs to with AWS's payload format 2.0 event, and its answer becomes the HTTP response.

The gateway hands such requests to ``FunctionUrlServer`` (an ASGI callable) ahead of
AWS-protocol routing (``claims`` is the cheap test it uses).

Invariants:
- The url-id → config map is cached in memory and dropped whole on every config write, when it
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

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
import sqlalchemy as sa

from lambdamaker.errors import ResourceNotFoundError, ServiceError, TooManyRequestsError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import parse_sigv4, verify_sigv4
from lambdamaker.services.apigatewayv2.payloads import (
    BadFunctionResponse,
    Incoming,
    Outgoing,
    event_v2,
    response_v2,
)
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.function_url_tables import function_urls

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.function_urls import FunctionUrlOperations

log = logging.getLogger("lambdamaker.lambda")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PATH_PREFIX = "/_urls/"
HOST_MARKER = b".lambda-url."
MAX_BODY = 6 * 1024 * 1024
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class UrlConfig:
    url_id: str
    function_name: str
    qualifier: str | None  # an alias, or None for the unqualified function
    auth_type: str
    cors: dict[str, Any] | None


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


class FunctionUrlServer:
    def __init__(self, provider: FunctionUrlOperations) -> None:
        self.provider = provider
        self.platform = provider.platform
        self._cache: dict[str, UrlConfig] = {}
        # Bumped by every invalidation: a load that raced a write is not cached.
        self._generation = 0

    def invalidate(self) -> None:
        self._generation += 1
        self._cache = {}

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
            cors=orjson.loads(row.cors) if row.cors else None,
        )

    async def config(self, url_id: str) -> UrlConfig | None:
        cached = self._cache.get(url_id)
        if cached is not None:
            return cached
        generation = self._generation
        loaded = await anyio.to_thread.run_sync(self._load, url_id)
        if loaded is not None and generation == self._generation:
            self._cache[url_id] = loaded
        return loaded

    # --- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        try:
            out = await self._serve(scope, receive, request_id)
        except _Disconnected:
            return
        except Exception:
            log.exception("function URL request %s %s failed", scope["method"], scope["path"])
            out = bad_gateway()
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.headers]
        headers.append((b"x-amzn-requestid", request_id.encode()))
        headers.append((b"content-length", str(len(out.body)).encode()))
        await send({"type": "http.response.start", "status": out.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else out.body
        await send({"type": "http.response.body", "body": body})

    async def _serve(self, scope: Scope, receive: Receive, request_id: str) -> Outgoing:
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
        body = await _read_body(receive)
        config = await self.config(url_id)
        if config is None:
            return _message(404, "Not Found")
        if body is None:
            return _message(413, "Request must be smaller than 6291456 bytes")
        joined: dict[str, str] = {}
        for name, value in headers:
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        origin = joined.get("origin")
        if (
            config.cors is not None
            and scope["method"] == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in joined
        ):
            return Outgoing(200, _preflight_headers(config.cors, origin, joined), b"")
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
        if config.cors is not None and origin is not None:
            _add_cors(out, config.cors, origin)
        return out

    def _authenticate(self, request: HttpRequest) -> dict[str, Any] | None:
        """The ``authorizer.iam`` of a validly signed request; raises ``ServiceError``."""
        sig = parse_sigv4(request, "json")
        if sig is None:
            if not self.platform.config.auth:
                return None
            raise ServiceError("missing signature", code="Forbidden", status=403)
        if sig.service != "lambda":
            raise ServiceError("signed for another service", code="Forbidden", status=403)
        record = self.platform.credentials.lookup(sig.access_key_id)
        if record is None or not record.active:
            raise ServiceError("unknown access key", code="Forbidden", status=403)
        if record.session_token is not None and sig.session_token != record.session_token:
            raise ServiceError("bad session token", code="Forbidden", status=403)
        payload_hash = None
        if sig.content_sha256 != "UNSIGNED-PAYLOAD":
            body = request.body_bytes()
            payload_hash = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
        verify_sigv4(
            request,
            sig,
            record.secret_access_key,
            service_kind="json",
            now=datetime.now(UTC),
            payload_sha256=payload_hash,
        )
        user_id = record.user_name or record.access_key_id
        return {
            "iam": {
                "accessKey": record.access_key_id,
                "accountId": record.account_id,
                "callerId": user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": record.principal_arn,
                "userId": user_id,
            }
        }

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


def _origin_allowed(cors: dict[str, Any], origin: str) -> str | None:
    """The Access-Control-Allow-Origin value for ``origin``, or None when it is not allowed."""
    allowed = cors.get("AllowOrigins") or []
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def _preflight_headers(
    cors: dict[str, Any], origin: str, headers: dict[str, str]
) -> list[tuple[str, str]]:
    allow = _origin_allowed(cors, origin)
    if allow is None:
        return []
    out = [("access-control-allow-origin", allow)]
    methods = cors.get("AllowMethods") or []
    if methods:
        out.append(("access-control-allow-methods", ",".join(methods)))
    allow_headers = cors.get("AllowHeaders") or []
    if allow_headers:
        out.append(("access-control-allow-headers", ",".join(allow_headers)))
    if cors.get("AllowCredentials"):
        out.append(("access-control-allow-credentials", "true"))
    if cors.get("MaxAge") is not None:
        out.append(("access-control-max-age", str(cors["MaxAge"])))
    if allow != "*":
        out.append(("vary", "Origin"))
    return out


def _add_cors(out: Outgoing, cors: dict[str, Any], origin: str) -> None:
    allow = _origin_allowed(cors, origin)
    if allow is None:
        return
    out.headers = [(k, v) for k, v in out.headers if not k.lower().startswith("access-control-")]
    out.headers.append(("access-control-allow-origin", allow))
    if cors.get("AllowCredentials"):
        out.headers.append(("access-control-allow-credentials", "true"))
    expose = cors.get("ExposeHeaders") or []
    if expose:
        out.headers.append(("access-control-expose-headers", ",".join(expose)))
    if allow != "*":
        out.headers.append(("vary", "Origin"))


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
