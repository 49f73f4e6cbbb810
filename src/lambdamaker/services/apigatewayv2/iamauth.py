"""AWS_IAM route authorization: the request must carry a valid SigV4 signature (service
``execute-api``) by a known, active access key, checked with the gateway's own SigV4 code.

Invariants: no signature, an unknown key or a bad signature → 403 ``{"message":"Forbidden"}``
(API Gateway's answer); the caller's identity goes to ``requestContext.authorizer.iam``. IAM
policies for ``execute-api:Invoke`` are not evaluated: any valid signature is let through.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lambdamaker.errors import AuthError, ServiceError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import parse_sigv4, verify_sigv4

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


def verify_iam(
    platform: Platform,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> dict[str, Any] | None:
    """The ``iam`` authorizer context of a correctly signed request, or None."""
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    request = HttpRequest(
        method=method,
        path=path,
        query_string=query,
        headers=joined,
        body=body,
        host=joined.get("host", ""),
    )
    try:
        sig = parse_sigv4(request, "json")
        if sig is None:
            return None
        record = platform.credentials.lookup(sig.access_key_id)
        if record is None or not record.active:
            return None
        if record.session_token is not None and sig.session_token != record.session_token:
            return None
        verify_sigv4(
            request,
            sig,
            record.secret_access_key,
            service_kind="json",
            now=datetime.now(UTC),
            payload_sha256=hashlib.sha256(body).hexdigest(),
        )
    except (AuthError, ServiceError):
        return None
    return {
        "accessKey": record.access_key_id,
        "accountId": record.account_id,
        "callerId": record.user_name or record.access_key_id,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": record.principal_arn,
        "userId": record.user_name or record.access_key_id,
    }
