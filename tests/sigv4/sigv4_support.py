"""Helpers for the SigV4 tests: sign with botocore's real signers, turn the result into our
``HttpRequest``, and build aws-chunked bodies."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.config import Config

from lambdamaker.gateway.chunked import chunk_signature, trailer_signature
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import SigV4Request, parse_sigv4, signing_key

ACCESS_KEY = "AKIDLAMBDAMAKERTEST"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
ENDPOINT = "http://localhost:4599"


class Captured(Exception):
    """Raised from botocore's ``before-send`` hook to stop a client right before the wire."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def make_client(
    service: str,
    *,
    endpoint: str = ENDPOINT,
    token: str | None = None,
    **config: Any,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def _stop(request: AWSPreparedRequest, **_: Any) -> None:
    raise Captured(request)


def capture(client: Any, operation: str, **params: Any) -> HttpRequest:
    """What ``client.<operation>(**params)`` would put on the wire, as the gateway sees it."""
    with stopped_before_send(client):
        try:
            getattr(client, operation)(**params)
        except Captured as captured:
            return to_http(captured.request)
    raise AssertionError("the client sent nothing")


@contextmanager
def stopped_before_send(client: Any) -> Iterator[None]:
    client.meta.events.register_first("before-send", _stop, unique_id="sigv4-test-capture")
    try:
        yield
    finally:
        client.meta.events.unregister("before-send", unique_id="sigv4-test-capture")


def to_http(request: AWSRequest | AWSPreparedRequest) -> HttpRequest:
    """A botocore request as our gateway would receive it (raw path, raw query, lower names)."""
    prepared = request.prepare() if isinstance(request, AWSRequest) else request
    parts = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        key = name.lower()
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    host = parts.netloc
    headers.setdefault("host", host)
    body = prepared.body
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body.read()
    return HttpRequest(
        method=prepared.method,
        path=parts.path or "/",
        query_string=parts.query,
        headers=headers,
        body=data,
        host=headers["host"],
    )


def parsed(request: HttpRequest, service_kind: str | None = None) -> SigV4Request:
    sig = parse_sigv4(request, service_kind)
    assert sig is not None
    return sig


def moments(sig: SigV4Request, seconds: float) -> datetime:
    return sig.date + timedelta(seconds=seconds)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_chunked_body(
    chunks: list[bytes],
    *,
    secret: str,
    sig: SigV4Request,
    trailers: list[tuple[str, str]] | None = None,
) -> bytes:
    """An aws-chunked body signed chunk by chunk (and its trailers, if any), per the S3 docs."""
    key = signing_key(secret, sig.scope_date, sig.region, sig.service)
    previous = sig.signature
    out = []
    for chunk in [*chunks, b""]:
        signature = chunk_signature(key, sig.timestamp, sig.scope, previous, sha256_hex(chunk))
        out.append(f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + chunk)
        if chunk:
            out.append(b"\r\n")
        previous = signature
    if trailers is None:
        out.append(b"\r\n")
        return b"".join(out)
    canonical = b"".join(f"{name}:{value}\n".encode() for name, value in trailers)
    signature = trailer_signature(key, sig.timestamp, sig.scope, previous, canonical)
    out.extend(f"{name}:{value}\r\n".encode() for name, value in trailers)
    out.append(f"x-amz-trailer-signature:{signature}\r\n\r\n".encode())
    return b"".join(out)
