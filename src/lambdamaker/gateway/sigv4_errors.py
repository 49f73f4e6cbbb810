"""The one table of SigV4 failure codes, per service family.

AWS names the same authentication failure differently in each protocol family: S3 (rest-xml)
says ``SignatureDoesNotMatch`` / ``InvalidAccessKeyId`` / ``RequestTimeTooSkewed``, query
services (IAM, STS, SNS...) ``SignatureDoesNotMatch`` / ``InvalidClientTokenId``, JSON services
(Lambda, SQS, DynamoDB...) ``InvalidSignatureException`` / ``UnrecognizedClientException``.
Everything in ``gateway.sigv4`` and ``gateway.chunked`` (and the gateway itself, for unknown
keys and missing credentials) raises through ``auth_error`` so that a failure *kind* maps to the
wire in exactly one place. Codes and messages follow S3's error responses, the "Common Errors"
pages of the query and JSON services, and what STS and Lambda are seen to answer.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.errors import AuthError

__all__ = ["ERROR_KINDS", "auth_error"]

_SIG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation "
    "for details."
)
_BAD_TOKEN = "The security token included in the request is invalid."
_S3_BAD_SHA256 = (
    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid "
    "sha256 value."
)

# kind -> (code, status, default message), per service family. Codes and messages follow what
# AWS answers (S3 error responses, the "Common Errors" pages, and observed STS/Lambda answers).
_S3_ERRORS: dict[str, tuple[str, int, str]] = {
    "signature_mismatch": (
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "unknown_key": (
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    "skew": (
        "RequestTimeTooSkewed",
        403,
        "The difference between the request time and the current time is too large.",
    ),
    "expired": ("AccessDenied", 403, "Request has expired"),
    "not_yet_valid": ("AccessDenied", 403, "Request is not yet valid"),
    "malformed": ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed"),
    "malformed_query": (
        "AuthorizationQueryParametersError",
        400,
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
        "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    ),
    "missing": ("AccessDenied", 403, "Access Denied"),
    "missing_date": (
        "AccessDenied",
        403,
        "AWS authentication requires a valid Date or x-amz-date header",
    ),
    "unsupported": ("InvalidArgument", 400, "Unsupported Authorization Type"),
    "conflicting_auth": (
        "InvalidArgument",
        400,
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
        "query string parameter or the Authorization header should be specified",
    ),
    "invalid_token": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
    "expired_token": ("ExpiredToken", 400, "The provided token has expired."),
    "content_sha256_mismatch": (
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
    "bad_content_sha256": ("InvalidArgument", 400, _S3_BAD_SHA256),
    "missing_content_sha256": (
        "InvalidRequest",
        400,
        "Missing required header for this request: x-amz-content-sha256",
    ),
    "incomplete_body": (
        "IncompleteBody",
        400,
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    ),
    "malformed_body": ("InvalidRequest", 400, "The aws-chunked request body is malformed."),
    "malformed_trailer": (
        "MalformedTrailerError",
        400,
        "The request contained trailing data that was not well-formed or did not conform to our "
        "published schema.",
    ),
    "bad_digest": (
        "BadDigest",
        400,
        "The checksum you specified did not match the calculated checksum.",
    ),
    "invalid_checksum": ("InvalidRequest", 400, "The checksum value is invalid."),
    "unsupported_checksum": (
        "InvalidRequest",
        400,
        "The checksum algorithm is not supported by this server.",
    ),
}

_QUERY_ERRORS: dict[str, tuple[str, int, str]] = {
    "signature_mismatch": ("SignatureDoesNotMatch", 403, _SIG_MISMATCH),
    "unknown_key": ("InvalidClientTokenId", 403, _BAD_TOKEN),
    "skew": ("SignatureDoesNotMatch", 403, "Signature expired"),
    "expired": ("RequestExpired", 400, "Request has expired."),
    "not_yet_valid": ("SignatureDoesNotMatch", 403, "Signature not yet current"),
    "malformed": (
        "IncompleteSignature",
        400,
        "The request signature does not conform to AWS standards.",
    ),
    "missing": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
    "invalid_token": ("InvalidClientTokenId", 403, _BAD_TOKEN),
    "expired_token": ("ExpiredToken", 403, "The security token included in the request is expired"),
    "content_sha256_mismatch": ("SignatureDoesNotMatch", 403, _SIG_MISMATCH),
}

_JSON_ERRORS: dict[str, tuple[str, int, str]] = {
    "signature_mismatch": ("InvalidSignatureException", 403, _SIG_MISMATCH),
    "unknown_key": ("UnrecognizedClientException", 403, _BAD_TOKEN),
    "skew": ("InvalidSignatureException", 403, "Signature expired"),
    "expired": ("InvalidSignatureException", 403, "Signature expired"),
    "not_yet_valid": ("InvalidSignatureException", 403, "Signature not yet current"),
    "malformed": (
        "IncompleteSignatureException",
        403,
        "The request signature does not conform to AWS standards.",
    ),
    "missing": ("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
    "invalid_token": ("UnrecognizedClientException", 403, _BAD_TOKEN),
    "expired_token": (
        "ExpiredTokenException",
        403,
        "The security token included in the request is expired",
    ),
    "content_sha256_mismatch": ("InvalidSignatureException", 403, _SIG_MISMATCH),
}

# Kinds a family has no own word for fall back to the nearest one it does have.
_FALLBACK = {
    "malformed_query": "malformed",
    "missing_date": "malformed",
    "unsupported": "malformed",
    "conflicting_auth": "malformed",
    "missing_content_sha256": "malformed",
    "bad_content_sha256": "content_sha256_mismatch",
    "incomplete_body": "malformed",
    "malformed_body": "malformed",
    "malformed_trailer": "malformed",
    "bad_digest": "content_sha256_mismatch",
    "invalid_checksum": "malformed",
    "unsupported_checksum": "malformed",
}
_TABLES = {"s3": _S3_ERRORS, "query": _QUERY_ERRORS, "json": _JSON_ERRORS}
ERROR_KINDS = frozenset(_S3_ERRORS)


def auth_error(kind: str, service_kind: str, message: str = "", **fields: Any) -> AuthError:
    """The error a service of ``service_kind`` answers for an authentication failure ``kind``.

    Kinds: signature_mismatch, unknown_key, skew, expired, not_yet_valid, malformed,
    malformed_query, missing, missing_date, unsupported, conflicting_auth, invalid_token,
    expired_token, content_sha256_mismatch, bad_content_sha256, missing_content_sha256,
    incomplete_body, malformed_body, malformed_trailer, bad_digest, invalid_checksum,
    unsupported_checksum. ``message`` overrides the default text; ``fields`` go in the error body.
    """
    table = _TABLES.get(service_kind)
    if table is None:
        raise ValueError(f"unknown service kind {service_kind!r}")
    if kind not in ERROR_KINDS:
        raise ValueError(f"unknown auth failure kind {kind!r}")
    entry = table.get(kind) or table[_FALLBACK[kind]]
    code, status, default = entry
    return AuthError(message or default, code=code, status=status, **fields)
