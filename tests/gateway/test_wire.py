"""The gateway on the wire: unsigned and odd requests, disconnects, and fuzzing for 500s."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdamaker import Platform, PlatformConfig
from lambdamaker.gateway.app import AwsGateway
from lambdamaker.testing import ServerProcess


def test_unsigned_s3_request_is_access_denied(lm_server: ServerProcess) -> None:
    r = httpx.get(lm_server.endpoint_url + "/some-bucket/some-key")
    assert r.status_code == 403
    assert b"<Code>AccessDenied</Code>" in r.content


def test_request_for_a_service_that_is_not_enabled_names_it(boto_client) -> None:  # type: ignore[no-untyped-def]
    client = boto_client("cognito-idp")
    with pytest.raises(Exception) as info:
        client.list_user_pools(MaxResults=10)
    response = info.value.response  # type: ignore[attr-defined]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "cognito-idp" in response["Error"]["Message"]


def _spool_files(server: ServerProcess) -> list[Path]:
    tmp = server.data_dir / "tmp"
    return list(tmp.iterdir()) if tmp.exists() else []


def test_client_disconnect_mid_upload_leaves_no_object_and_no_spool_file(
    lm_server: ServerProcess, boto_client
) -> None:  # type: ignore[no-untyped-def]
    s3 = boto_client("s3")
    s3.create_bucket(Bucket="disconnects")
    host, port = "127.0.0.1", lm_server.port
    # --no-auth is off, so sign nothing and send a presigned URL instead: the request is valid
    # until its body stops short.
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "disconnects", "Key": "half"}, ExpiresIn=300
    )
    path = url.split(str(port), 1)[1]
    with socket.create_connection((host, port)) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 1000000\r\n\r\n".encode()
            + b"x" * 1000
        )
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while _spool_files(lm_server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _spool_files(lm_server) == []
    with pytest.raises(Exception) as info:
        s3.head_object(Bucket="disconnects", Key="half")
    assert info.value.response["Error"]["Code"] == "404"  # type: ignore[attr-defined]


# -- fuzzing the whole request path in process ----------------------------------------------


def call_asgi(
    app: AwsGateway, method: str, url: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One request through the ASGI app, no sockets: (status, body)."""
    path, _, query = url.partition("?")
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "scheme": "http",
        "server": ("127.0.0.1", 4599),
    }
    out: dict[str, Any] = {"body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        else:
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["body"]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsGateway]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    platform = Platform(PlatformConfig(data_dir=data, auth=False))
    platform.start()
    app = AwsGateway(platform)
    assert call_asgi(app, "PUT", "/fuzz-bucket", {}, b"")[0] == 200
    yield app
    platform.close()


def test_unsigned_post_with_empty_body_is_answered(fuzz_app: AwsGateway) -> None:
    # The body of an unsigned POST is read early (it may name a query-protocol service); the
    # gateway must not wait for it a second time when it turns out to be S3's and empty.
    status, content = call_asgi(fuzz_app, "POST", "/fuzz-bucket/a/b?uploads", {}, b"")
    assert status == 200, content
    assert b"<UploadId>" in content


targets = st.sampled_from(
    [
        None,
        "AmazonSQS.SendMessage",
        "Logs_20140328.PutLogEvents",
        "Nope.Nothing",
        "",
    ]
)
content_types = st.sampled_from(
    [
        None,
        "application/x-amz-json-1.0",
        "application/x-www-form-urlencoded",
        "application/xml",
        "text/plain",
    ]
)
paths = st.one_of(
    st.sampled_from(
        ["/", "/fuzz-bucket", "/fuzz-bucket/k", "/fuzz-bucket/a/b?uploads", "/%ZZ", "//x"]
    ),
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#?"),
        max_size=40,
    ).map(lambda s: "/" + s),
)
queries = st.sampled_from(
    [
        "",
        "Action=GetCallerIdentity",
        "Action=CreateRole&RoleName=x",
        "uploads",
        "list-type=2&max-keys=abc",
        "delete",
        "partNumber=0&uploadId=zz",
    ]
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"{",
            b'{"QueueUrl": 5}',
            b"<Delete><Object><Key>a</Key></Object>",
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
            b"Action=CreateRole&RoleName=&AssumeRolePolicyDocument=%7B",
            b"Action=AssumeRole&RoleArn=nope&RoleSessionName=" + b"s" * 100,
        ]
    ),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]),
    path=paths,
    query=queries,
    target=targets,
    content_type=content_types,
    body=bodies,
    extra=st.dictionaries(
        st.sampled_from(
            ["range", "if-match", "x-amz-copy-source", "content-md5", "x-amz-meta-a", "x-amz-date"]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
        max_size=3,
    ),
)
def test_no_request_yields_a_500(
    fuzz_app: AwsGateway, method, path, query, target, content_type, body, extra
) -> None:  # type: ignore[no-untyped-def]
    headers = dict(extra)
    if target is not None:
        headers["x-amz-target"] = target
    if content_type is not None:
        headers["content-type"] = content_type
    url = path + ("?" + query if query else "")
    status, content = call_asgi(fuzz_app, method, url, headers, body)
    assert status < 500 or status == 501, (status, content[:500])
