"""AWS Signature Version 4: parse what a request claims, recompute it, and compare.

A request is signed in one of two places:

- the ``Authorization`` header (``AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/s3/
  aws4_request, SignedHeaders=host;x-amz-date, Signature=...``), dated by ``x-amz-date`` (or
  ``Date``), with ``x-amz-security-token`` for temporary credentials;
- the query string of a presigned URL (``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
  ``X-Amz-Expires``, ``X-Amz-SignedHeaders``, ``X-Amz-Signature``, ``X-Amz-Security-Token``).

S3 also still accepts its legacy HMAC-SHA1 Signature Version 2, which boto3 uses for presigned
URLs by default: ``parse_sigv4`` recognizes it and ``verify_sigv4`` hands it to ``gateway.sigv2``.

The payload enters the signature as the hex SHA-256 of the body, as ``UNSIGNED-PAYLOAD``, or as
one of the ``STREAMING-*`` markers of an aws-chunked body (whose chunks are then signed one by
one, see ``gateway.chunked``). S3 clients send that value in ``x-amz-content-sha256``; other
services sign the body's SHA-256 without sending it, so we compute it.

Invariants:

- We compute the canonical request exactly as botocore's signers do (``botocore.auth.SigV4Auth``
  and its S3 and query variants): S3 signs the raw path as sent; other services sign the path
  normalized (dot segments and doubled slashes removed) and percent-encoded *again*; the query is
  sorted pairs of its encoded form. The tests sign generated requests (paths, queries, headers,
  bodies) with botocore's own signers and require every one to verify. We do not call botocore's
  signer on the hot path: building an ``AWSRequest`` and its header map costs more than the
  whole check (about 10 us here for a typical request).
- The clock is checked before the signature, as AWS does, so a client with a skewed clock is told
  so (``RequestTimeTooSkewed``) rather than getting a signature mismatch.
- A hex ``x-amz-content-sha256`` is only a claim until the body has been read: the caller checks
  it with ``check_payload_hash`` once it has hashed the body (or passes ``payload_sha256``).
- Every failure leaves through ``auth_error`` (``gateway.sigv4_errors``), the one table of codes:
  ``s3`` (rest-xml), ``query`` (IAM, STS, SNS...) and ``json`` (Lambda, SQS, DynamoDB...).
- Signing keys are cached per (secret, date, region, service): four HMACs saved per request;
  so are the key's hashed HMAC pads (``_Signer``), which makes the fifth HMAC cheaper too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote

from botocore.auth import (
    EMPTY_SHA256_HASH,
    SIGV4_TIMESTAMP,
    STREAMING_UNSIGNED_PAYLOAD_TRAILER,
    UNSIGNED_PAYLOAD,
)
from botocore.utils import normalize_url_path

from lambdamaker.errors import AuthError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv2 import is_sigv2, parse_sigv2, verify_sigv2
from lambdamaker.gateway.sigv4_errors import auth_error

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256_HASH",
    "MAX_PRESIGN_EXPIRES",
    "STREAMING_SIGNED",
    "STREAMING_SIGNED_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "UNSIGNED_PAYLOAD",
    "SigV4Request",
    "auth_error",
    "canonical_request",
    "check_payload_hash",
    "is_hex_sha256",
    "parse_sigv4",
    "scope_service",
    "signing_key",
    "string_to_sign",
    "verify_sigv4",
]

ALGORITHM = "AWS4-HMAC-SHA256"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = STREAMING_UNSIGNED_PAYLOAD_TRAILER
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
"""A presigned URL lives at most a week: the signing key is only valid that long."""

_DEFAULT_SKEW = timedelta(seconds=300)
_PAYLOAD_MARKERS = frozenset(
    {UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER}
)
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_AMZ_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")
# The Authorization header as every SDK writes it; anything else takes the general parser.
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 +Credential=([^,\s]+) *, *SignedHeaders=([^,\s]+) *, *Signature=([^,\s]+)"
)
# A query string made only of unreserved characters and upper-case escapes is already in
# canonical form, which is also exactly what botocore signs: no decoding needed.
_CANONICAL_QUERY = re.compile(r"(?:[A-Za-z0-9\-_.~=&]|%[0-9A-F]{2})*")
_UNRESERVED = "-_.~"
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
# Services that speak the query protocol name their auth failures differently from JSON ones.
_QUERY_SERVICES = frozenset(
    {
        "autoscaling",
        "cloudformation",
        "ec2",
        "elasticache",
        "elasticbeanstalk",
        "elasticloadbalancing",
        "iam",
        "importexport",
        "rds",
        "redshift",
        "sdb",
        "ses",
        "sns",
        "sts",
    }
)


@dataclass(slots=True)
class SigV4Request:
    """What a request claims about its own signature, before anything is checked."""

    access_key_id: str
    date: datetime
    region: str
    service: str
    signed_headers: list[str]
    signature: str
    presigned: bool
    expires: int | None
    session_token: str | None
    content_sha256: str | None
    """The ``x-amz-content-sha256`` header, if sent."""
    timestamp: str = ""
    """The ISO-8601 basic timestamp that was signed (``20261128T000000Z``)."""
    scope_date: str = ""
    """The date of the credential scope (``20261128``)."""
    signed_headers_raw: str = ""
    """``SignedHeaders`` exactly as sent: it is part of the canonical request."""
    version: int = 4
    """2 for S3's legacy HMAC-SHA1 signatures (``gateway.sigv2``), else 4."""

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"


