"""The ASGI application: AWS requests on every path, platform endpoints under ``/_lambdamaker/``.

The AWS path is a raw ASGI callable rather than a Starlette route: it is the hot path, and each
layer of routing machinery costs microseconds on every request. Starlette serves the platform's
own endpoints (health now; metrics and the dashboard later), where convenience wins.

Invariants:
- A request body is read once. Operations with a streaming input payload (S3 PutObject,
  UploadPart) are spooled to a file under the data dir while MD5 and SHA-256 are computed, and
  aws-chunked bodies are decoded (and their chunk signatures verified) on the way in.
- Authentication happens before the provider runs; for a signed streaming body the payload hash
  is checked after spooling and before the provider sees the body.
- A spooled body that no provider claimed is deleted when the request ends, including when the
  client disconnects mid-upload: nothing partial is ever committed.
- A provider operation that is a coroutine function is awaited on the event loop; any other runs
  in a worker thread (``gateway.threads``) unless the provider lists it in ``inline_operations``.
- Every exception leaves as the service's AWS error shape; internal failures are logged with a
  traceback server-side and answered with ``InternalFailure`` (500), never a Python traceback.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import itertools
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import anyio.to_thread
from botocore.model import OperationModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambdamaker import __version__
from lambdamaker.errors import (
    InternalFailure,
    ServiceError,
)
from lambdamaker.gateway.checksums import new_hasher
from lambdamaker.gateway.chunked import AwsChunkedDecoder
from lambdamaker.gateway.protocol import ServiceProtocol
from lambdamaker.gateway.protocol.body import Body, StreamPayload
from lambdamaker.gateway.protocol.http import HttpRequest, HttpResponse
from lambdamaker.gateway.protocol.legacy_query import accepts_legacy_query
from lambdamaker.gateway.proxy import FORWARDED_FOR
from lambdamaker.gateway.routing import (
    ServiceRouter,
    speaks_query,
    to_path_style,
    virtual_host_bucket,
)
from lambdamaker.gateway.sigv4 import (
    SigV4Request,
    auth_error,
    check_payload_hash,
    parse_sigv4,
    scope_service,
    verify_sigv4,
)
from lambdamaker.gateway.threads import run_blocking
from lambdamaker.platform import Platform
from lambdamaker.security.credentials import KeyRecord
from lambdamaker.services.apigatewayv2.serving import HttpApiServer
from lambdamaker.services.apigatewayv2.serving import claims as http_api_claims
from lambdamaker.services.base import Operation, Principal, RequestContext
from lambdamaker.services.lambda_.url_serving import FunctionUrlServer
from lambdamaker.services.lambda_.url_serving import claims as function_url_claims
from lambdamaker.services.sns.provider import SnsProvider
from lambdamaker.services.sns.signing import CERT_PATH as SNS_CERT_PATH

log = logging.getLogger("lambdamaker.gateway")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BUFFERED_BODY = 72 * 1024 * 1024
"""Bodies of non-streaming operations are read into memory up to this size. Lambda's
CreateFunction takes up to 69,905,067 bytes (a 50 MB zip, base64-encoded in JSON) and answers
larger ones itself with its own error."""
MAX_STREAMED_BODY = 5 * 1024 * 1024 * 1024
"""S3's single-PUT limit; streaming bodies are spooled to disk up to this size."""
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _request_ids() -> Iterator[str]:
    """Request ids shaped like AWS's (a version-4 UUID's text): 64 random bits per process and
    a counter. Unique without a system call per request, which ``uuid.uuid4()`` makes.

    The counter's low 48 bits are the last group; its next 12 bits (the variant's two and the
    fourth group's ten) change once per 2**48 ids, so that part of the text is built then."""
    prefix = uuid.uuid4().hex[:16]
    head = f"{prefix[:8]}-{prefix[8:12]}-4{prefix[13:16]}-"
    for high in itertools.cycle(range(1 << 12)):
        fixed = f"{head}{8 | (high >> 10) & 3:x}{high & 0x3FF:03x}-"
        for low in range(1 << 48):
            yield f"{fixed}{low:012x}"


next_request_id = _request_ids().__next__


