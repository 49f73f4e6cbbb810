"""Presigned URLs (query-string SigV4): boto3's URLs verify until they expire."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4QueryAuth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sigv4_support import ACCESS_KEY, SECRET_KEY, make_client, moments, parsed, to_http

from lambdamaker.errors import AuthError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import parse_sigv4, verify_sigv4


@pytest.fixture(scope="module")
def s3() -> Any:
    return make_client("s3", s3={"addressing_style": "path"}, signature_version="s3v4")


def from_url(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> HttpRequest:
    parts = urlsplit(url)
    all_headers = {"host": parts.netloc, **(headers or {})}
    return HttpRequest(method, parts.path, parts.query, all_headers, b"", parts.netloc)


def verify(request: HttpRequest, kind: str, *, at: float = 1, secret: str = SECRET_KEY) -> None:
    sig = parsed(request)
    verify_sigv4(request, sig, secret, service_kind=kind, now=moments(sig, at))


def refused(request: HttpRequest, kind: str, **kw: Any) -> AuthError:
    with pytest.raises(AuthError) as info:
        verify(request, kind, **kw)
    return info.value


def test_presigned_get_object_verifies_within_its_lifetime(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": "bucket", "Key": "some dir/ключ.txt", "ResponseContentType": "text/x"},
        ExpiresIn=120,
    )
    request = from_url(url)
    sig = parsed(request)
    assert sig.presigned and sig.expires == 120 and sig.content_sha256 is None
    verify(request, "s3", at=0)
    verify(request, "s3", at=120)


def test_presigned_put_object_signs_an_unsigned_payload(s3: Any) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    request = from_url(url, "PUT")
    request.body = b"any body at all"
    assert parsed(request).content_sha256 is None
    verify(request, "s3")  # whatever the body, the URL signed UNSIGNED-PAYLOAD


def test_expired_presigned_url_is_access_denied(s3: Any) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60)
    request = from_url(url)
    error = refused(request, "s3", at=61)
    assert (error.code, error.status, error.message) == ("AccessDenied", 403, "Request has expired")
    assert error.fields["X-Amz-Expires"] == "60"
    assert {"Expires", "ServerTime"} <= set(error.fields)


def test_presigned_url_dated_in_the_future_is_not_yet_valid(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=3600
    )
    error = refused(from_url(url), "s3", at=-301)
    assert (error.code, error.message) == ("AccessDenied", "Request is not yet valid")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda r: setattr(r, "path", r.path + "x"), id="path"),
        pytest.param(
            lambda r: setattr(r, "query_string", r.query_string + "&versionId=1"), id="added-param"
        ),
        pytest.param(
            lambda r: setattr(
                r, "query_string", r.query_string.replace("X-Amz-Expires=600", "X-Amz-Expires=601")
            ),
            id="expires",
        ),
        pytest.param(lambda r: setattr(r, "method", "DELETE"), id="method"),
        pytest.param(lambda r: r.headers.__setitem__("host", "other:1"), id="host"),
    ],
)
def test_tampered_presigned_url_does_not_match(s3: Any, tamper: Any) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=600)
    request = from_url(url)
    verify(request, "s3")
    tamper(request)
    assert refused(request, "s3").code == "SignatureDoesNotMatch"


def test_presigned_url_with_wrong_key_does_not_match(s3: Any) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert refused(from_url(url), "s3", secret="wrong").code == "SignatureDoesNotMatch"


def test_presigned_url_from_temporary_credentials_carries_the_token() -> None:
    s3 = make_client(
        "s3", token="tok/en+=", s3={"addressing_style": "path"}, signature_version="s3v4"
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    request = from_url(url)
    assert parsed(request).session_token == "tok/en+="
    verify(request, "s3")


def test_presigned_sts_request_verifies_and_expires_like_a_query_service() -> None:
    sts = make_client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=900)
    request = from_url(url, "POST")  # botocore keeps the operation's method for query services
    sig = parsed(request)
    assert (sig.service, sig.presigned) == ("sts", True)
    verify(request, "query")
    error = refused(request, "query", at=901)
    assert (error.code, error.status) == ("RequestExpired", 400)
    assert refused(request, "json", at=901).message.startswith("Signature expired:")


def test_presigned_request_signed_by_the_generic_query_signer_verifies() -> None:
    request = AWSRequest(method="GET", url="http://localhost:4599/2015-03-31/functions/my%3Afn")
    SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", "us-east-1", expires=30).add_auth(
        request
    )
    verify(to_http(request), "json")


def test_presigned_headers_that_were_signed_must_be_sent_unchanged() -> None:
    request = AWSRequest(
        method="PUT",
        url="http://localhost:4599/bucket/key",
        headers={"Content-Type": "image/png", "x-amz-acl": "private"},
    )
    S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1", expires=30).add_auth(
        request
    )
    http = to_http(request)
    assert "content-type" in parsed(http).signed_headers
    verify(http, "s3")
    http.headers["content-type"] = "text/html"
    assert refused(http, "s3").code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("X-Amz-Expires=600", "X-Amz-Expires=604801"), "less than a week"),
        (("X-Amz-Expires=600", "X-Amz-Expires=-1"), "non-negative"),
        (("X-Amz-Expires=600", "X-Amz-Expires=soon"), "should be a number"),
        (("X-Amz-Expires=600&", ""), "requires the X-Amz-Algorithm"),
        (
            ("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"),
            "only supports",
        ),
        (("X-Amz-Date=", "X-Amz-Date=x"), "Invalid date format"),
    ],
)
def test_malformed_presign_parameters_are_refused(
    s3: Any, replace: tuple[str, str], message: str
) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=600)
    request = from_url(url)
    assert replace[0] in request.query_string
    request.query_string = request.query_string.replace(*replace)
    with pytest.raises(AuthError) as info:
        parse_sigv4(request)
    assert (info.value.code, info.value.status) == ("AuthorizationQueryParametersError", 400)
    assert message in info.value.message


def test_presign_credential_date_must_match_x_amz_date(s3: Any) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    request = from_url(url)
    sig = parsed(request)
    request.query_string = request.query_string.replace(f"%2F{sig.scope_date}%2F", "%2F20000101%2F")
    error = refused(request, "s3")
    assert (error.code, error.status) == ("AuthorizationQueryParametersError", 400)