# -- parsing ---------------------------------------------------------------------------------


def scope_service(request: HttpRequest) -> str | None:
    """The service named in the credential scope, for routing. Cheap; validates nothing."""
    auth = request.headers.get("authorization")
    if auth is not None:
        start = auth.find("Credential=")
        if start < 0:
            return "s3" if auth.startswith("AWS ") else None
        end = auth.find(",", start)
        credential = auth[start + 11 : end if end >= 0 else len(auth)].strip()
    else:
        qs = request.query_string
        start = qs.find("X-Amz-Credential=")
        if start < 0:
            return "s3" if is_sigv2(request) else None
        end = qs.find("&", start)
        credential = unquote(qs[start + 17 : end if end >= 0 else len(qs)])
    parts = credential.rsplit("/", 4)
    return parts[3] if len(parts) == 5 and parts[3] else None


def parse_sigv4(request: HttpRequest, service_kind: str | None = None) -> SigV4Request | None:
    """What the request claims about its signature; None when it carries no signature at all.

    A malformed claim raises ``AuthError``, with the codes of ``service_kind`` (inferred from the
    credential scope when not given: ``s3``, a query-protocol service, or else ``json``).
    """
    headers = request.headers
    auth = headers.get("authorization")
    qs = request.query_string
    presigned = "X-Amz-Credential=" in qs or "X-Amz-Algorithm=" in qs
    if auth is not None:
        if presigned or ("Signature=" in qs and "AWSAccessKeyId=" in qs):
            raise auth_error("conflicting_auth", _kind(request, service_kind))
        if auth.startswith("AWS "):
            return _sigv2(request, service_kind)
        return _parse_header(request, auth, service_kind)
    if presigned:
        return _parse_query(request, service_kind)
    if "Signature=" in qs and "AWSAccessKeyId=" in qs:
        return _sigv2(request, service_kind)
    return None


def _sigv2(request: HttpRequest, service_kind: str | None) -> SigV4Request:
    # Only S3 is signed with "AWS AKID:sig" / AWSAccessKeyId+Signature+Expires; the query
    # protocol's own SigV2 (SignatureVersion=2) is long deprecated and not supported.
    if service_kind not in (None, "s3") or "SignatureVersion=" in request.query_string:
        raise auth_error(
            "unsupported",
            service_kind or "query",
            "Signature Version 2 is not supported here; sign requests with Signature Version 4.",
        )
    return parse_sigv2(request)


def _kind(request: HttpRequest, service_kind: str | None, service: str | None = None) -> str:
    if service_kind is not None:
        return service_kind
    if service is None:
        service = scope_service(request)
    if service == "s3" or (service is None and "x-amz-content-sha256" in request.headers):
        return "s3"
    return "query" if service in _QUERY_SERVICES else "json"