_AWAIT = "await"
"""A coroutine function: awaited on the event loop."""
_INLINE = "inline"
"""Listed in the provider's ``inline_operations``: called on the event loop."""
_THREAD = "thread"
"""Anything else: run on a worker thread (``gateway.threads``)."""


class ClientDisconnected(Exception):
    """The client went away before sending the whole body."""


def service_kind(protocol: str, service: str) -> str:
    """How a service names SigV4 failures: ``s3``, ``query`` or ``json``."""
    if service == "s3":
        return "s3"
    return "query" if protocol == "query" else "json"


class AwsGateway:
    """Route → read body → authenticate → authorize → parse → provider → serialize."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.auth = platform.config.auth
        self.protocols = {name: ServiceProtocol.for_service(name) for name in platform.providers}
        self.router = ServiceRouter(p.service_model for p in self.protocols.values())
        # JSON services that still accept their old query form (SQS): the query flavour.
        self.legacy_protocols = {
            name: ServiceProtocol.for_service(name, "query")
            for name, p in self.protocols.items()
            if accepts_legacy_query(p.service_model)
        }
        self._dispatch: dict[tuple[str, str], tuple[Operation, str]] = {}
        """(service, operation) -> its handler and how it runs (see ``_dispatch_of``)."""
        self._principals: dict[str, tuple[KeyRecord, Principal]] = {}
        """access key id -> (the key record, its principal); see ``_principal``."""

    # -- the ASGI entry point ------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = _http_request(scope)
        request_id = next_request_id()
        protocol: ServiceProtocol | None = None
        operation: OperationModel | None = None
        try:
            protocol, operation, response = await self._handle(request, request_id, scope, receive)
        except ClientDisconnected:
            return
        except ServiceError as exc:
            response = self._error_response(exc, protocol, operation, request, request_id)
        except Exception:
            log.exception("internal failure handling %s %s", request.method, request.path)
            exc_ = InternalFailure("We encountered an internal error. Please try again.")
            response = self._error_response(exc_, protocol, operation, request, request_id)
        finally:
            if isinstance(request.body, Body):
                request.body.discard()
        await _send_response(send, response, head=request.method == "HEAD")

    async def _handle(
        self, request: HttpRequest, request_id: str, scope: Scope, receive: Receive
    ) -> tuple[ServiceProtocol, OperationModel, HttpResponse]:
        signed = request
        sig = parse_sigv4(request) if self.auth else None
        signing_service = sig.service if sig is not None else scope_service(request)
        # A form-encoded query request names its service only in the body (when unsigned).
        body_read = False
        if (
            signing_service is None
            and request.method == "POST"
            and "x-amz-target" not in request.headers
        ):
            request.body = await _read_body(receive, MAX_BUFFERED_BODY)
            body_read = True
        service = self.router.route(request, signing_service)
        if service is None or service not in self.protocols:
            raise ServiceError(
                f"Service {signing_service or service!r} is not enabled on this lambdamaker server.",
                code="NotImplemented",
                status=501,
            )
        protocol = self._protocol_of(service, request)
        vhost_bucket = virtual_host_bucket(request.host) if service == "s3" else None
        if vhost_bucket:
            signed = replace(request)
            to_path_style(request, vhost_bucket)

        streaming = False
        operation: OperationModel | None = None
        if protocol.protocol.startswith("rest"):
            operation = protocol.find_operation(request)
            streaming = protocol.has_streaming_input(operation)

        kind = service_kind(protocol.protocol, service)
        principal: Principal | None = None
        secret: str | None = None
        if sig is not None:
            record = self.platform.credentials.lookup(sig.access_key_id)
            if record is None or not record.active:
                raise auth_error("unknown_key", kind)
            if record.session_token is not None and sig.session_token != record.session_token:
                raise auth_error("invalid_token", kind)
            secret = record.secret_access_key
            principal = self._principal(record)
        elif self.auth:
            raise auth_error("missing", kind)

        # A buffered body is read before the signature check, which covers its hash too; a
        # streamed body's hash is checked while it is spooled (``_spool_body``).
        payload_hash = None
        if not streaming:
            if not body_read:
                request.body = await _read_body(receive, MAX_BUFFERED_BODY)
            if sig is not None and sig.content_sha256 != "UNSIGNED-PAYLOAD":
                body = request.body_bytes()
                payload_hash = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
        if sig is not None:
            assert secret is not None
            verify_sigv4(
                signed,
                sig,
                secret,
                service_kind=kind,
                now=_now(),
                payload_sha256=payload_hash,
                bucket=vhost_bucket,
            )
        if streaming and body_read:
            # Read before the service was known (unsigned POST): small by construction.
            assert isinstance(request.body, bytes)
            request.body = Body.from_bytes(request.body)
        elif streaming:
            decoder = None
            if _is_aws_chunked(request, sig):
                decoder = AwsChunkedDecoder.for_request(request, sig, secret)
            request.body = await _spool_body(receive, self.platform, request, decoder, sig, kind)
        if operation is None:
            operation = protocol.find_operation(request)

        ctx = RequestContext(
            request_id=request_id,
            service=service,
            operation=operation.name,
            region=sig.region if sig is not None else self.platform.config.region,
            account_id=principal.account_id if principal else self.platform.config.account_id,
            principal=principal,
            endpoint_url=_endpoint_url(scope, request),
            headers=request.headers,
        )
        self.authorize(ctx)
        params = protocol.parse(request, operation)
        protocol.validate(operation, params)
        dispatch = self._dispatch.get((service, operation.name))
        if dispatch is None:
            dispatch = self._dispatch_of(service, protocol, operation)
        handler, how = dispatch
        if how is _AWAIT:
            result = await cast(Callable[..., Awaitable[dict[str, Any]]], handler)(ctx, params)
        elif how is _INLINE:
            result = handler(ctx, params)
        else:
            result = await run_blocking(handler, ctx, params)
        return protocol, operation, protocol.serialize(operation, result, request_id)

    def _dispatch_of(
        self, service: str, protocol: ServiceProtocol, operation: OperationModel
    ) -> tuple[Operation, str]:
        """An operation's handler and how it runs (``_AWAIT``, ``_INLINE`` or ``_THREAD``),
        looked up once: providers do not change their methods while serving."""
        provider = self.platform.providers[service]
        handler = provider.operation(operation.name)
        if handler is None:
            raise protocol.not_implemented(operation)
        is_async: bool = inspect.iscoroutinefunction(handler)
        if is_async:
            how = _AWAIT
        elif operation.name in provider.inline_operations:
            how = _INLINE
        else:
            how = _THREAD
        self._dispatch[(service, operation.name)] = (handler, how)
        return handler, how

    def _principal(self, record: KeyRecord) -> Principal:
        """The principal of a key record, built once per record: the credential store hands out
        the same record until the key changes, and a changed key is a new record."""
        cached = self._principals.get(record.access_key_id)
        if cached is not None and cached[0] is record:
            return cached[1]
        principal = Principal(
            arn=record.principal_arn,
            account_id=record.account_id,
            access_key_id=record.access_key_id,
            user_id=record.user_name or record.access_key_id,
            session_token=record.session_token,
        )
        if len(self._principals) > 10_000:
            self._principals.clear()
        self._principals[record.access_key_id] = (record, principal)
        return principal

    def authorize(self, ctx: RequestContext) -> None:
        """The one place IAM policy evaluation will plug in (DESIGN.md, "IAM enforcement").

        It has the principal and the operation at hand; nothing is enforced yet.
        """

    def _error_response(
        self,
        exc: ServiceError,
        protocol: ServiceProtocol | None,
        operation: OperationModel | None,
        request: HttpRequest,
        request_id: str,
    ) -> HttpResponse:
        if protocol is None:
            protocol = self._guess_protocol(request)
        if exc.status >= 500 and not isinstance(exc, InternalFailure):
            log.warning("%s %s -> %s %s", request.method, request.path, exc.code, exc.message)
        try:
            return protocol.serialize_error(exc, operation, request_id)
        except Exception:
            log.exception("could not serialize error %r", exc)
            return HttpResponse(500, {"Content-Type": "text/plain"}, b"InternalFailure")

    def _guess_protocol(self, request: HttpRequest) -> ServiceProtocol:
        try:
            service = self.router.route(request, scope_service(request))
        except Exception:
            service = None
        if service is not None and service in self.protocols:
            return self._protocol_of(service, request)
        return self.protocols.get("s3") or next(iter(self.protocols.values()))

    def _protocol_of(self, service: str, request: HttpRequest) -> ServiceProtocol:
        legacy = self.legacy_protocols.get(service)
        if legacy is not None and speaks_query(request):
            return legacy
        return self.protocols[service]


# -- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _http_request(scope: Scope) -> HttpRequest:
    headers: dict[str, str] = {}
    for k, v in scope["headers"]:
        name = k.decode("latin-1").lower()
        value = v.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    if "?" in path:  # some servers leave the query on raw_path
        path = path.split("?", 1)[0]
    return HttpRequest(
        method=scope["method"],
        path=path,
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"",
        host=headers.get("host", ""),
    )


def _endpoint_url(scope: Scope, request: HttpRequest) -> str:
    host = request.host
    if not host:
        server = scope.get("server") or ("127.0.0.1", 4599)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def _is_aws_chunked(request: HttpRequest, sig: SigV4Request | None) -> bool:
    sha = request.headers.get("x-amz-content-sha256", "")
    if sha.startswith("STREAMING-"):
        return True
    return "aws-chunked" in request.headers.get("content-encoding", "")


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise ServiceError(
                    f"Request body is larger than the {limit} bytes this operation accepts.",
                    code="RequestEntityTooLarge",
                    status=413,
                )
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _named_checksum(request: HttpRequest) -> str | None:
    """The checksum algorithm a plain (not aws-chunked) upload names in its headers."""
    named = request.headers.get("x-amz-sdk-checksum-algorithm")
    if named:
        return named.upper()
    for name in request.headers:
        if name.startswith("x-amz-checksum-") and name != "x-amz-checksum-type":
            return name[len("x-amz-checksum-") :].upper()
    return None


async def _spool_body(
    receive: Receive,
    platform: Platform,
    request: HttpRequest,
    decoder: AwsChunkedDecoder | None,
    sig: SigV4Request | None,
    kind: str,
) -> Body:
    """Stream the request body to a temp file, hashing as we go. Never holds it in memory.

    MD5 (the ETag), the SHA-256 the signature covers, and any checksum the request names are all
    computed in this one pass, so nobody reads the spooled file again to hash it.
    """
    f, path = platform.new_spool_file()
    md5 = hashlib.md5()
    sha = hashlib.sha256()
    algorithm = _named_checksum(request) if decoder is None else None
    extra = new_hasher(algorithm) if algorithm else None
    size = 0
    ok = False
    try:
        with f:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnected
                raw = message.get("body", b"")
                if raw:
                    if decoder is None:
                        sha.update(raw)
                    data = decoder.feed(raw) if decoder is not None else raw
                    if data:
                        size += len(data)
                        if size > MAX_STREAMED_BODY:
                            raise ServiceError(
                                "Your proposed upload exceeds the maximum allowed size",
                                code="EntityTooLarge",
                                status=400,
                                MaxSizeAllowed=str(MAX_STREAMED_BODY),
                            )
                        md5.update(data)
                        if extra is not None:
                            extra.update(data)
                        f.write(data)
                if not message.get("more_body", False):
                    break
            if decoder is not None:
                tail = decoder.finish()
                if tail:
                    size += len(tail)
                    md5.update(tail)
                    f.write(tail)
        if (
            sig is not None
            and decoder is None
            and sig.content_sha256 not in (None, "UNSIGNED-PAYLOAD")
        ):
            check_payload_hash(sig, sha.hexdigest(), kind)
        if decoder is not None:
            checksums = {name.upper(): value for name, value in decoder.checksums.items()}
        elif extra is not None and algorithm is not None:
            checksums = {algorithm: base64.b64encode(extra.digest()).decode("ascii")}
        else:
            checksums = {}
        ok = True
        return Body(path=path, size=size, md5=md5.hexdigest(), checksums=checksums)
    finally:
        if not ok:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


_HEADER_NAMES: dict[str, bytes] = {}
"""Response header names as they go on the wire (lower-case bytes), encoded once per name."""


def _wire_headers(response: HttpResponse) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The response's headers for ASGI, and whether they include a Content-Length."""
    names = _HEADER_NAMES
    headers = []
    has_length = False
    for key, value in response.headers.items():
        name = names.get(key)
        if name is None:
            name = key.lower().encode("latin-1")
            if len(names) < 4096:  # provider-chosen names (x-amz-meta-*) must not pile up
                names[key] = name
        if name == b"content-length":
            has_length = True
        raw = value if type(value) is str else str(value)
        headers.append((name, raw.encode("latin-1")))
    return headers, has_length


