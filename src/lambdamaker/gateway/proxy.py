"""Passing an HTTP request on to the primary process, as a data-plane worker does.

A worker (``lambdamaker.workers``) serves what it can itself and forwards everything else, as
it arrived, to the primary's Unix socket over HTTP/1.1 keep-alive connections. The primary
verifies the signature again: the method, path, query and headers (``Host`` included) pass
through unchanged, so a signed request stays valid.

Invariants:
- Bodies stream both ways: the request body is written as ASGI delivers it (with its original
  ``Content-Length``, or chunked), the response body is sent on as it is read. Nothing is
  buffered whole, so S3 objects of any size and long polls pass through.
- Hop-by-hop headers (``Connection``, ``Transfer-Encoding``, ``Expect``...) are not forwarded;
  the client's address goes in ``x-lambdamaker-forwarded-for``, which the primary honours only
  on its Unix socket.
- A connection goes back to the pool only after a complete response that allows keep-alive. If
  the client disconnects, its upstream connection is closed, so the primary sees the disconnect
  (an unfinished upload is discarded there, never committed).
- If the primary cannot be reached the client gets a 503 ``ServiceUnavailable``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

log = logging.getLogger("lambdamaker.gateway.proxy")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

FORWARDED_FOR = b"x-lambdamaker-forwarded-for"
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
        b"expect",
        FORWARDED_FOR,
    }
)
_NO_BODY_STATUS = frozenset({204, 304})
_CHUNK = 64 * 1024
MAX_IDLE = 64
MAX_IDLE_S = 2.0


class UpstreamClosed(Exception):
    """The primary closed the connection before a whole response arrived."""


class Upstream:
    """One HTTP/1.1 connection to the primary."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class UpstreamPool:
    """Idle keep-alive connections to the primary's Unix socket.

    A connection idle for longer than ``MAX_IDLE_S`` is not reused: the primary's server closes
    idle connections after a few seconds, and a request with a body sent on a connection that
    is being closed could not be retried.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._idle: list[tuple[Upstream, float]] = []

    async def fresh(self) -> Upstream:
        # Connected here rather than by address: uvloop rejects Linux's abstract socket names.
        # A Unix-socket connect does not wait on the network; it returns at once (or fails when
        # the primary's backlog is full).
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.address)
        except OSError:
            sock.close()
            raise
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=_CHUNK * 4)
        return Upstream(reader, writer)

    async def acquire(self) -> tuple[Upstream, bool]:
        """A connection, and whether it was reused (a reused one may have been closed by the
        primary meanwhile: the caller retries a bodiless request once on a fresh one)."""
        now = time.monotonic()
        while self._idle:
            up, since = self._idle.pop()
            if now - since < MAX_IDLE_S and not up.reader.at_eof() and not up.writer.is_closing():
                return up, True
            up.close()
        return await self.fresh(), False

    def release(self, up: Upstream) -> None:
        if len(self._idle) < MAX_IDLE:
            self._idle.append((up, time.monotonic()))
        else:
            up.close()

    def close(self) -> None:
        for up, _ in self._idle:
            up.close()
        self._idle.clear()


def _request_head(scope: Scope) -> tuple[bytes, str]:
    """The request line and headers as the primary receives them, and how the body is framed
    (``length``, ``chunked`` or ``none``)."""
    path = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string") or b""
    target = path + b"?" + query if query else path
    lines = [scope["method"].encode("ascii") + b" " + target + b" HTTP/1.1"]
    framing = "none"
    for name, value in scope["headers"]:
        lname = name.lower()
        if lname == b"transfer-encoding" and b"chunked" in value.lower():
            framing = "chunked"
        if lname in _HOP_BY_HOP:
            continue
        if lname == b"content-length":
            framing = "length"
        lines.append(name + b": " + value)
    if framing == "chunked":
        lines.append(b"transfer-encoding: chunked")
    client = scope.get("client")
    if client:
        lines.append(FORWARDED_FOR + b": " + f"{client[0]}:{client[1]}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n", framing


async def _send_body(up: Upstream, receive: Receive, framing: str) -> bool:
    """Stream the client's body upstream; False when the client went away."""
    writer = up.writer
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        chunk = message.get("body", b"")
        if chunk:
            if framing == "chunked":
                writer.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            else:
                writer.write(chunk)
            await writer.drain()
        if not message.get("more_body", False):
            break
    if framing == "chunked":
        writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


async def _read_head(up: Upstream) -> tuple[int, list[tuple[bytes, bytes]]]:
    try:
        raw = await up.reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise UpstreamClosed from exc
    lines = raw[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    return status, headers


async def _relay_body(
    up: Upstream, send: Send, headers: list[tuple[bytes, bytes]], no_body: bool
) -> bool:
    """Send the response body on; whether the connection can be reused."""
    reader = up.reader
    length: int | None = None
    chunked = False
    keep_alive = True
    for name, value in headers:
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.lower() == b"close":
            keep_alive = False
    if no_body:
        await send({"type": "http.response.body", "body": b""})
        return keep_alive
    if chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            data = await reader.readexactly(size + 2)
            await send({"type": "http.response.body", "body": data[:-2], "more_body": True})
    elif length is not None:
        left = length
        while left > 0:
            data = await reader.read(min(left, _CHUNK))
            if not data:
                raise UpstreamClosed
            left -= len(data)
            await send({"type": "http.response.body", "body": data, "more_body": True})
    else:  # delimited by the end of the connection
        while data := await reader.read(_CHUNK):
            await send({"type": "http.response.body", "body": data, "more_body": True})
        keep_alive = False
    await send({"type": "http.response.body", "body": b""})
    return keep_alive


async def forward(pool: UpstreamPool, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one ASGI HTTP request by passing it to the primary."""
    head, framing = _request_head(scope)
    try:
        up, reused = await pool.acquire()
    except OSError:
        log.warning("the primary process is not reachable at its socket")
        await _unavailable(send)
        return
    started = False
    try:
        up.writer.write(head)
        if framing == "none":
            await up.writer.drain()
        else:
            try:
                if not await _send_body(up, receive, framing):
                    up.close()
                    return
            except OSError:
                # The primary answered before reading the whole body (a body over its limit)
                # and closed its side: its answer may still be there to read.
                pass
        try:
            status, headers = await _read_head(up)
        except UpstreamClosed:
            if not reused or framing != "none":
                raise
            # The primary dropped an idle connection just as we reused it: once more, fresh.
            up.close()
            up = await pool.fresh()
            up.writer.write(head)
            await up.writer.drain()
            status, headers = await _read_head(up)
        out = [(n, v) for n, v in headers if n not in _HOP_BY_HOP and n != b"date"]
        await send({"type": "http.response.start", "status": status, "headers": out})
        started = True
        no_body = scope["method"] == "HEAD" or status in _NO_BODY_STATUS or status < 200
        if await _relay_body(up, send, headers, no_body):
            pool.release(up)
        else:
            up.close()
    except (OSError, UpstreamClosed, asyncio.IncompleteReadError, ValueError):
        up.close()
        if not started:
            log.warning("the primary process closed a forwarded request", exc_info=True)
            await _unavailable(send)
    except BaseException:
        up.close()
        raise


async def _unavailable(send: Send) -> None:
    body = b'{"__type":"ServiceUnavailable","message":"The service is unavailable; try again."}'
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/x-amz-json-1.0"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
