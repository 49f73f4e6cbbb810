"""What every benchmark shares: machine facts, percentiles, the table and the JSON file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def time_calls(fn: Callable[[], object], n: int, warmup: int = 20) -> dict[str, float]:
    """Call ``fn`` n times sequentially; latency percentiles in µs and calls/s."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    total = time.perf_counter() - start
    return {
        "p50_us": percentile(samples, 50),
        "p99_us": percentile(samples, 99),
        "mean_us": statistics.fmean(samples),
        "rps": n / total,
    }


def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="fewer iterations, for a smoke run")
    ap.add_argument("--json", type=Path, help="write the results as JSON to this file")
    return ap


def report(
    name: str, rows: list[tuple[str, dict[str, float]]], metrics: dict[str, float], out: Path | None
) -> None:
    print(f"\n{name} — {machine()['cpu']} ({os.cpu_count()} cores)")
    print(f"{'case':<44} {'p50 µs':>10} {'p99 µs':>10} {'req/s':>10}")
    for label, r in rows:
        print(f"{label:<44} {r['p50_us']:>10.1f} {r['p99_us']:>10.1f} {r['rps']:>10.0f}")
    extra = {k: v for k, v in metrics.items() if not any(k.startswith(label) for label, _ in rows)}
    for k, v in extra.items():
        print(f"{k:<44} {v:>10.2f}")
    if out is not None:
        out.write_text(
            json.dumps({"benchmark": name, "machine": machine(), "metrics": metrics}, indent=2)
        )
        print(f"wrote {out}")


# -- pre-signed HTTP requests and a lean load generator (used by benchmarks.events) ------------


def sign_request(
    endpoint: str,
    key: str,
    secret: str,
    service: str,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    region: str = "us-east-1",
) -> bytes:
    """One SigV4-signed HTTP/1.1 request as wire bytes, replayable for the 5-minute skew window.
    The server parses and verifies it like any other; only the client's signing is saved."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    host = endpoint.split("//", 1)[1]
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [
        f"{k}: {v}" for k, v in req.headers.items() if k.lower() not in ("host", "content-length")
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_http_response(reader: Any) -> tuple[int, bytes]:
    """One HTTP/1.1 response from an asyncio stream (Content-Length or chunked): status, body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, (await reader.readexactly(length)) if length else b""
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append((await reader.readexactly(size + 2))[:-2])
        if size == 0:
            return status, b"".join(parts)


def replay_load(
    endpoint: str,
    request: bytes,
    concurrency: int,
    budget: int,
    seconds: float,
    ok: Callable[[int, bytes], bool],
) -> dict[str, float]:
    """``concurrency`` keep-alive connections (asyncio on uvloop) send ``request`` back to back
    until ``budget`` requests or ``seconds``; ``ok(status, body)`` decides what succeeded.
    Returns latency percentiles (µs), successes per second (``rps``), ``ok`` and ``errors``."""
    import asyncio
    import itertools

    import uvloop

    host, port = endpoint.split("//", 1)[1].rsplit(":", 1)
    latencies: list[float] = []
    good = bad = 0

    async def worker(tickets: Any, deadline: float) -> None:
        nonlocal good, bad
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while next(tickets) < budget and time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                status, body = await read_http_response(reader)
                latencies.append((time.perf_counter() - t0) * 1e6)
                if ok(status, body):
                    good += 1
                else:
                    bad += 1
        finally:
            writer.close()

    async def run() -> float:
        tickets = itertools.count()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(tickets, t0 + seconds) for _ in range(concurrency)))
        return time.perf_counter() - t0

    elapsed = uvloop.run(run())
    return {
        "p50_us": percentile(latencies, 50),
        "p99_us": percentile(latencies, 99),
        "mean_us": statistics.fmean(latencies) if latencies else float("nan"),
        "rps": good / elapsed,
        "ok": float(good),
        "errors": float(bad),
    }


class Bench:
    """The server under test (a ``lambdamaker.testing.ServerProcess``) and pre-signed request
    builders for its JSON protocols."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.endpoint: str = server.endpoint_url
        self.key, self.secret = server.credentials()

    def json_request(
        self, service: str, target: str, version: str, params: dict[str, Any]
    ) -> bytes:
        return sign_request(
            self.endpoint,
            self.key,
            self.secret,
            service,
            "POST",
            "/",
            json.dumps(params).encode(),
            {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target},
        )


Part = Callable[[Any, Path, bool, "list[tuple[str, dict[str, float]]]", "dict[str, float]"], None]
LocalPart = Callable[[bool, "list[tuple[str, dict[str, float]]]", "dict[str, float]"], None]


def run_parts(
    name: str,
    doc: str,
    server_parts: dict[str, Part],
    *,
    bench: Callable[[Any], Any] = Bench,
    local_parts: dict[str, LocalPart] | None = None,
    server_args: dict[str, list[str]] | None = None,
) -> None:
    """A benchmark's ``main``: ``--only`` picks parts; local parts run in this process, each
    server part against a fresh server (``part(bench, root, quick, rows, metrics)``, started
    with ``server_args[part]`` if given); then the table, the JSON file, and whether each
    ``goal_*`` ratio is met."""
    from lambdamaker.testing import ServerProcess

    local_parts = local_parts or {}
    names = [*local_parts, *server_parts]
    ap = parser(doc)
    ap.add_argument("--only", default=",".join(names), help=f"comma-separated: {','.join(names)}")
    args = ap.parse_args()
    only = set(args.only.split(","))
    rows: list[tuple[str, dict[str, float]]] = []
    metrics: dict[str, float] = {}
    for part_name, local in local_parts.items():
        if part_name in only:
            local(args.quick, rows, metrics)
    with tempfile.TemporaryDirectory(prefix=f"lambdamaker-bench-{name}-") as tmp:
        root = Path(tmp)
        for part_name, part in server_parts.items():
            if part_name not in only:
                continue
            extra = (server_args or {}).get(part_name)
            with ServerProcess(root / f"data-{part_name}", extra_args=extra) as server:
                part(bench(server), root, args.quick, rows, metrics)
    report(name, rows, metrics, args.json)
    for key, value in metrics.items():
        if key.startswith("goal_"):
            print(f"{key:<44} {'met' if value >= 1 else 'NOT met'} ({value:.2f}x the goal)")
