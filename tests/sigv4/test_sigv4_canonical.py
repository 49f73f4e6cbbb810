"""Property: whatever botocore signs, we verify. Generated paths, queries, headers and bodies,
signed by botocore's own header and query signers, must verify here; and changing any signed
part of them must not."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode_sequence
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4_support import ACCESS_KEY, SECRET_KEY, moments, parsed, to_http

from lambdamaker.errors import AuthError
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.sigv4 import verify_sigv4

CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY, "a-session-token")
SIGNERS = {
    ("s3", False): lambda: S3SigV4Auth(CREDENTIALS, "s3", "eu-west-3"),
    ("s3", True): lambda: S3SigV4QueryAuth(CREDENTIALS, "s3", "eu-west-3", expires=3600),
    ("json", False): lambda: SigV4Auth(CREDENTIALS, "lambda", "eu-west-3"),
    ("json", True): lambda: SigV4QueryAuth(CREDENTIALS, "lambda", "eu-west-3", expires=3600),
    ("query", False): lambda: SigV4Auth(CREDENTIALS, "iam", "us-east-1"),
    ("query", True): lambda: SigV4QueryAuth(CREDENTIALS, "sts", "us-east-1", expires=3600),
}

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
# Path segments as a client might send them: encoded by botocore's rules, or raw with dot
# segments and characters some clients leave unencoded.
segment = st.one_of(
    text.map(lambda s: quote(s, safe="~")),
    st.sampled_from([".", "..", "", "a:b", "a@b", "x!y", "(p)", "key+plus", "%41"]),
)
path = st.lists(segment, max_size=5).map(lambda parts: "/" + "/".join(parts))
# Queries: botocore-encoded pairs, or raw strings a careless client builds.
raw_query_char = st.sampled_from(list(string.ascii_letters + string.digits + "-_.~/+!*'(),:@$;%"))
raw_query = st.lists(
    st.tuples(st.text(raw_query_char, min_size=1, max_size=6), st.text(raw_query_char, max_size=6)),
    max_size=4,
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))
encoded_query = st.lists(st.tuples(text.filter(bool), text), max_size=4).map(
    lambda pairs: percent_encode_sequence(pairs)
)
header_name = st.text(
    st.sampled_from(list(string.ascii_letters + string.digits + "-")), min_size=1, max_size=10
)
header_value = st.text(st.sampled_from(list(string.printable[:-5] + " ")), max_size=20)
# Lower-case names: botocore signs both of two names differing only in case but sends one.
headers = st.dictionaries(
    header_name.map(lambda n: f"x-test-{n.lower()}"), header_value, max_size=4
)


def _valid_percent_escapes(query: str) -> bool:
    # A stray "%" not followed by two hex digits is no URL a client can send.
    parts = query.split("%")
    return all(len(p) >= 2 and all(c in string.hexdigits for c in p[:2]) for p in parts[1:])


@settings(max_examples=250, deadline=None)
@given(
    kind=st.sampled_from(["s3", "json", "query"]),
    presign=st.booleans(),
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    path=path,
    query=st.one_of(encoded_query, raw_query.filter(_valid_percent_escapes)),
    extra_headers=headers,
    body=st.binary(max_size=64),
)
def test_whatever_botocore_signs_verifies(
    kind: str,
    presign: bool,
    method: str,
    path: str,
    query: str,
    extra_headers: dict[str, str],
    body: bytes,
) -> None:
    request = AWSRequest(
        method=method,
        url=f"http://127.0.0.1:4599{path}" + (f"?{query}" if query else ""),
        headers=extra_headers,
        data=b"" if presign else body,
    )
    SIGNERS[(kind, presign)]().add_auth(request)
    http = to_http(request)
    sig = parsed(http, kind)
    assert sig.presigned == presign
    assert sig.session_token == "a-session-token"
    verify_sigv4(http, sig, SECRET_KEY, service_kind=kind, now=moments(sig, 1))


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(["s3", "json", "query"]),
    path=path,
    query=encoded_query,
    extra_headers=headers,
    change=st.sampled_from(["path", "query", "header", "method"]),
)
def test_changing_a_signed_part_is_refused(
    kind: str, path: str, query: str, extra_headers: dict[str, str], change: str
) -> None:
    request = AWSRequest(
        method="GET",
        url=f"http://127.0.0.1:4599{path}" + (f"?{query}" if query else ""),
        headers=extra_headers,
    )
    SIGNERS[(kind, False)]().add_auth(request)
    http = to_http(request)
    _change(http, change)
    sig = parsed(http, kind)
    with pytest.raises(AuthError) as info:
        verify_sigv4(http, sig, SECRET_KEY, service_kind=kind, now=moments(sig, 1))
    assert info.value.status == 403


def _change(http: HttpRequest, what: str) -> None:
    if what == "path":
        http.path = http.path + "z"
    elif what == "query":
        http.query_string = (http.query_string + "&" if http.query_string else "") + "extra=1"
    elif what == "header":
        http.headers["x-amz-date"] = http.headers["x-amz-date"][:-3] + (
            "01Z" if not http.headers["x-amz-date"].endswith("01Z") else "02Z"
        )
    else:
        http.method = "PATCH"
