"""S3's legacy Signature Version 2 (HMAC-SHA1), the form boto3's presigned URLs take by default.

``boto3.client("s3").generate_presigned_url(...)`` without ``signature_version="s3v4"`` signs
with SigV2 query-string authentication (``AWSAccessKeyId``, ``Signature``, ``Expires``), and
clients configured with ``signature_version="s3"`` send ``Authorization: AWS AKID:signature``.
S3 still accepts both, so we do too; no other service is signed this way here.

The string to sign (S3 developer guide, "Signing and authenticating REST requests")::

    METHOD\\n Content-MD5\\n Content-Type\\n Date (or Expires)\\n
    x-amz-* headers, sorted, "name:value\\n" each
    /bucket/key[?sub-resources of interest, sorted]

Invariants:

- The resource is always the path-style ``/bucket/key``, even for a virtual-hosted request, as
  botocore's ``HmacV1Auth`` signs it; its sub-resource list is botocore's own
  (``HmacV1Auth.QSAOfInterest``) so we sign exactly what the client signed.
- A presigned URL carries its ``x-amz-*``, ``Content-Type`` and ``Content-MD5`` in the query
  (botocore moves them there); headers actually sent take precedence, so a client that sends a
  different ``Content-Type`` than it signed is refused, as S3 refuses it.
- The SigV2 claim travels in the same ``SigV4Request`` as SigV4's (``version == 2``): for a
  header-signed request ``date`` is its ``Date``/``x-amz-date``; for a presigned URL ``date``
  is the expiry moment and ``expires`` is 0.
"""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote

from botocore.auth import HmacV1Auth

from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4_errors import auth_error

if TYPE_CHECKING:
    from lambdamaker.gateway.sigv4 import SigV4Request

__all__ = ["is_sigv2", "parse_sigv2", "string_to_sign_v2", "verify_sigv2"]

_RESOURCE = HmacV1Auth(None)  # only its canonical_resource (sub-resources of interest) is used


def is_sigv2(request: HttpRequest) -> bool:
    """Cheap: does the request claim S3 SigV2 (header or presigned query)?"""
    auth = request.headers.get("authorization")
    if auth is not None:
        return auth.startswith("AWS ")
    qs = request.query_string
    return "Signature=" in qs and "AWSAccessKeyId=" in qs and "SignatureVersion=" not in qs


def parse_sigv2(request: HttpRequest) -> SigV4Request:
    from lambdamaker.gateway.sigv4 import SigV4Request, parse_http_date

    headers = request.headers
    auth = headers.get("authorization")
    if auth is not None:
        access_key, colon, signature = auth[4:].strip().rpartition(":")
        if not colon or not access_key or not signature:
            raise auth_error(
                "malformed",
                "s3",
                "The authorization header is malformed; expecting AWS <AccessKeyId>:<Signature>.",
            )
        raw_date = headers.get("x-amz-date") or headers.get("date")
        date = parse_http_date(raw_date) if raw_date else None
        if date is None:
            raise auth_error("missing_date", "s3")
        return SigV4Request(
            access_key_id=access_key,
            date=date,
            region="us-east-1",
            service="s3",
            signed_headers=[],
            signature=signature,
            presigned=False,
            expires=None,
            session_token=headers.get("x-amz-security-token"),
            content_sha256=headers.get("x-amz-content-sha256"),
            version=2,
        )
    params = _query_params(request.query_string)
    missing = [n for n in ("AWSAccessKeyId", "Signature", "Expires") if not params.get(n)]
    if missing:
        raise auth_error(
            "malformed_query",
            "s3",
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
            "parameters",
        )
    expires = params["Expires"]
    if not expires.isdigit():
        raise auth_error("malformed_query", "s3", f"Invalid Expires parameter: {expires!r}")
    return SigV4Request(
        access_key_id=params["AWSAccessKeyId"],
        date=datetime.fromtimestamp(int(expires), UTC),
        region="us-east-1",
        service="s3",
        signed_headers=[],
        signature=params["Signature"],
        presigned=True,
        expires=0,
        session_token=params.get("x-amz-security-token") or headers.get("x-amz-security-token"),
        content_sha256=headers.get("x-amz-content-sha256"),
        version=2,
    )


def string_to_sign_v2(request: HttpRequest, sig: SigV4Request, bucket: str | None = None) -> str:
    """What the client signed. ``bucket``: the bucket of a virtual-hosted request."""
    headers = request.headers
    params = _query_params(request.query_string) if sig.presigned else {}

    def header(name: str) -> str:
        value = headers.get(name)
        if value is None:
            value = params.get(name, "")
        return value.strip()

    amz = {k: v for k, v in params.items() if k.startswith("x-amz-")}
    for name, value in headers.items():
        if name.startswith("x-amz-"):
            amz[name] = ",".join(part.strip() for part in value.split(","))
    date = params["Expires"] if sig.presigned else headers.get("date", "").strip()
    lines = [request.method.upper(), header("content-md5"), header("content-type"), date]
    lines.extend(f"{name}:{amz[name]}" for name in sorted(amz))
    path = request.path or "/"
    split = SplitResult("http", request.host, path, request.query_string, "")
    resource = _RESOURCE.canonical_resource(split, auth_path=f"/{bucket}{path}" if bucket else None)
    lines.append(resource)
    return "\n".join(lines)


def verify_sigv2(
    request: HttpRequest,
    sig: SigV4Request,
    secret_key: str,
    *,
    now: datetime,
    max_skew: int,
    bucket: str | None = None,
) -> None:
    if sig.presigned:
        if now > sig.date:
            raise auth_error(
                "expired",
                "s3",
                Expires=sig.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                ServerTime=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
    elif abs(now - sig.date) > timedelta(seconds=max_skew):
        raise auth_error(
            "skew",
            "s3",
            RequestTime=request.headers.get("x-amz-date") or request.headers.get("date", ""),
            ServerTime=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            MaxAllowedSkewMilliseconds=str(max_skew * 1000),
        )
    to_sign = string_to_sign_v2(request, sig, bucket)
    digest = hmac.digest(secret_key.encode(), to_sign.encode("utf-8", "surrogateescape"), "sha1")
    expected = base64.b64encode(digest).decode()
    provided = sig.signature
    if not (provided.isascii() and hmac.compare_digest(expected, provided)):
        raise auth_error(
            "signature_mismatch",
            "s3",
            AWSAccessKeyId=sig.access_key_id,
            StringToSign=to_sign,
            SignatureProvided=provided,
            StringToSignBytes=to_sign.encode().hex(" "),
        )


def _query_params(query_string: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if name in ("AWSAccessKeyId", "Signature", "Expires"):
            params[name] = unquote(value)
        else:
            lower = unquote(name).lower()
            if lower.startswith("x-amz-") or lower in ("content-type", "content-md5"):
                params[lower] = unquote(value)
    return params
