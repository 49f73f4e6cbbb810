"""Gateway benchmark: S3 HeadObject (tiny), PutObject and GetObject (1 MB).

Three views, all in one run on one machine:
- over HTTP with a lean client (httpx + botocore's SigV4 signer, one keep-alive connection);
- over HTTP with boto3 (what users run; its own client overhead is large);
- in process: the gateway's ASGI app called directly (no sockets), next to the S3 provider's
  HeadObject called directly. Their difference is what the gateway itself adds per request
  (route, parse, authenticate, thread hop, serialize); the goal is at most 150 µs p50.

Run: ``python -m benchmarks.gateway [--quick] [--json FILE]``.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from benchmarks._common import parser, percentile, report, time_calls
from lambdamaker import Platform, PlatformConfig
from lambdamaker.gateway.app import AwsGateway, _http_request
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.gateway.sigv4 import parse_sigv4, scope_service, verify_sigv4
from lambdamaker.services.base import Principal, RequestContext
from lambdamaker.testing import ServerProcess

MB = 1024 * 1024


class LeanClient:
    """httpx with SigV4 signing: the least a client can do to talk to the gateway."""

    def __init__(self, endpoint: str, key: str, secret: str) -> None:
        self.endpoint = endpoint
        self.creds = Credentials(key, secret)
        self.http = httpx.Client(base_url=endpoint, timeout=30)

    def request(self, method: str, path: str, body: bytes = b"") -> httpx.Response:
        req = AWSRequest(method=method, url=self.endpoint + path, data=body)
        req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        S3SigV4Auth(self.creds, "s3", "us-east-1").add_auth(req)
        resp = self.http.request(method, path, content=body, headers=dict(req.headers.items()))
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {path} -> {resp.status_code} {resp.text[:200]}")
        return resp


class RawClient:
    """http.client on one keep-alive connection, replaying a request signed once (valid for the
    5-minute skew window): the server's HTTP cost with almost no client cost on top."""

    def __init__(self, endpoint: str, key: str, secret: str, method: str, path: str) -> None:
        host_port = endpoint.split("//", 1)[1]
        self.conn = http.client.HTTPConnection(host_port, timeout=30)
        req = AWSRequest(method=method, url=endpoint + path)
        req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
        self.headers = dict(req.headers.items())
        self.method, self.path = method, path

    def request(self) -> None:
        self.conn.request(self.method, self.path, headers=self.headers)
        resp = self.conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{self.method} {self.path} -> {resp.status}")