def _parse_header(request: HttpRequest, auth: str, service_kind: str | None) -> SigV4Request:
    match = _AUTHORIZATION.fullmatch(auth)
    if match is not None:
        credential, signed_headers, signature = match.groups()
    else:
        credential, signed_headers, signature = _parse_header_parts(request, auth, service_kind)
    access_key, scope_date, region, service = _parse_credential(
        request, credential, service_kind, header=True
    )
    kind = _kind(request, service_kind, service)
    headers = request.headers
    timestamp = headers.get("x-amz-date")
    if timestamp is not None:
        date = _parse_amz_date(timestamp)
        if date is None:
            raise auth_error("missing_date", kind, f"Invalid X-Amz-Date: {timestamp!r}")
    else:
        raw_date = headers.get("date")
        if raw_date is None:
            raise auth_error("missing_date", kind)
        date = parse_http_date(raw_date)
        if date is None:
            raise auth_error("missing_date", kind, f"Invalid Date header: {raw_date!r}")
        timestamp = date.strftime(SIGV4_TIMESTAMP)
    return SigV4Request(
        access_key_id=access_key,
        date=date,
        region=region,
        service=service,
        signed_headers=signed_headers.split(";"),
        signature=signature,
        presigned=False,
        expires=None,
        session_token=headers.get("x-amz-security-token"),
        content_sha256=headers.get("x-amz-content-sha256"),
        timestamp=timestamp,
        scope_date=scope_date,
        signed_headers_raw=signed_headers,
    )


def _parse_header_parts(
    request: HttpRequest, auth: str, service_kind: str | None
) -> tuple[str, str, str]:
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        kind = _kind(request, service_kind)
        if kind == "s3":
            raise auth_error("unsupported", kind, ArgumentName="Authorization", ArgumentValue=auth)
        raise auth_error("unsupported", kind, f"Unsupported authorization algorithm {algorithm!r}.")
    credential = signed_headers = signature = None
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        if name == "Credential":
            credential = value.strip()
        elif name == "SignedHeaders":
            signed_headers = value.strip()
        elif name == "Signature":
            signature = value.strip()
    if credential is None or signed_headers is None or signature is None:
        kind = _kind(request, service_kind)
        missing = [
            f"Authorization header requires '{name}' parameter."
            for name, value in (
                ("Credential", credential),
                ("Signature", signature),
                ("SignedHeaders", signed_headers),
            )
            if value is None
        ]
        if kind == "s3":
            raise auth_error(
                "malformed",
                kind,
                "The authorization header is malformed; " + " ".join(missing),
            )
        raise auth_error("malformed", kind, " ".join([*missing, f"Authorization={auth}"]))
    return credential, signed_headers, signature


