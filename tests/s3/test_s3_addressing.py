"""Presigned URLs and virtual-hosted-style addressing against the real server."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lambdamaker.testing import ServerProcess


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_presigned_put_then_presigned_get(
    lm_server: ServerProcess, live_bucket: str, signature_version: str
) -> None:
    s3c = lm_server.client("s3", signature_version=signature_version)
    put_url = s3c.generate_presigned_url(
        "put_object", Params={"Bucket": live_bucket, "Key": "up/load.txt"}, ExpiresIn=300
    )
    r = httpx.put(put_url, content=b"presigned body")
    assert r.status_code == 200, r.text
    assert r.headers["etag"].startswith('"')
    get_url = s3c.generate_presigned_url(
        "get_object", Params={"Bucket": live_bucket, "Key": "up/load.txt"}, ExpiresIn=300
    )
    r = httpx.get(get_url)
    assert (r.status_code, r.content) == (200, b"presigned body")
    r = httpx.get(get_url, headers={"Range": "bytes=0-8"})
    assert (r.status_code, r.content) == (206, b"presigned")


def test_presigned_get_of_missing_key_is_no_such_key(s3c: Any, live_bucket: str) -> None:
    url = s3c.generate_presigned_url("get_object", Params={"Bucket": live_bucket, "Key": "nope"})
    r = httpx.get(url)
    assert r.status_code == 404
    assert b"<Code>NoSuchKey</Code>" in r.content
    assert b"<Key>nope</Key>" in r.content


def test_presigned_get_with_response_overrides(s3c: Any, live_bucket: str) -> None:
    s3c.put_object(Bucket=live_bucket, Key="report.csv", Body=b"a,b\n")
    url = s3c.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": live_bucket,
            "Key": "report.csv",
            "ResponseContentDisposition": 'attachment; filename="r.csv"',
            "ResponseContentType": "text/csv",
        },
    )
    r = httpx.get(url)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="r.csv"'
    assert r.headers["content-type"].startswith("text/csv")


def _tamper(url: str, param: str) -> str:
    parts = urlsplit(url)
    # Change the first character to a different one (a fixed replacement would be no change
    # for the one signature in 16 that already starts with it).
    query = [
        (k, (("1" if v[0] == "0" else "0") + v[1:]) if k == param else v)
        for k, v in parse_qsl(parts.query)
    ]
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.parametrize(
    ("signature_version", "param"), [("s3", "Signature"), ("s3v4", "X-Amz-Signature")]
)
def test_presigned_put_with_tampered_signature_is_rejected(
    lm_server: ServerProcess, live_bucket: str, signature_version: str, param: str
) -> None:
    client = lm_server.client("s3", signature_version=signature_version)
    url = client.generate_presigned_url("put_object", Params={"Bucket": live_bucket, "Key": "x"})
    assert f"{param}=" in url
    r = httpx.put(_tamper(url, param), content=b"x")
    assert r.status_code == 403
    assert b"SignatureDoesNotMatch" in r.content
    assert httpx.put(url, content=b"x").status_code == 200


@pytest.fixture()
def localhost_subdomains(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve ``*.localhost`` to loopback, as RFC 6761 resolvers do (this host's does not)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_boto3_virtual_hosted_style(
    lm_server: ServerProcess, live_bucket: str, localhost_subdomains: None
) -> None:
    key, secret = lm_server.credentials()
    port = urlsplit(lm_server.endpoint_url).port
    client = boto3.client(
        "s3",
        endpoint_url=f"http://localhost:{port}",
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    put = client.put_object(Bucket=live_bucket, Key="v/hosted key.txt", Body=b"virtual")
    assert put["ResponseMetadata"]["HTTPHeaders"]  # reached the server
    got = client.get_object(Bucket=live_bucket, Key="v/hosted key.txt")
    assert got["Body"].read() == b"virtual"
    listed = client.list_objects_v2(Bucket=live_bucket, Prefix="v/")
    assert [c["Key"] for c in listed["Contents"]] == ["v/hosted key.txt"]
    client.head_bucket(Bucket=live_bucket)
    client.delete_object(Bucket=live_bucket, Key="v/hosted key.txt")


def test_virtual_hosted_request_with_explicit_host_header(
    lm_server: ServerProcess, live_bucket: str, s3c: Any
) -> None:
    s3c.put_object(Bucket=live_bucket, Key="vh.txt", Body=b"by host header")
    key, secret = lm_server.credentials()
    port = urlsplit(lm_server.endpoint_url).port
    host = f"{live_bucket}.localhost:{port}"
    request = AWSRequest(method="GET", url=f"http://{host}/vh.txt")
    request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    r = httpx.get(f"http://127.0.0.1:{port}/vh.txt", headers={**headers, "Host": host})
    assert (r.status_code, r.content) == (200, b"by host header")
