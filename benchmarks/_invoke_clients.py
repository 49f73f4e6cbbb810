"""Clients for the functions benchmark: how requests reach the Lambda API.

- ``LeanLambdaClient``: httpx + botocore's SigV4 signer per request (what a lean real client does);
- ``RawInvoker``: ``http.client`` replaying one pre-signed request (almost no client cost);
- ``throughput``: many connections on asyncio/uvloop writing pre-built requests, with the CPU
  time per call of the client and of the server's process tree;
- ``asgi_exchange`` / ``inprocess_boto3``: requests handed to the gateway's ASGI app in this
  process, with no sockets or HTTP server in between.
"""

from __future__ import annotations

import http.client
import itertools
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from benchmarks._common import percentile

REGION = "us-east-1"


def stats_ms(samples_s: list[float]) -> dict[str, float]:
    """Latency samples in seconds -> the table's row (µs percentiles, calls/s)."""
    us = [s * 1e6 for s in samples_s]
    return {
        "p50_us": percentile(us, 50),
        "p99_us": percentile(us, 99),
        "mean_us": statistics.fmean(us),
        "rps": len(us) / sum(samples_s) if samples_s else 0.0,
    }


class LeanLambdaClient:
    """httpx with per-request SigV4 (service ``lambda``): the least a real client does."""

    def __init__(self, endpoint: str, key: str, secret: str) -> None:
        import httpx
        from botocore.credentials import Credentials

        self.endpoint = endpoint
        self.creds = Credentials(key, secret)
        self.http = httpx.Client(base_url=endpoint, timeout=60)

    def invoke(self, name: str, payload: bytes) -> bytes:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        path = invoke_path(name)
        req = AWSRequest(method="POST", url=self.endpoint + path, data=payload)
        SigV4Auth(self.creds, "lambda", REGION).add_auth(req)
        resp = self.http.post(path, content=payload, headers=dict(req.headers.items()))
        if resp.status_code != 200 or "x-amz-function-error" in resp.headers:
            raise RuntimeError(f"Invoke {name} -> {resp.status_code} {resp.text[:300]}")
        return resp.content


@dataclass(frozen=True)
class SignedInvoke:
    """One Invoke request signed once: replayable for the 5-minute SigV4 skew window. The
    server still parses and verifies it like any other; only the client's signing is saved."""

    endpoint: str
    name: str
    payload: bytes
    headers: dict[str, str]

    @classmethod
    def sign(cls, endpoint: str, key: str, secret: str, name: str, payload: bytes) -> SignedInvoke:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        req = AWSRequest(method="POST", url=endpoint + invoke_path(name), data=payload)
        SigV4Auth(Credentials(key, secret), "lambda", REGION).add_auth(req)
        headers = dict(req.headers.items())
        headers["Content-Length"] = str(len(payload))
        return cls(endpoint, name, payload, headers)

    @property
    def host_port(self) -> str:
        return self.endpoint.split("//", 1)[1]

    def wire_bytes(self) -> bytes:
        """The whole HTTP/1.1 request, ready to write to a socket."""
        lines = [f"POST {invoke_path(self.name)} HTTP/1.1", f"Host: {self.host_port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() != "host"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.payload


def invoke_path(name: str) -> str:
    return f"/2015-03-31/functions/{name}/invocations"


class RawInvoker:
    """One keep-alive ``http.client`` connection replaying a ``SignedInvoke``."""

    def __init__(self, signed: SignedInvoke) -> None:
        self.conn = http.client.HTTPConnection(signed.host_port, timeout=60)
        self.signed = signed

    def invoke(self) -> int:
        s = self.signed
        self.conn.request("POST", invoke_path(s.name), body=s.payload, headers=s.headers)
        resp = self.conn.getresponse()
        resp.read()
        if resp.status == 200 and resp.getheader("X-Amz-Function-Error"):
            raise RuntimeError(f"function error from {s.name}")
        return resp.status

    def close(self) -> None:
        self.conn.close()


def tree_cpu_s(root_pid: int) -> float:
    """CPU seconds (user + system) used so far by ``root_pid`` and its live descendants (the
    server, its zygotes and environments), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid, used in cpu.items():
        p = pid
        while p > 1 and p != root_pid:
            p = parent.get(p, 0)
        if p == root_pid:
            total += used
    return total


async def _read_response(reader: Any) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body); return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    if status == 200 and b"x-amz-function-error" in head.lower():
        raise RuntimeError("function error")
    return status


def throughput(
    signed: SignedInvoke,
    concurrency: int,
    budget: int,
    seconds: float,
    server_pid: int | None = None,
) -> dict[str, float]:
    """``concurrency`` connections invoke back to back until ``budget`` calls or ``seconds``.

    The client is asyncio on uvloop writing a pre-built request and parsing just the status
    line and body length: as little client CPU as Python allows, since the client shares the
    machine's cores with the server. It reports the CPU time per call of this client and of the
    server's process tree, so a reader can tell who ran out of cores."""
    import asyncio

    import uvloop

    host, port = signed.host_port.rsplit(":", 1)
    request = signed.wire_bytes()
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    async def worker(tickets: Iterator[int], deadline: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while next(tickets) < budget and time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def run() -> float:
        tickets = itertools.count()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(tickets, t0 + seconds) for _ in range(concurrency)))
        return time.perf_counter() - t0

    server_cpu0 = tree_cpu_s(server_pid) if server_pid else 0.0
    client_cpu0 = time.process_time()
    elapsed = uvloop.run(run())
    client_cpu = time.process_time() - client_cpu0
    server_cpu = (tree_cpu_s(server_pid) - server_cpu0) if server_pid else 0.0
    ok = statuses.get(200, 0)
    r = stats_ms(latencies)
    r["rps"] = ok / elapsed
    r["errors"] = float(sum(statuses.values()) - ok)
    calls = max(1, sum(statuses.values()))
    r["client_cpu_us_per_call"] = client_cpu / calls * 1e6
    r["server_cpu_us_per_call"] = server_cpu / calls * 1e6
    return r


def asgi_scope(method: str, url: str, headers: Any) -> dict[str, Any]:
    parts = urlsplit(url)
    pairs = [
        (k.lower().encode(), v.encode() if isinstance(v, str) else v) for k, v in headers.items()
    ]
    if not any(k == b"host" for k, _ in pairs):
        pairs.append((b"host", parts.netloc.encode()))
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": pairs,
        "scheme": "http",
        "server": ("127.0.0.1", 4599),
    }


async def asgi_exchange(
    app: Any, scope: dict[str, Any], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """One request through an ASGI app: (status, response headers, response body)."""
    delivered = False
    status = 0
    headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for k, v in message.get("headers", []):
                headers[k.decode("latin-1")] = v.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(dict(scope), receive, send)
    return status, headers, b"".join(chunks)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def inprocess_boto3(gateway: Any, service: str, key: str, secret: str) -> Any:
    """A boto3 client whose requests go to ``gateway`` in this process: botocore serializes and
    signs them, a ``before-send`` hook runs the ASGI app and hands back its answer."""
    import asyncio

    import boto3
    from botocore.awsrequest import AWSResponse

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read() if hasattr(body, "read") else bytes(body)
        scope = asgi_scope(request.method, request.url, request.headers)
        status, headers, content = asyncio.run(asgi_exchange(gateway, scope, body))
        return AWSResponse(request.url, status, headers, _Raw(content))

    client = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:4599",
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    client.meta.events.register("before-send", send)
    return client
