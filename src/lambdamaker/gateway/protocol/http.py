"""The protocol layer's view of HTTP: plain data, independent of the ASGI server."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from lambdamaker.gateway.protocol.body import Body, StreamPayload


@dataclass
class HttpRequest:
    method: str
    path: str
    """The raw path, still percent-encoded (``/bucket/a%20key``), without the query string."""
    query_string: str = ""
    """The raw query string, still percent-encoded, without the leading ``?``."""
    headers: dict[str, str] = field(default_factory=dict)
    """Header names lower-cased; repeated headers joined with ``,`` as RFC 9110 allows."""
    body: bytes | Body = b""
    host: str = ""

    def query_params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    def body_bytes(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else self.body.read()


@dataclass
class HttpResponse:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | StreamPayload = b""
