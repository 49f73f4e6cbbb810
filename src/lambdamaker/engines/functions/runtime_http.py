"""The small HTTP/1.1 subset the Lambda Runtime API needs, over a blocking socket.

A bootstrap talks to its Runtime API with whatever HTTP client its language has: libcurl inside
``awslambdaric`` (keep-alive, ``Content-Length``), the ``curl`` binary in a shell bootstrap (a new
connection per call; ``Expect: 100-continue`` on large bodies), Go's ``net/http``, Rust's hyper
(chunked bodies). So the reader accepts ``Content-Length`` and chunked bodies, answers
``Expect: 100-continue``, keeps connections alive unless asked not to, and pipelines.

Bodies are kept up to ``keep`` bytes and the rest is read and dropped: a runtime that posts a
1 GB response gets its 413 on a still-usable connection, and the server never holds more than
``keep`` bytes for it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

MAX_HEAD_BYTES = 64 * 1024
_RECV = 256 * 1024

_REASONS = {
    100: "Continue",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


class BadRequestError(Exception):
    """The bytes on the connection are not HTTP/1.1 we can answer; the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    """At most ``keep`` bytes of the body."""
    body_size: int
    """The full size of the body as sent, kept or not."""
    keep_alive: bool


class Connection:
    """One accepted socket: reads requests, writes responses. Used by one thread at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()

    def read_request(self, keep: int) -> Request | None:
        """The next request, or None when the peer closed cleanly between requests."""
        end = self._buf.find(b"\r\n\r\n")
        while end < 0:
            if len(self._buf) > MAX_HEAD_BYTES:
                raise BadRequestError(431, "request head too large")
            chunk = self.sock.recv(_RECV)
            if not chunk:
                if self._buf.strip():
                    raise BadRequestError(400, "connection closed inside a request head")
                return None
            self._buf += chunk
            end = self._buf.find(b"\r\n\r\n", max(0, len(self._buf) - len(chunk) - 3))
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        lines = head.lstrip("\r\n").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequestError(400, f"malformed request line {lines[0]!r}")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequestError(400, f"malformed header line {line!r}")
            headers[name.lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
        if headers.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        encoding = headers.get("transfer-encoding", "").lower()
        if encoding and encoding != "identity":
            if encoding != "chunked":
                raise BadRequestError(400, f"unsupported Transfer-Encoding {encoding!r}")
            body, size = self._read_chunked(keep)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise BadRequestError(400, "invalid Content-Length") from None
            if length < 0:
                raise BadRequestError(400, "invalid Content-Length")
            body, size = self._read_exact(length, keep), length
        else:
            body, size = b"", 0
        return Request(method, target.split("?", 1)[0], headers, body, size, keep_alive)

    def respond(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str | None = "application/json",
        headers: list[tuple[str, str]] | None = None,
        close: bool = False,
    ) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        for name, value in headers or ():
            lines.append(f"{name}: {value}")
        if content_type is not None:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if len(body) <= _RECV:
            # One write, so head and body leave in one segment (TCP_NODELAY is on).
            self.sock.sendall(head + body)
        else:
            self.sock.sendall(head)
            self.sock.sendall(body)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # -- bodies -----------------------------------------------------------------------------------

    def _read_exact(self, length: int, keep: int) -> bytes:
        kept = bytearray(self._buf[: min(length, keep)])
        taken = min(length, len(self._buf))
        del self._buf[:taken]
        remaining = length - taken
        if remaining and len(kept) < keep:
            # Straight into a preallocated buffer: a 6 MB response is not copied chunk by chunk.
            want = min(remaining, keep - len(kept))
            start = len(kept)
            kept.extend(bytes(want))
            view = memoryview(kept)
            got = 0
            while got < want:
                n = self.sock.recv_into(view[start + got :], want - got)
                if not n:
                    raise BadRequestError(400, "connection closed inside a request body")
                got += n
            view.release()
            remaining -= want
        while remaining:
            chunk = self.sock.recv(min(remaining, _RECV))
            if not chunk:
                raise BadRequestError(400, "connection closed inside a request body")
            remaining -= len(chunk)
        return bytes(kept)

    def _read_line(self) -> bytes:
        end = self._buf.find(b"\r\n")
        while end < 0:
            if len(self._buf) > MAX_HEAD_BYTES:
                raise BadRequestError(400, "chunk header too long")
            chunk = self.sock.recv(_RECV)
            if not chunk:
                raise BadRequestError(400, "connection closed inside a chunked body")
            self._buf += chunk
            end = self._buf.find(b"\r\n")
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line

    def _read_chunked(self, keep: int) -> tuple[bytes, int]:
        parts: list[bytes] = []
        kept = size = 0
        while True:
            line = self._read_line().split(b";", 1)[0].strip()
            try:
                chunk_size = int(line, 16)
            except ValueError:
                raise BadRequestError(400, f"invalid chunk size {line!r}") from None
            if chunk_size == 0:
                break
            data = self._read_exact(chunk_size, max(0, keep - kept))
            parts.append(data)
            kept += len(data)
            size += chunk_size
            if self._read_line():
                raise BadRequestError(400, "chunk not followed by CRLF")
        while self._read_line():  # trailers, ignored
            pass
        return b"".join(parts), size