def _parse_query(request: HttpRequest, service_kind: str | None) -> SigV4Request:
    params: dict[str, str] = {}
    for part in request.query_string.split("&"):
        if part.startswith("X-Amz-"):
            name, _, value = part.partition("=")
            params[name] = unquote(value)
    service_hint = None
    if "X-Amz-Credential" in params:
        parts = params["X-Amz-Credential"].rsplit("/", 4)
        service_hint = parts[3] if len(parts) == 5 else None
    kind = _kind(request, service_kind, service_hint)
    missing = [name for name in _PRESIGN_PARAMS if name not in params]
    if kind == "s3" and "X-Amz-Expires" not in params:
        missing.append("X-Amz-Expires")
    if missing:
        raise auth_error(
            "malformed_query",
            kind,
            "" if kind == "s3" else f"Presigned request is missing {', '.join(missing)}.",
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise auth_error("malformed_query", kind, f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    access_key, scope_date, region, service = _parse_credential(
        request, params["X-Amz-Credential"], service_kind, header=False
    )
    timestamp = params["X-Amz-Date"]
    date = _parse_amz_date(timestamp)
    if date is None:
        raise auth_error(
            "malformed_query",
            kind,
            f'Invalid date format of header "X-Amz-Date": {timestamp!r}',
        )
    expires: int | None = None
    raw_expires = params.get("X-Amz-Expires")
    if raw_expires is not None:
        if not raw_expires.lstrip("-").isdigit():
            raise auth_error("malformed_query", kind, "X-Amz-Expires should be a number")
        expires = int(raw_expires)
        if expires < 0:
            raise auth_error("malformed_query", kind, "X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGN_EXPIRES:
            raise auth_error(
                "malformed_query",
                kind,
                "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
            )
    signed_headers = params["X-Amz-SignedHeaders"]
    return SigV4Request(
        access_key_id=access_key,
        date=date,
        region=region,
        service=service,
        signed_headers=signed_headers.split(";"),
        signature=params["X-Amz-Signature"],
        presigned=True,
        expires=expires,
        session_token=params.get("X-Amz-Security-Token")
        or request.headers.get("x-amz-security-token"),
        content_sha256=request.headers.get("x-amz-content-sha256"),
        timestamp=timestamp,
        scope_date=scope_date,
        signed_headers_raw=signed_headers,
    )


def _parse_credential(
    request: HttpRequest, credential: str, service_kind: str | None, *, header: bool
) -> tuple[str, str, str, str]:
    parts = credential.rsplit("/", 4)
    if (
        len(parts) != 5
        or not parts[0]
        or parts[4] != "aws4_request"
        or len(parts[1]) != 8
        or not parts[1].isdigit()
        or not parts[2]
        or not parts[3]
    ):
        kind = _kind(request, service_kind, parts[3] if len(parts) == 5 else None)
        detail = (
            'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/'
            'aws4_request".'
        )
        if kind == "s3":
            if header:
                raise auth_error(
                    "malformed", kind, f"The authorization header is malformed; {detail}"
                )
            raise auth_error(
                "malformed_query", kind, f"Error parsing the X-Amz-Credential parameter; {detail}"
            )
        raise auth_error(
            "malformed", kind, f"Credential should be scoped to a valid region; {detail}"
        )
    return parts[0], parts[1], parts[2], parts[3]


@lru_cache(maxsize=256)  # requests arriving in the same second share a timestamp
def _parse_amz_date(value: str) -> datetime | None:
    match = _AMZ_DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def parse_http_date(value: str) -> datetime | None:
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date.astimezone(UTC)


# -- the canonical request -------------------------------------------------------------------


@lru_cache(maxsize=4096)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """``kSigning`` of the SigV4 spec: HMAC chain over date, region, service, "aws4_request"."""
    key = hmac.digest(("AWS4" + secret_key).encode(), date.encode(), "sha256")
    key = hmac.digest(key, region.encode(), "sha256")
    key = hmac.digest(key, service.encode(), "sha256")
    return hmac.digest(key, b"aws4_request", "sha256")


class _Signer:
    """HMAC-SHA256 under one signing key, its padded inner and outer blocks hashed once.

    ``hmac.digest`` sets up an OpenSSL HMAC context per call, which costs more than hashing a
    string to sign (about 2 us against 0.8 us here); copying two hashed SHA-256 states is the
    same HMAC (RFC 2104) for a key no longer than the block, as a signing key (32 bytes) is.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        assert len(key) <= 64
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(block.translate(_IPAD))
        self._outer = hashlib.sha256(block.translate(_OPAD))

    def hexdigest(self, message: bytes) -> str:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


@lru_cache(maxsize=4096)
def _signer(secret_key: str, date: str, region: str, service: str) -> _Signer:
    return _Signer(signing_key(secret_key, date, region, service))


def canonical_request(
    request: HttpRequest,
    sig: SigV4Request,
    service_kind: str,
    payload_hash: str,
    *,
    raw_query: bool = False,
) -> str:
    """The canonical request of the SigV4 spec, computed as botocore computes it.

    ``raw_query`` sorts the query's pairs as sent, without re-encoding them: that is what
    botocore signs, and it differs from the spec's form only for queries a client did not encode
    canonically (``+``, lower-case escapes, bare reserved characters).
    """
    path = request.path or "/"
    if service_kind != "s3":
        path = _normalized_path(path)
    query = _canonical_query(request.query_string, sig.presigned, raw_query)
    headers = request.headers
    lines = []
    for name in sig.signed_headers:
        value = headers.get(name)
        if value is None:
            value = request.host if name == "host" else ""
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(
        (
            request.method.upper(),
            path,
            query,
            *lines,
            "",
            sig.signed_headers_raw or ";".join(sig.signed_headers),
            payload_hash,
        )
    )


@lru_cache(maxsize=1024)
def _normalized_path(path: str) -> str:
    # Non-S3 services sign the path with dot segments and doubled slashes removed, encoded once
    # more (so ``%3A`` becomes ``%253A``), exactly as botocore's SigV4Auth does.
    return quote(normalize_url_path(path), safe="/~")


def _canonical_query(query_string: str, presigned: bool, raw: bool) -> str:
    if not query_string:
        return ""
    canonical = raw or _CANONICAL_QUERY.fullmatch(query_string) is not None
    pairs = []
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if presigned and name == "X-Amz-Signature":
            continue
        if not canonical:
            name = quote(unquote(name), safe=_UNRESERVED)
            value = quote(unquote(value), safe=_UNRESERVED)
        pairs.append((name, value))
    pairs.sort()
    return "&".join([f"{name}={value}" for name, value in pairs])


def string_to_sign(sig: SigV4Request, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{sig.timestamp}\n{sig.scope}\n{digest}"


def is_hex_sha256(value: str | None) -> bool:
    return value is not None and len(value) == 64 and _HEX64.fullmatch(value) is not None


# -- verification ----------------------------------------------------------------------------


def verify_sigv4(
    request: HttpRequest,
    sig: SigV4Request,
    secret_key: str,
    *,
    service_kind: str,
    now: datetime,
    max_skew: int = 300,
    payload_sha256: str | None = None,
    bucket: str | None = None,
) -> None:
    """Raise ``AuthError`` unless ``request`` was signed by ``secret_key`` recently enough.

    ``payload_sha256`` is the hex SHA-256 of the body if the caller already has it; when the
    client sent a hex ``x-amz-content-sha256`` and the body is still to come, the caller must
    call ``check_payload_hash`` once it has hashed the body. ``bucket`` is the bucket of a
    virtual-hosted S3 request: S3's SigV2 signs the path-style resource (SigV4 ignores it).
    """
    if sig.version == 2:
        verify_sigv2(request, sig, secret_key, now=now, max_skew=max_skew, bucket=bucket)
        if payload_sha256 is not None:
            check_payload_hash(sig, payload_sha256, service_kind)
        return
    if sig.scope_date != sig.timestamp[:8]:
        _raise_scope_date_mismatch(sig, service_kind)
    _check_time(sig, service_kind, now, max_skew)
    payload_hash = _payload_hash(request, sig, service_kind, payload_sha256)
    signer = _signer(secret_key, sig.scope_date, sig.region, sig.service)
    provided = sig.signature
    canonical = canonical_request(request, sig, service_kind, payload_hash)
    to_sign = string_to_sign(sig, canonical)
    expected = signer.hexdigest(to_sign.encode("utf-8", "surrogateescape"))
    if not _same(expected, provided):
        # A query a client did not encode canonically: botocore signs it as sent.
        raw = canonical_request(request, sig, service_kind, payload_hash, raw_query=True)
        raw_to_sign = string_to_sign(sig, raw) if raw != canonical else None
        if raw_to_sign is None or not _same(
            signer.hexdigest(raw_to_sign.encode("utf-8", "surrogateescape")), provided
        ):
            raise _mismatch(sig, service_kind, canonical, to_sign)
    if payload_sha256 is not None:
        check_payload_hash(sig, payload_sha256, service_kind)


def check_payload_hash(sig: SigV4Request, actual_sha256_hex: str, service_kind: str) -> None:
    """Compare the body's real SHA-256 with the hex ``x-amz-content-sha256`` the client signed."""
    claimed = sig.content_sha256
    if claimed is None or not is_hex_sha256(claimed):
        return
    if claimed.lower() == actual_sha256_hex.lower():
        return
    if service_kind == "s3":
        raise auth_error(
            "content_sha256_mismatch",
            service_kind,
            ClientComputedContentSHA256=claimed,
            S3ComputedContentSHA256=actual_sha256_hex,
        )
    raise auth_error("content_sha256_mismatch", service_kind)


def _same(expected: str, provided: str) -> bool:
    # compare_digest refuses non-ASCII str; such a signature is simply wrong.
    return provided.isascii() and hmac.compare_digest(expected, provided)


def _payload_hash(
    request: HttpRequest, sig: SigV4Request, service_kind: str, payload_sha256: str | None
) -> str:
    claimed = sig.content_sha256
    if claimed is not None:
        if service_kind == "s3" and claimed not in _PAYLOAD_MARKERS and not is_hex_sha256(claimed):
            raise auth_error(
                "bad_content_sha256",
                service_kind,
                ArgumentName="x-amz-content-sha256",
                ArgumentValue=claimed,
            )
        return claimed
    if service_kind == "s3":
        if sig.presigned:
            return UNSIGNED_PAYLOAD
        raise auth_error("missing_content_sha256", service_kind)
    if payload_sha256 is not None:
        return payload_sha256
    body = request.body
    if isinstance(body, bytes):
        return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256_HASH
    digest = hashlib.sha256()
    with body.open() as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_time(sig: SigV4Request, service_kind: str, now: datetime, max_skew: int) -> None:
    skew = _DEFAULT_SKEW if max_skew == 300 else timedelta(seconds=max_skew)
    if sig.presigned and sig.expires is not None:
        expires_at = sig.date + timedelta(seconds=sig.expires)
        if now > expires_at:
            if service_kind == "s3":
                raise auth_error(
                    "expired",
                    service_kind,
                    **{
                        "X-Amz-Expires": str(sig.expires),
                        "Expires": _iso(expires_at),
                        "ServerTime": _iso(now),
                    },
                )
            raise auth_error(
                "expired",
                service_kind,
                _expired_message(
                    sig.timestamp, now - timedelta(seconds=sig.expires), now, sig.expires
                )
                if service_kind == "json"
                else "",
            )
        if sig.date > now + skew:
            if service_kind == "s3":
                raise auth_error(
                    "not_yet_valid",
                    service_kind,
                    **{
                        "X-Amz-Date": sig.timestamp,
                        "Expires": _iso(expires_at),
                        "ServerTime": _iso(now),
                    },
                )
            raise auth_error(
                "not_yet_valid", service_kind, _not_yet_message(sig.timestamp, now, max_skew)
            )
        return
    if sig.date < now - skew:
        if service_kind == "s3":
            raise _skewed(sig, now, max_skew)
        raise auth_error(
            "skew",
            service_kind,
            _expired_message(sig.timestamp, now - skew, now, max_skew),
        )
    if sig.date > now + skew:
        if service_kind == "s3":
            raise _skewed(sig, now, max_skew)
        raise auth_error(
            "not_yet_valid", service_kind, _not_yet_message(sig.timestamp, now, max_skew)
        )


def _skewed(sig: SigV4Request, now: datetime, max_skew: int) -> AuthError:
    return auth_error(
        "skew",
        "s3",
        RequestTime=sig.timestamp,
        ServerTime=_iso(now),
        MaxAllowedSkewMilliseconds=str(max_skew * 1000),
    )


def _span(seconds: int) -> str:
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def _expired_message(timestamp: str, limit: datetime, now: datetime, seconds: int) -> str:
    # The words STS and Lambda use: "Signature expired: 20260101T000000Z is now earlier than
    # 20260101T001000Z (20260101T001500Z - 5 min.)"
    return (
        f"Signature expired: {timestamp} is now earlier than {_amz(limit)} "
        f"({_amz(now)} - {_span(seconds)})"
    )


def _not_yet_message(timestamp: str, now: datetime, max_skew: int) -> str:
    limit = now + timedelta(seconds=max_skew)
    return (
        f"Signature not yet current: {timestamp} is still later than {_amz(limit)} "
        f"({_amz(now)} + {_span(max_skew)})"
    )


def _amz(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SIGV4_TIMESTAMP)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _raise_scope_date_mismatch(sig: SigV4Request, service_kind: str) -> None:
    if service_kind == "s3":
        detail = "Invalid credential date. Date is not the same as X-Amz-Date."
        if sig.presigned:
            raise auth_error("malformed_query", service_kind, detail)
        raise auth_error(
            "malformed", service_kind, f"The authorization header is malformed; {detail}"
        )
    raise auth_error(
        "signature_mismatch",
        service_kind,
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        f"HTTP: '{sig.scope_date}' != '{sig.timestamp[:8]}', from '{sig.timestamp}'.",
    )


def _mismatch(sig: SigV4Request, service_kind: str, canonical: str, to_sign: str) -> AuthError:
    if service_kind != "s3":
        return auth_error("signature_mismatch", service_kind)
    # S3 shows what it signed, which is how a client author finds the difference.
    return auth_error(
        "signature_mismatch",
        service_kind,
        AWSAccessKeyId=sig.access_key_id,
        StringToSign=to_sign,
        SignatureProvided=sig.signature,
        StringToSignBytes=to_sign.encode().hex(" "),
        CanonicalRequest=canonical,
        CanonicalRequestBytes=canonical.encode("utf-8", "surrogateescape").hex(" "),
    )