def http_benchmarks(
    n: int, rows: list[tuple[str, dict[str, float]]], metrics: dict[str, float]
) -> None:
    with tempfile.TemporaryDirectory() as tmp, ServerProcess(Path(tmp) / "data") as server:
        key, secret = server.credentials()
        s3 = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="tiny", Body=b"x")
        payload = os.urandom(MB)
        s3.put_object(Bucket="bench", Key="big", Body=payload)
        lean = LeanClient(server.endpoint_url, key, secret)

        raw_head = RawClient(server.endpoint_url, key, secret, "HEAD", "/bench/tiny")
        raw_get = RawClient(server.endpoint_url, key, secret, "GET", "/bench/big")
        cases = [
            ("raw HeadObject tiny (pre-signed)", raw_head.request, n),
            ("raw GetObject 1MB (pre-signed)", raw_get.request, n // 5),
            ("lean HeadObject tiny", lambda: lean.request("HEAD", "/bench/tiny"), n),
            ("lean PutObject 1MB", lambda: lean.request("PUT", "/bench/put", payload), n // 5),
            ("lean GetObject 1MB", lambda: lean.request("GET", "/bench/big"), n // 5),
            ("boto3 HeadObject tiny", lambda: s3.head_object(Bucket="bench", Key="tiny"), n),
            (
                "boto3 PutObject 1MB",
                lambda: s3.put_object(Bucket="bench", Key="put", Body=payload),
                n // 5,
            ),
            (
                "boto3 GetObject 1MB",
                lambda: s3.get_object(Bucket="bench", Key="big")["Body"].read(),
                n // 5,
            ),
        ]
        for label, fn, count in cases:
            r = time_calls(fn, count)
            rows.append((label, r))
            slug = label.split(" (")[0].lower().replace(" ", "_")
            metrics[f"{slug}_p50_us"] = r["p50_us"]
            metrics[f"{slug}_p99_us"] = r["p99_us"]
            metrics[f"{slug}_rps"] = r["rps"]


def _asgi_head_scope(key: str, secret: str) -> dict[str, Any]:
    req = AWSRequest(method="HEAD", url="http://127.0.0.1:4599/bench/tiny")
    req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    req.headers["host"] = "127.0.0.1:4599"
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
    headers = [
        (k.lower().encode(), v.encode() if isinstance(v, str) else v)
        for k, v in req.headers.items()
    ]
    return {
        "type": "http",
        "method": "HEAD",
        "path": "/bench/tiny",
        "raw_path": b"/bench/tiny",
        "query_string": b"",
        "headers": headers,
        "scheme": "http",
        "server": ("127.0.0.1", 4599),
    }


def stage_breakdown(
    gateway: AwsGateway,
    scope: dict[str, Any],
    n: int,
    rows: list[tuple[str, dict[str, float]]],
    metrics: dict[str, float],
) -> None:
    """Where the gateway's time goes: each stage of a HeadObject, timed on its own."""
    platform = gateway.platform
    protocol = gateway.protocols["s3"]
    request = _http_request(scope)
    sig = parse_sigv4(request)
    assert sig is not None and platform.admin_key is not None
    secret = platform.admin_key.secret_access_key
    operation = protocol.find_operation(request)
    params = protocol.parse(request, operation)
    provider = platform.providers["s3"]
    ctx = RequestContext(
        request_id="bench",
        service="s3",
        operation=operation.name,
        region="us-east-1",
        account_id="000000000000",
    )
    result = provider.operation(operation.name)(ctx, params)  # type: ignore[misc]

    def route_and_find() -> None:
        req = _http_request(scope)
        gateway.router.route(req, scope_service(req))
        protocol.find_operation(req)

    def authenticate() -> None:
        s = parse_sigv4(request)
        assert s is not None
        platform.credentials.lookup(s.access_key_id)
        verify_sigv4(request, s, secret, service_kind="s3", now=datetime.now(UTC))

    def parse_and_validate() -> None:
        protocol.validate(operation, protocol.parse(_http_request(scope), operation))

    stages = [
        ("stage: build request + route + find op", route_and_find),
        ("stage: SigV4 parse + key lookup + verify", authenticate),
        ("stage: parse + validate", parse_and_validate),
        (
            "stage: provider HeadObject (SQL read)",
            lambda: provider.operation("HeadObject")(ctx, params),
        ),  # type: ignore[misc]
        ("stage: serialize", lambda: protocol.serialize(operation, dict(result), "req-id")),
    ]
    for label, fn in stages:
        r = time_calls(fn, n)
        rows.append((label, r))
        metrics[
            label.split(": ")[1].split(" (")[0].replace(" + ", "_").replace(" ", "_") + "_p50_us"
        ] = r["p50_us"]


def inprocess_benchmarks(
    n: int, rows: list[tuple[str, dict[str, float]]], metrics: dict[str, float]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform(PlatformConfig(data_dir=Path(tmp) / "data"), services=["s3"])
        platform.start()
        try:
            s3 = platform.providers["s3"]
            ctx = RequestContext(
                request_id=str(uuid.uuid4()),
                service="s3",
                operation="HeadObject",
                region="us-east-1",
                account_id="000000000000",
                principal=Principal(
                    arn="arn:aws:iam::000000000000:root", account_id="000000000000"
                ),
            )
            s3.create_bucket(ctx, {"Bucket": "bench"})  # type: ignore[attr-defined]
            s3.put_object(ctx, {"Bucket": "bench", "Key": "tiny", "Body": Body.from_bytes(b"x")})  # type: ignore[attr-defined]
            provider = time_calls(
                lambda: s3.head_object(ctx, {"Bucket": "bench", "Key": "tiny"}), n
            )  # type: ignore[attr-defined]
            rows.append(("in-process provider HeadObject", provider))

            gateway = AwsGateway(platform)
            assert platform.admin_key is not None
            scope = _asgi_head_scope(
                platform.admin_key.access_key_id, platform.admin_key.secret_access_key
            )
            statuses: list[int] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            async def run() -> dict[str, float]:
                for _ in range(50):
                    await gateway(dict(scope), receive, send)
                samples = []
                start = time.perf_counter()
                for _ in range(n):
                    t0 = time.perf_counter_ns()
                    await gateway(dict(scope), receive, send)
                    samples.append((time.perf_counter_ns() - t0) / 1000)
                total = time.perf_counter() - start
                return {
                    "p50_us": percentile(samples, 50),
                    "p99_us": percentile(samples, 99),
                    "mean_us": sum(samples) / len(samples),
                    "rps": n / total,
                }

            through = asyncio.run(run())
            stage_breakdown(gateway, scope, n, rows, metrics)
            if set(statuses) != {200}:
                raise RuntimeError(f"in-process HeadObject statuses: {sorted(set(statuses))}")
            rows.append(("in-process gateway HeadObject (ASGI)", through))
            metrics["inprocess_provider_headobject_p50_us"] = provider["p50_us"]
            metrics["inprocess_gateway_headobject_p50_us"] = through["p50_us"]
            metrics["gateway_overhead_p50_us"] = through["p50_us"] - provider["p50_us"]
        finally:
            platform.close()


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    n = 300 if args.quick else 3000
    rows: list[tuple[str, dict[str, float]]] = []
    metrics: dict[str, float] = {}
    inprocess_benchmarks(n, rows, metrics)
    http_benchmarks(n, rows, metrics)
    report("gateway", rows, metrics, args.json)


if __name__ == "__main__":
    main()
