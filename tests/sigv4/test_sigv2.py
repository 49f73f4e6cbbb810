"""S3's legacy SigV2: boto3's default presigned URLs and ``signature_version="s3"`` clients."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sigv4_support import ACCESS_KEY, SECRET_KEY, capture, make_client, parsed

from lambdamaker.errors import AuthError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import parse_sigv4, scope_service, verify_sigv4


@pytest.fixture(scope="module")
def s3() -> Any:
    return make_client("s3", s3={"addressing_style": "path"})


def from_url(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> HttpRequest:
    parts = urlsplit(url)
    return HttpRequest(
        method,
        parts.path,
        parts.query,
        {"host": parts.netloc, **(headers or {})},
        b"",
        parts.netloc,
    )


def verify_presigned(request: HttpRequest, *, before_expiry: float = 10, **kw: Any) -> None:
    sig = parsed(request)
    now = sig.date - timedelta(seconds=before_expiry)
    verify_sigv4(request, sig, kw.pop("secret", SECRET_KEY), service_kind="s3", now=now, **kw)


def refused(request: HttpRequest, **kw: Any) -> AuthError:
    with pytest.raises(AuthError) as info:
        verify_presigned(request, **kw)
    return info.value


def test_boto3_default_presigned_url_is_sigv2_and_verifies(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": "bucket", "Key": "dir/a b+ü.txt", "ResponseContentType": "text/x y"},
        ExpiresIn=300,
    )
    assert "AWSAccessKeyId=" in url and "X-Amz-" not in url
    request = from_url(url)
    sig = parsed(request)
    assert (sig.version, sig.presigned, sig.access_key_id) == (2, True, ACCESS_KEY)
    assert scope_service(request) == "s3"
    verify_presigned(request)


def test_expired_sigv2_presigned_url_is_access_denied(s3: Any) -> None:
    request = from_url(s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}))
    error = refused(request, before_expiry=-1)
    assert (error.code, error.status, error.message) == ("AccessDenied", 403, "Request has expired")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: setattr(r, "path", "/b/other"), id="path"),
        pytest.param(lambda r: setattr(r, "method", "DELETE"), id="method"),
        pytest.param(
            lambda r: setattr(r, "query_string", r.query_string + "&versionId=3"), id="subresource"
        ),
        pytest.param(
            lambda r: setattr(r, "query_string", r.query_string.replace("Expires=", "Expires=1")),
            id="expires",
        ),
    ],
)
def test_tampered_sigv2_presigned_url_does_not_match(s3: Any, tamper: Any) -> None:
    request = from_url(s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}))
    verify_presigned(request)
    tamper(request)
    error = refused(request)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)


def test_sigv2_presigned_put_checks_the_content_type_it_signed(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "b", "Key": "k", "ContentType": "image/png"}
    )
    verify_presigned(from_url(url, "PUT", {"content-type": "image/png"}))
    verify_presigned(from_url(url, "PUT"))  # the signed value also travels in the query
    assert (
        refused(from_url(url, "PUT", {"content-type": "text/html"})).code == "SignatureDoesNotMatch"
    )


def test_sigv2_presigned_url_from_temporary_credentials_carries_the_token() -> None:
    s3 = make_client("s3", token="tok/en+=", s3={"addressing_style": "path"})
    request = from_url(s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}))
    assert parsed(request).session_token == "tok/en+="
    verify_presigned(request)


def test_sigv2_with_wrong_secret_does_not_match(s3: Any) -> None:
    request = from_url(s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}))
    assert refused(request, secret="nope").code == "SignatureDoesNotMatch"


def test_sigv2_header_signed_request_verifies_and_is_skew_checked() -> None:
    s3 = make_client("s3", signature_version="s3", s3={"addressing_style": "path"})
    request = capture(s3, "put_object", Bucket="b", Key="k", Body=b"x", Metadata={"a": "1"})
    assert request.headers["authorization"].startswith(f"AWS {ACCESS_KEY}:")
    sig = parsed(request)
    assert (sig.version, sig.presigned) == (2, False)
    verify_sigv4(request, sig, SECRET_KEY, service_kind="s3", now=sig.date)
    with pytest.raises(AuthError) as info:
        verify_sigv4(
            request, sig, SECRET_KEY, service_kind="s3", now=sig.date + timedelta(seconds=301)
        )
    assert info.value.code == "RequestTimeTooSkewed"
    request.headers["x-amz-meta-a"] = "2"
    with pytest.raises(AuthError) as info:
        verify_sigv4(request, sig, SECRET_KEY, service_kind="s3", now=sig.date)
    assert info.value.code == "SignatureDoesNotMatch"


def test_virtual_hosted_sigv2_signs_the_path_style_resource() -> None:
    s3 = make_client("s3", endpoint="http://s3.localhost:4599", s3={"addressing_style": "virtual"})
    request = from_url(
        s3.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "k"})
    )
    assert request.headers["host"].startswith("bucket.") and request.path == "/k"
    verify_presigned(request, bucket="bucket")
    assert refused(request).code == "SignatureDoesNotMatch"


def test_sigv2_of_a_query_protocol_service_is_unsupported() -> None:
    request = from_url(
        "http://localhost:4599/?Action=ListUsers&AWSAccessKeyId=A&SignatureVersion=2&Signature=x"
    )
    with pytest.raises(AuthError) as info:
        parse_sigv4(request)
    assert info.value.code == "IncompleteSignature"


def test_sigv2_header_without_a_date_is_refused() -> None:
    request = HttpRequest("GET", "/b/k", "", {"authorization": "AWS AKID:c2ln", "host": "h"})
    with pytest.raises(AuthError) as info:
        parse_sigv4(request)
    assert (info.value.code, info.value.status) == ("AccessDenied", 403)
