"""What the HTTP front doors to Lambda share (HTTP APIs here, Lambda function URLs in
``services/lambda_/url_serving``): the ASGI plumbing, a config cache that never serves a stale
configuration, the request body reader, and SigV4 authentication of callers.

Invariants:
- ``ConfigCache``: ``invalidate`` bumps a generation and drops entries; a load that overlapped
  an invalidation is not kept, so a request never sees a configuration older than the last
  completed write (one platform process). Unknown keys are not cached (no growth from probes).
- ``ProxyServer.__call__`` answers every request exactly once: a client gone mid-body gets
  nothing, an unexpected error becomes the server's ``failure()`` answer (logged), and every
  answer carries the request id header and a Content-Length. HEAD answers carry no body.
- ``read_body`` returns None (not a partial body) when the body is over the limit.
- ``sigv4_identity`` accepts only a valid signature for the given service by a known, active
  key (with its session token); it returns the caller's ``authorizer.iam`` context.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio.to_thread

from lambdamaker.errors import AuthError, ServiceError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import parse_sigv4, verify_sigv4
from lambdamaker.services.apigatewayv2.payloads import Outgoing

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

C = TypeVar("C")

log = logging.getLogger("lambdamaker.proxy")


class Disconnected(Exception):
    """The client went away before its request was read."""


class ConfigCache(Generic[C]):
    def __init__(self, load: Callable[[str], C | None]) -> None:
        self._load = load
        self._entries: dict[str, C] = {}
        self._generation = 0

    def invalidate(self, key: str | None = None) -> None:
        """Drop ``key`` (or everything); loads in flight are not kept."""
        self._generation += 1
        if key is None:
            self._entries = {}
        else:
            self._entries.pop(key, None)

    async def get(self, key: str) -> C | None:
        cached = self._entries.get(key)
        if cached is not None:
            return cached
        generation = self._generation
        loaded = await anyio.to_thread.run_sync(self._load, key)
        if loaded is not None and generation == self._generation:
            self._entries[key] = loaded
        return loaded


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None when it is over ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    too_big = False
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_big = True
        elif chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return None if too_big else b"".join(chunks)


def joined_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names to values, repeated headers joined with commas."""
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def sigv4_identity(platform: Platform, request: HttpRequest, service: str) -> dict[str, Any] | None:
    """The ``authorizer.iam`` context of a request validly signed for ``service``, else None."""
    try:
        sig = parse_sigv4(request, "json")
        if sig is None or sig.service != service:
            return None
        record = platform.credentials.lookup(sig.access_key_id)
        if record is None or not record.active:
            return None
        if record.session_token is not None and sig.session_token != record.session_token:
            return None
        payload_hash = None
        if sig.content_sha256 != "UNSIGNED-PAYLOAD":
            payload_hash = hashlib.sha256(request.body_bytes()).hexdigest()
        verify_sigv4(
            request,
            sig,
            record.secret_access_key,
            service_kind="json",
            now=datetime.now(UTC),
            payload_sha256=payload_hash,
        )
    except (AuthError, ServiceError):
        return None
    user_id = record.user_name or record.access_key_id
    return {
        "accessKey": record.access_key_id,
        "accountId": record.account_id,
        "callerId": user_id,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": record.principal_arn,
        "userId": user_id,
    }


class ProxyServer:
    """An ASGI app answering with an ``Outgoing`` built by ``serve``."""

    request_id_header = b"x-amzn-requestid"
    label = "proxied"

    async def serve(self, scope: Scope, receive: Receive, request_id: str) -> Outgoing:
        raise NotImplementedError

    def failure(self) -> Outgoing:
        """The answer to a request whose handling raised unexpectedly."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        try:
            out = await self.serve(scope, receive, request_id)
        except Disconnected:
            return
        except Exception:
            log.exception("%s request %s %s failed", self.label, scope["method"], scope["path"])
            out = self.failure()
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.headers]
        headers.append((self.request_id_header, request_id.encode()))
        headers.append((b"content-length", str(len(out.body)).encode()))
        await send({"type": "http.response.start", "status": out.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else out.body
        await send({"type": "http.response.body", "body": body})