async def _send_response(send: Send, response: HttpResponse, *, head: bool) -> None:
    body = response.body
    headers, has_length = _wire_headers(response)
    if isinstance(body, StreamPayload):
        if not has_length:
            headers.append((b"content-length", str(body.length).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        chunks = body.iter_chunks()
        while True:
            chunk = await run_blocking(next, chunks, None)
            if chunk is None:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if not has_length:
        headers.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


# -- the whole application -------------------------------------------------------------------


class GatewayApp:
    """The ASGI app uvicorn serves: lifespan, platform endpoints, and the AWS gateway."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.started_at = time.time()
        self.aws = AwsGateway(platform)
        # HTTP APIs (API Gateway v2) are served ahead of AWS-protocol routing.
        apis = getattr(platform.providers.get("apigatewayv2"), "server", None)
        self.http_apis = apis if isinstance(apis, HttpApiServer) else None
        # Lambda function URLs likewise (``/_urls/<url-id>``, ``<url-id>.lambda-url.*``).
        urls = getattr(platform.providers.get("lambda"), "url_server", None)
        self.function_urls = urls if isinstance(urls, FunctionUrlServer) else None
        self.before_close: list[Callable[[], None]] = []
        """Run (in a thread) at shutdown before the platform closes: the data-plane workers
        stop first, while the services they forward to are still up."""
        self.platform_api = Starlette(
            routes=[
                Route("/_lambdamaker/health", self.health),
                Route(SNS_CERT_PATH, self.sns_certificate),
            ]
        )

    async def sns_certificate(self, request: Request) -> Response:
        """SNS's ``SigningCertURL``: the certificate that verifies delivered messages."""
        sns = self.platform.providers.get("sns")
        pem = sns.certificate_pem() if isinstance(sns, SnsProvider) else None
        if pem is None:
            return Response(status_code=404)
        return Response(pem, media_type="application/x-pem-file")

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ready",
                "version": __version__,
                "services": sorted(self.platform.providers),
                "uptime_seconds": round(time.time() - self.started_at, 3),
            }
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope.get("client") is None:
                _forwarded_client(scope)
            if scope["path"].startswith("/_lambdamaker/"):
                await self.platform_api(scope, receive, send)
            elif self.http_apis is not None and http_api_claims(scope):
                await self.http_apis(scope, receive, send)
            elif self.function_urls is not None and function_url_claims(scope):
                await self.function_urls(scope, receive, send)
            else:
                await self.aws(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await serve_lifespan(receive, send, shutdown=[*self.before_close, self.platform.close])


async def serve_lifespan(
    receive: Receive,
    send: Send,
    *,
    started: Callable[[], None] | None = None,
    shutdown: list[Callable[[], None]],
) -> None:
    """ASGI lifespan: ``started`` once startup is acknowledged; at shutdown each of
    ``shutdown`` in order, in a worker thread (they block: closing stores, stopping processes)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
            if started is not None:
                started()
        elif message["type"] == "lifespan.shutdown":
            for hook in shutdown:
                await anyio.to_thread.run_sync(hook)
            await send({"type": "lifespan.shutdown.complete"})
            return


def _forwarded_client(scope: Scope) -> None:
    """A request a data-plane worker forwarded arrives on the Unix socket, which has no client
    address; the worker names its client in a header (trusted only here: TCP connections
    always have an address, so a client cannot set it)."""
    for name, value in scope["headers"]:
        if name == FORWARDED_FOR:
            host, _, port = value.decode("latin-1").rpartition(":")
            scope["client"] = (host, int(port) if port.isdigit() else 0)
            return


def create_app(platform: Platform) -> GatewayApp:
    """The ASGI app for a started platform."""
    return GatewayApp(platform)
