"""Authorization-header SigV4: requests signed by boto3 verify; any tampering is refused with
the code each service family uses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from sigv4_support import (
    ACCESS_KEY,
    SECRET_KEY,
    capture,
    make_client,
    moments,
    parsed,
    sha256_hex,
    to_http,
)

from lambdamaker.errors import AuthError
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import (
    auth_error,
    canonical_request,
    check_payload_hash,
    parse_sigv4,
    scope_service,
    verify_sigv4,
)


@pytest.fixture(scope="module")
def s3() -> Any:
    return make_client("s3", s3={"addressing_style": "path"})


@pytest.fixture(scope="module")
def iam() -> Any:
    return make_client("iam")


@pytest.fixture(scope="module")
def lambda_() -> Any:
    return make_client("lambda")


@pytest.fixture(scope="module")
def sqs() -> Any:
    return make_client("sqs")


def verify(
    request: HttpRequest, kind: str, *, secret: str = SECRET_KEY, at: float = 1, **kw: Any
) -> None:
    sig = parsed(request)
    verify_sigv4(request, sig, secret, service_kind=kind, now=moments(sig, at), **kw)


def refused(request: HttpRequest, kind: str, **kw: Any) -> AuthError:
    with pytest.raises(AuthError) as info:
        verify(request, kind, **kw)
    return info.value


# -- requests signed by boto3 verify -----------------------------------------------------------


def test_s3_put_object_signed_by_boto3_verifies_with_its_payload_hash(s3: Any) -> None:
    body = b"hello, lambdamaker"
    request = capture(
        s3, "put_object", Bucket="bucket", Key="dir/a key+~é.txt", Body=body, Metadata={"k": "v"}
    )
    sig = parsed(request)
    assert (sig.access_key_id, sig.region, sig.service) == (ACCESS_KEY, "us-east-1", "s3")
    assert sig.content_sha256 == sha256_hex(body)
    assert "%20" in request.path and "~" in request.path  # S3 signs this raw path as sent
    verify(request, "s3", payload_sha256=sha256_hex(body))


def test_s3_list_with_encoded_query_verifies(s3: Any) -> None:
    request = capture(
        s3, "list_objects_v2", Bucket="bucket", Prefix="a/b c+d", Delimiter="/", MaxKeys=7
    )
    assert "%2F" in request.query_string
    verify(request, "s3")


def test_s3_unsigned_payload_verifies_without_a_body_hash() -> None:
    s3 = make_client("s3", s3={"addressing_style": "path", "payload_signing_enabled": False})
    request = capture(s3, "put_object", Bucket="bucket", Key="k", Body=b"data")
    sig = parsed(request)
    assert sig.content_sha256 == "UNSIGNED-PAYLOAD"
    verify(request, "s3", payload_sha256=sha256_hex(b"data"))
    check_payload_hash(sig, sha256_hex(b"anything"), "s3")  # nothing was claimed, nothing to check


def test_lambda_path_is_normalized_and_encoded_twice(lambda_: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:my-fn"
    request = capture(lambda_, "get_function", FunctionName=arn, Qualifier="$LATEST")
    assert "%3A" in request.path
    sig = parsed(request)
    assert "%253A" in canonical_request(request, sig, "json", sha256_hex(b"")).split("\n")[1]
    verify(request, "json")


def test_iam_query_post_verifies_by_hashing_the_form_body(iam: Any) -> None:
    request = capture(iam, "list_users", PathPrefix="/division_abc/subdivision_xyz/")
    assert "x-amz-content-sha256" not in request.headers
    verify(request, "query")  # no payload_sha256: the verifier hashes the body itself
    verify(request, "query", payload_sha256=sha256_hex(request.body_bytes()))


def test_body_spooled_to_a_file_is_hashed_from_the_file(iam: Any, tmp_path: Any) -> None:
    request = capture(iam, "list_users", PathPrefix="/p/")
    spool = tmp_path / "body"
    spool.write_bytes(request.body_bytes())
    request.body = Body(path=spool, size=spool.stat().st_size)
    verify(request, "query")


def test_json_protocol_request_verifies(sqs: Any) -> None:
    request = capture(sqs, "list_queues", QueueNamePrefix="q")
    verify(request, "json")


def test_temporary_credentials_carry_their_session_token() -> None:
    sts = make_client("sts", token="session-token/with+odd=chars")
    request = capture(sts, "get_caller_identity")
    sig = parsed(request)
    assert sig.session_token == "session-token/with+odd=chars"
    assert "x-amz-security-token" in sig.signed_headers
    verify(request, "query")


def test_request_dated_by_the_date_header_verifies() -> None:
    request = AWSRequest(
        method="GET",
        url="http://localhost:4599/2015-03-31/functions/",
        headers={"Date": "placeholder", "X-Custom": "  two   spaces  "},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", "us-east-1").add_auth(request)
    http = to_http(request)
    assert "x-amz-date" not in http.headers and "date" in http.headers
    verify(http, "json")


def test_repeated_query_keys_and_blank_values_verify(s3: Any) -> None:
    request = AWSRequest(
        method="GET",
        url="http://localhost:4599/bucket?tagging&b=2&a=2&a=1&empty=",
        headers={},
    )
    _s3_signer().add_auth(request)
    verify(to_http(request), "s3")


# -- the query string a client did not encode canonically --------------------------------------


def test_raw_query_signed_as_sent_by_botocore_verifies() -> None:
    # botocore signs a pre-encoded URL's query as it is, even when it is not canonical.
    request = AWSRequest(method="GET", url="http://localhost:4599/bucket?prefix=a/b&x=y+z&c=%2f")
    _s3_signer().add_auth(request)
    verify(to_http(request), "s3")


def test_raw_query_signed_canonically_by_a_spec_client_verifies() -> None:
    # A client that follows the spec signs the decoded-and-re-encoded pairs.
    canonical = AWSRequest(method="GET", url="http://localhost:4599/bucket?c=%2F&prefix=a%2Fb")
    _s3_signer().add_auth(canonical)
    sent = to_http(canonical)
    sent.query_string = "prefix=a/b&c=%2f"
    verify(sent, "s3")


# -- tampering --------------------------------------------------------------------------------


@pytest.fixture()
def s3_put(s3: Any) -> HttpRequest:
    return capture(
        s3,
        "put_object",
        Bucket="bucket",
        Key="key",
        Body=b"original body",
        ContentType="text/plain",
        Metadata={"owner": "alice"},
    )


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda r: r.headers.__setitem__("x-amz-meta-owner", "mallory"), id="signed-header"
        ),
        pytest.param(
            lambda r: r.headers.__setitem__("content-type", "text/html"), id="content-type"
        ),
        pytest.param(lambda r: r.headers.__setitem__("host", "evil:4599"), id="host"),
        pytest.param(lambda r: setattr(r, "path", "/bucket/other"), id="path"),
        pytest.param(lambda r: setattr(r, "method", "DELETE"), id="method"),
        pytest.param(lambda r: setattr(r, "query_string", "acl="), id="query"),
        pytest.param(
            lambda r: r.headers.__setitem__("x-amz-date", _nudge(r.headers["x-amz-date"])),
            id="date-within-skew",
        ),
        pytest.param(
            lambda r: r.headers.__setitem__(
                "authorization", _flip_last(r.headers["authorization"])
            ),
            id="signature",
        ),
    ],
)
def test_tampered_s3_request_does_not_match(s3_put: HttpRequest, tamper: Any) -> None:
    verify(s3_put, "s3")
    tamper(s3_put)
    error = refused(s3_put, "s3")
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)


def test_s3_mismatch_shows_the_string_it_signed(s3_put: HttpRequest) -> None:
    s3_put.path = "/bucket/other"
    error = refused(s3_put, "s3")
    assert error.fields["AWSAccessKeyId"] == ACCESS_KEY
    assert error.fields["CanonicalRequest"].startswith("PUT\n/bucket/other\n")
    assert error.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")


def test_tampered_s3_body_is_a_content_sha256_mismatch(s3_put: HttpRequest) -> None:
    sig = parsed(s3_put)
    verify(s3_put, "s3")  # the header signature itself is intact
    with pytest.raises(AuthError) as info:
        check_payload_hash(sig, sha256_hex(b"tampered body"), "s3")
    assert (info.value.code, info.value.status) == ("XAmzContentSHA256Mismatch", 400)
    assert info.value.fields["S3ComputedContentSHA256"] == sha256_hex(b"tampered body")
    error = refused(s3_put, "s3", payload_sha256=sha256_hex(b"tampered body"))
    assert error.code == "XAmzContentSHA256Mismatch"


def test_tampered_query_protocol_body_does_not_match(iam: Any) -> None:
    request = capture(iam, "list_users", PathPrefix="/a/")
    request.body = request.body_bytes().replace(b"%2Fa%2F", b"%2Fb%2F")
    error = refused(request, "query")
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)


def test_tampered_json_body_does_not_match(sqs: Any) -> None:
    request = capture(sqs, "list_queues", QueueNamePrefix="q")
    request.body = request.body_bytes().replace(b'"q"', b'"r"')
    error = refused(request, "json")
    assert (error.code, error.status) == ("InvalidSignatureException", 403)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("s3", "SignatureDoesNotMatch"),
        ("query", "SignatureDoesNotMatch"),
        ("json", "InvalidSignatureException"),
    ],
)
def test_wrong_secret_key_does_not_match(s3_put: HttpRequest, kind: str, code: str) -> None:
    request = s3_put
    if kind != "s3":
        request = capture(
            make_client("iam" if kind == "query" else "sqs"),
            "list_users" if kind == "query" else "list_queues",
        )
    error = refused(request, kind, secret=SECRET_KEY + "x")
    assert (error.code, error.status) == (code, 403)


@pytest.mark.parametrize("seconds", [-301, 301, 3600 * 24])
def test_s3_request_outside_the_skew_window_is_too_skewed(
    s3_put: HttpRequest, seconds: int
) -> None:
    error = refused(s3_put, "s3", at=-seconds)
    assert (error.code, error.status) == ("RequestTimeTooSkewed", 403)
    assert error.fields["MaxAllowedSkewMilliseconds"] == "300000"
    assert error.fields["RequestTime"] == s3_put.headers["x-amz-date"]


def test_skew_window_is_inclusive_and_configurable(s3_put: HttpRequest) -> None:
    verify(s3_put, "s3", at=300)
    verify(s3_put, "s3", at=-300)
    verify(s3_put, "s3", at=900, max_skew=900)
    assert refused(s3_put, "s3", at=61, max_skew=60).code == "RequestTimeTooSkewed"


def test_old_query_request_says_signature_expired(iam: Any) -> None:
    request = capture(iam, "list_users")
    error = refused(request, "query", at=600)
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)
    assert error.message.startswith(
        f"Signature expired: {request.headers['x-amz-date']} is now earlier than"
    )
    assert error.message.endswith(" - 5 min.)")


def test_future_json_request_says_signature_not_yet_current(sqs: Any) -> None:
    request = capture(sqs, "list_queues")
    error = refused(request, "json", at=-600)
    assert (error.code, error.status) == ("InvalidSignatureException", 403)
    assert error.message.startswith("Signature not yet current:")


def test_tampered_date_far_away_is_reported_as_skew(s3_put: HttpRequest) -> None:
    real = parsed(s3_put)
    old = _shift(s3_put.headers["x-amz-date"], -3600 * 24)
    s3_put.headers["x-amz-date"] = old
    s3_put.headers["authorization"] = s3_put.headers["authorization"].replace(
        f"/{real.scope_date}/", f"/{old[:8]}/"
    )
    sig = parsed(s3_put)
    with pytest.raises(AuthError) as info:
        verify_sigv4(s3_put, sig, SECRET_KEY, service_kind="s3", now=real.date)
    assert info.value.code == "RequestTimeTooSkewed"


# -- malformed claims -------------------------------------------------------------------------


def test_unsigned_request_parses_to_none() -> None:
    assert parse_sigv4(HttpRequest("GET", "/bucket/key", "a=1", {"host": "localhost"})) is None


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [
        ("s3", "AuthorizationHeaderMalformed", 400),
        ("query", "IncompleteSignature", 400),
        ("json", "IncompleteSignatureException", 403),
    ],
)
def test_authorization_without_signature_is_malformed(
    s3_put: HttpRequest, kind: str, code: str, status: int
) -> None:
    s3_put.headers["authorization"] = s3_put.headers["authorization"].rsplit(",", 1)[0]
    with pytest.raises(AuthError) as info:
        parse_sigv4(s3_put, kind)
    assert (info.value.code, info.value.status) == (code, status)
    assert "Signature" in info.value.message


def test_service_kind_is_inferred_from_the_credential_scope(iam: Any, s3_put: HttpRequest) -> None:
    request = capture(iam, "list_users")
    request.headers["authorization"] = request.headers["authorization"].replace(
        "Signature=", "Sig="
    )
    with pytest.raises(AuthError) as info:
        parse_sigv4(request)
    assert info.value.code == "IncompleteSignature"
    s3_put.headers["authorization"] = s3_put.headers["authorization"].replace("Signature=", "Sig=")
    with pytest.raises(AuthError) as info:
        parse_sigv4(s3_put)
    assert info.value.code == "AuthorizationHeaderMalformed"


@pytest.mark.parametrize(
    "credential",
    [
        "AKID/20260101/us-east-1/s3",
        "AKID/2026011/us-east-1/s3/aws4_request",
        "AKID/20260101/us-east-1/s3/aws5_request",
    ],
)
def test_malformed_credential_is_refused(s3_put: HttpRequest, credential: str) -> None:
    auth = s3_put.headers["authorization"]
    start = auth.index("Credential=") + 11
    s3_put.headers["authorization"] = auth[:start] + credential + auth[auth.index(",", start) :]
    with pytest.raises(AuthError) as info:
        parse_sigv4(s3_put)
    assert (info.value.code, info.value.status) == ("AuthorizationHeaderMalformed", 400)
    assert "Credential is mal-formed" in info.value.message


def test_credential_date_must_match_the_request_date(s3_put: HttpRequest) -> None:
    day = s3_put.headers["x-amz-date"][:8]
    s3_put.headers["authorization"] = s3_put.headers["authorization"].replace(
        f"/{day}/", "/20000101/"
    )
    error = refused(s3_put, "s3")
    assert (error.code, error.status) == ("AuthorizationHeaderMalformed", 400)
    assert "Invalid credential date" in error.message


def test_unknown_authorization_scheme_is_an_unsupported_type() -> None:
    request = HttpRequest("GET", "/bucket", "", {"authorization": "Bearer abc", "host": "h"})
    with pytest.raises(AuthError) as info:
        parse_sigv4(request, "s3")
    assert (info.value.code, info.value.status) == ("InvalidArgument", 400)
    assert info.value.fields["ArgumentName"] == "Authorization"
    with pytest.raises(AuthError) as info:
        parse_sigv4(request, "json")
    assert info.value.code == "IncompleteSignatureException"


def test_header_and_query_auth_together_are_refused(s3_put: HttpRequest) -> None:
    s3_put.query_string = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a"
    with pytest.raises(AuthError) as info:
        parse_sigv4(s3_put)
    assert (info.value.code, info.value.status) == ("InvalidArgument", 400)


def test_request_without_any_date_is_refused(s3_put: HttpRequest) -> None:
    del s3_put.headers["x-amz-date"]
    with pytest.raises(AuthError) as info:
        parse_sigv4(s3_put)
    assert (info.value.code, info.value.status) == ("AccessDenied", 403)


def test_s3_request_without_content_sha256_is_refused(s3_put: HttpRequest) -> None:
    del s3_put.headers["x-amz-content-sha256"]
    error = refused(s3_put, "s3")
    assert (error.code, error.status) == ("InvalidRequest", 400)


def test_s3_content_sha256_that_is_no_hash_is_an_invalid_argument(s3_put: HttpRequest) -> None:
    s3_put.headers["x-amz-content-sha256"] = "not-a-hash"
    error = refused(s3_put, "s3")
    assert (error.code, error.status) == ("InvalidArgument", 400)
    assert error.fields["ArgumentValue"] == "not-a-hash"


def test_non_ascii_signature_is_a_mismatch_not_a_crash(s3_put: HttpRequest) -> None:
    s3_put.headers["authorization"] = s3_put.headers["authorization"][:-1] + "é"  # never hex
    assert refused(s3_put, "s3").code == "SignatureDoesNotMatch"


# -- routing and the error table --------------------------------------------------------------


def test_scope_service_reads_the_credential_scope(iam: Any, s3_put: HttpRequest) -> None:
    assert scope_service(s3_put) == "s3"
    assert scope_service(capture(iam, "list_users")) == "iam"
    query = "X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=1"
    assert scope_service(HttpRequest("GET", "/", query, {})) == "sts"
    assert scope_service(HttpRequest("GET", "/", "", {})) is None
    assert scope_service(HttpRequest("GET", "/", "", {"authorization": "Bearer x"})) is None


@pytest.mark.parametrize(
    ("kind", "service_kind", "code", "status"),
    [
        ("unknown_key", "s3", "InvalidAccessKeyId", 403),
        ("unknown_key", "query", "InvalidClientTokenId", 403),
        ("unknown_key", "json", "UnrecognizedClientException", 403),
        ("missing", "s3", "AccessDenied", 403),
        ("missing", "query", "MissingAuthenticationToken", 403),
        ("missing", "json", "MissingAuthenticationTokenException", 403),
        ("expired_token", "query", "ExpiredToken", 403),
        ("expired_token", "json", "ExpiredTokenException", 403),
        ("incomplete_body", "s3", "IncompleteBody", 400),
        ("malformed_query", "json", "IncompleteSignatureException", 403),
    ],
)
def test_auth_error_maps_each_failure_to_the_service_code(
    kind: str, service_kind: str, code: str, status: int
) -> None:
    error = auth_error(kind, service_kind, "", AWSAccessKeyId="AKID")
    assert (error.code, error.status) == (code, status)
    assert error.message
    assert error.fields == {"AWSAccessKeyId": "AKID"}
    assert auth_error(kind, service_kind, "custom").message == "custom"


def test_auth_error_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError):
        auth_error("nonsense", "s3", "")
    with pytest.raises(ValueError):
        auth_error("missing", "soap", "")


# -- helpers ----------------------------------------------------------------------------------


def _s3_signer() -> S3SigV4Auth:
    return S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1")


def _flip_last(text: str) -> str:
    return text[:-1] + ("1" if text.endswith("0") else "0")


def _nudge(timestamp: str) -> str:
    """One second away, on the same day (the credential scope names the day)."""
    return _shift(timestamp, -1 if timestamp.endswith("235959Z") else 1)


def _shift(timestamp: str, seconds: int) -> str:
    moment = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ") + timedelta(seconds=seconds)
    return moment.strftime("%Y%m%dT%H%M%SZ")
