"""Functions benchmark: warm invoke latency, cold starts, throughput, and Ray as the peer.

All in one run on one machine (DESIGN.md, "Benchmarks"; issue 3, "Done means"):

(a) Warm invoke latency of a no-op handler (returns its event):
    - in process, through ``FunctionEngine.invoke`` (no HTTP; IPC to the environment process);
    - over HTTP with a lean signed client (httpx + botocore's SigV4 signer, per request);
    - over HTTP with raw ``http.client`` replaying one signed request (the server's cost with
      almost no client cost on top);
    - over HTTP with boto3.
(b) Cold start of a handler that imports numpy, pandas and scikit-learn and fits a tiny model at
    init, three ways:
    - a fresh interpreter: ``python -c`` that imports the handler module and invokes it once,
      timed to its first response (what Lambda does; the peer);
    - a zygote fork: the zygote preloaded the handler's imports, snapshot off;
    - a per-version snapshot fork: the handler module already imported and initialized.
    New environments are forced with a zero keep-alive (``FixedKeepAlive(0)``) and
    ``engine.tick()`` between invocations, so the zygote and the snapshot survive and each timed
    invocation is a fork. The first invocation (which builds the template) is reported apart.
(c) Sync invocations per second over HTTP at concurrency 1, 8 and 64 (asyncio on uvloop, one
    keep-alive connection each, pre-signed requests; bounded by count and time; loopback only),
    with the CPU time per call of the client and of the server's process tree.
(d) The same no-op call as a Ray actor method (``ray.get(actor.f.remote(x))``, Ray started
    locally with 2 CPUs in a child process so its threads do not disturb the rest).
(e) Keep-alive policies, fixed 10 minutes vs the hybrid histogram, replayed on synthetic traces:
    cold-start rate and idle environment-hours (a deterministic simulation, not a timing).

Goals (issue 3) are printed as ratios at the end and stored in the JSON metrics. Which figure is
held against which goal:
- snapshot cold start: p50 wall time of a whole cold ``FunctionEngine.invoke`` (fork, re-seed,
  run the handler), <= 10 ms and >= 100x faster than the fresh interpreter's time to answer;
- HTTP warm overhead: HTTP invoke p50 minus in-process invoke p50 (what HTTP, the gateway and
  the Lambda provider add), <= 0.5 ms. Held against the raw client, whose requests the server
  parses and verifies (SigV4) like any other but which spends almost nothing itself; the lean
  client's figure, which adds the client's own per-request signing and httpx (~0.5 ms here,
  see docs/benchmarks.md, gateway), is printed next to it;
- throughput: the best of concurrency 1/8/64, >= 3,000 invokes/s;
- Ray: Ray actor call p50 over in-process invoke p50 (both a Python call answered by another
  process), >= 2x; the HTTP figure next to Ray's is printed for information.

Run: ``python -m benchmarks.functions [--quick] [--json FILE] [--only PARTS]``.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import parser, percentile, report, time_calls
from benchmarks._invoke_clients import (
    LeanLambdaClient,
    RawInvoker,
    SignedInvoke,
    asgi_exchange,
    asgi_scope,
    inprocess_boto3,
    stats_ms,
    throughput,
)

ACCOUNT = "000000000000"
REGION = "us-east-1"
NOOP_PAYLOAD = b'{"x": 1}'
ML_PAYLOAD = b'{"a": 1.0, "b": 0.5}'
ML_PRELOAD = ("numpy", "pandas", "sklearn", "sklearn.linear_model")
"""What the ML handler imports: the zygote preloads exactly that (the per-function preload
setting a user would write for it)."""

NOOP_HANDLER = """\
def handler(event, context):
    return event
"""

ML_HANDLER = """\
import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression

_rng = np.random.default_rng(0)
_frame = pd.DataFrame(_rng.normal(size=(200, 4)), columns=list("abcd"))
_model = LogisticRegression().fit(_frame.to_numpy(), (_frame["a"] + _frame["b"] > 0).to_numpy())


def handler(event, context):
    row = np.array([[float(event.get(k, 0.0)) for k in "abcd"]])
    return {"score": float(_model.predict_proba(row)[0, 1]), "sklearn": sklearn.__version__}
"""

PARTS = ("ray", "fresh", "engine", "asgi", "http", "keepalive")
ENGINE = "lambdamaker.engines.functions.engine"
LAMBDA_API = "lambdamaker.services.lambda_"

Rows = list[tuple[str, dict[str, float]]]
Metrics = dict[str, float]


@dataclass
class Results:
    rows: Rows = field(default_factory=list)
    """Warm latency and throughput: the shared table (µs, req/s)."""
    cold: Rows = field(default_factory=list)
    """Cold starts, printed in ms in a table of their own."""
    metrics: Metrics = field(default_factory=dict)
    keepalive: list[tuple[str, Any, Any]] = field(default_factory=list)
    """(trace, fixed policy's SimulationResult, hybrid policy's)."""


def runtime_name() -> str:
    minor = sys.version_info.minor
    return f"python3.{minor}" if 10 <= minor <= 13 else "python3.12"


def write_code(root: Path, name: str, source: str) -> Path:
    code = root / name
    code.mkdir(parents=True, exist_ok=True)
    (code / "handler.py").write_text(source)
    return code


def zip_code(code: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(code.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(code).as_posix())
    return buf.getvalue()


# -- (d) the peer: a Ray actor call ----------------------------------------------------------


def ray_peer_child(n: int) -> None:
    """Runs in a child process: time ``ray.get(actor.f.remote(x))``; print the stats as JSON."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:

        @ray.remote
        class Echo:
            def f(self, x: Any) -> Any:
                return x

        actor = Echo.remote()  # type: ignore[attr-defined]
        event = json.loads(NOOP_PAYLOAD)
        ray.get(actor.f.remote(event))
        result = time_calls(lambda: ray.get(actor.f.remote(event)), n, warmup=200)
        print(json.dumps(result), flush=True)
    finally:
        ray.shutdown()


def ray_peer(n: int, res: Results) -> None:
    code = f"from benchmarks.functions import ray_peer_child; ray_peer_child({n})"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=600,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(f"ray peer failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        return
    result = json.loads(lines[-1])
    res.rows.append(("peer: Ray actor call (ray.get(a.f.remote(x)))", result))
    res.metrics["ray_actor_call_p50_us"] = result["p50_us"]
    res.metrics["ray_actor_call_p99_us"] = result["p99_us"]


# -- (b) the peer: a fresh interpreter ---------------------------------------------------------


def fresh_interpreter(code: Path, n: int, res: Results) -> None:
    """Start ``python``, import the handler module, invoke it once: time to the first answer."""
    script = (
        "import sys, json\n"
        f"sys.path.insert(0, {str(code)!r})\n"
        "import handler\n"
        f"result = handler.handler(json.loads({ML_PAYLOAD.decode()!r}), None)\n"
        "sys.stdout.write(json.dumps(result) + '\\n')\n"
        "sys.stdout.flush()\n"
    )
    samples: list[float] = []
    for _ in range(n + 1):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - t0
        proc.stdout.close()
        if proc.wait() != 0 or b"score" not in line:
            raise RuntimeError(f"fresh interpreter run failed: {line!r}")
        samples.append(elapsed)
    samples = samples[1:]  # the first run warms the page cache and writes .pyc files
    r = stats_ms(samples)
    res.cold.append(("fresh interpreter: python, import, 1st invoke", r))
    res.metrics["cold_fresh_interpreter_p50_ms"] = r["p50_us"] / 1000
    res.metrics["cold_fresh_interpreter_p99_ms"] = r["p99_us"] / 1000


# -- (a), (b): the engine in process -----------------------------------------------------------


class NullLogSink:
    """Drops log lines: the benchmark measures the engine, not the log store."""

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        pass


def function_spec(name: str, code: Path, **overrides: Any) -> Any:
    from lambdamaker.engines.functions.spec import FunctionSpec

    digest = hashlib.sha256(zip_code(code)).hexdigest()
    fields: dict[str, Any] = {
        "function_name": name,
        "version": "$LATEST",
        "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        "runtime": runtime_name(),
        "handler": "handler.handler",
        "code_dir": str(code),
        "code_sha256": digest,
        "memory_mb": 512,
        "timeout_s": 60,
        "log_group": f"/aws/lambda/{name}",
        **overrides,
    }
    return FunctionSpec(**fields)


def invoke_request(spec: Any, payload: bytes) -> Any:
    from lambdamaker.engines.functions.spec import InvokeRequest

    return InvokeRequest(
        request_id=str(uuid.uuid4()), payload=payload, invoked_function_arn=spec.function_arn
    )


def check_result(result: Any, expect: bytes) -> None:
    if result.function_error or expect not in result.payload:
        raise RuntimeError(f"unexpected result: {result.function_error} {result.payload[:300]!r}")


@contextmanager
def engine_in(work_dir: Path, **kwargs: Any) -> Iterator[Any]:
    from lambdamaker.engines.functions.engine import FunctionEngine

    engine = FunctionEngine(work_dir=work_dir, logs=NullLogSink(), **kwargs)
    try:
        yield engine
    finally:
        engine.close()


def engine_warm(root: Path, n: int, res: Results) -> None:
    code = write_code(root, "noop", NOOP_HANDLER)
    spec = function_spec("noop", code)
    durations: list[float] = []
    with engine_in(root / "engine-warm") as engine:
        check_result(engine.invoke(spec, invoke_request(spec, NOOP_PAYLOAD)), b'"x"')

        def call() -> None:
            durations.append(engine.invoke(spec, invoke_request(spec, NOOP_PAYLOAD)).duration_ms)

        r = time_calls(call, n, warmup=50)
    res.rows.append(("warm: in-process FunctionEngine.invoke", r))
    res.metrics["warm_inprocess_p50_us"] = r["p50_us"]
    res.metrics["warm_inprocess_p99_us"] = r["p99_us"]
    res.metrics["warm_handler_duration_p50_us"] = percentile(durations, 50) * 1000


def engine_cold(root: Path, n: int, snapshot: bool, res: Results) -> None:
    from lambdamaker.engines.functions.keepalive import FixedKeepAlive

    label = "snapshot" if snapshot else "zygote"
    code = write_code(root, f"ml-{label}", ML_HANDLER)
    spec = function_spec(f"ml-{label}", code, preload=ML_PRELOAD, snapshot=snapshot)
    walls: list[float] = []
    inits: list[float] = []
    with engine_in(root / f"engine-{label}", keepalive=FixedKeepAlive(0)) as engine:
        t0 = time.perf_counter()
        first = engine.invoke(spec, invoke_request(spec, ML_PAYLOAD))
        first_s = time.perf_counter() - t0
        check_result(first, b"score")
        for _ in range(n):
            engine.tick()  # keep-alive 0: the idle environment goes; zygote/snapshot stay
            t0 = time.perf_counter()
            result = engine.invoke(spec, invoke_request(spec, ML_PAYLOAD))
            walls.append(time.perf_counter() - t0)
            check_result(result, b"score")
            if not result.cold_start:
                raise RuntimeError(f"{label}: expected a cold start after tick() with keep-alive 0")
            inits.append(result.init_duration_ms or 0.0)
    r = stats_ms(walls)
    template = "zygote with the preloads" if not snapshot else "zygote, then the snapshot"
    res.cold.append((f"{label}: 1st invoke, starts {template}", stats_ms([first_s])))
    res.cold.append((f"{label} fork: whole cold invoke", r))
    res.metrics[f"cold_{label}_p50_ms"] = r["p50_us"] / 1000
    res.metrics[f"cold_{label}_p99_ms"] = r["p99_us"] / 1000
    res.metrics[f"cold_{label}_init_duration_p50_ms"] = percentile(inits, 50)
    res.metrics[f"cold_{label}_first_invoke_ms"] = first_s * 1000


# -- (a), (c): over HTTP -----------------------------------------------------------------------


def bench_role(iam: Any) -> str:
    """The benchmarks' execution role (created once per server)."""
    try:
        return str(iam.get_role(RoleName="bench-lambda")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        pass
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="bench-lambda", AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def create_function(
    lam: Any, iam: Any, name: str, code: Path, env: dict[str, str] | None = None
) -> str:
    """Through the Lambda API: the function ``name`` from ``code``, Active; its ARN."""
    arn = lam.create_function(
        FunctionName=name,
        Runtime=runtime_name(),
        Role=bench_role(iam),
        Handler="handler.handler",
        Code={"ZipFile": zip_code(code)},
        MemorySize=256,
        Timeout=60,
        Environment={"Variables": env or {}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return str(arn)


def create_noop_function(lam: Any, iam: Any, code: Path) -> None:
    """The function ``noop``, Active, after one cold start."""
    create_function(lam, iam, "noop", code)
    lam.invoke(FunctionName="noop", Payload=NOOP_PAYLOAD)  # the cold start


def http_part(root: Path, n: int, quick: bool, res: Results) -> None:
    from lambdamaker.testing import ServerProcess

    noop = write_code(root, "http-noop", NOOP_HANDLER)
    with ServerProcess(root / "data") as server:
        key, secret = server.credentials()
        lam = server.client("lambda", read_timeout=120)
        iam = server.client("iam")
        create_noop_function(lam, iam, noop)

        lean = LeanLambdaClient(server.endpoint_url, key, secret)
        raw = RawInvoker(SignedInvoke.sign(server.endpoint_url, key, secret, "noop", NOOP_PAYLOAD))
        cases: list[tuple[str, str, Callable[[], object]]] = [
            ("warm: HTTP raw http.client (pre-signed)", "warm_http_raw", raw.invoke),
            (
                "warm: HTTP lean client (httpx + SigV4)",
                "warm_http_lean",
                lambda: lean.invoke("noop", NOOP_PAYLOAD),
            ),
            (
                "warm: HTTP boto3",
                "warm_http_boto3",
                lambda: lam.invoke(FunctionName="noop", Payload=NOOP_PAYLOAD)["Payload"].read(),
            ),
        ]
        for label, slug, fn in cases:
            r = time_calls(fn, n, warmup=50)
            res.rows.append((label, r))
            res.metrics[f"{slug}_p50_us"] = r["p50_us"]
            res.metrics[f"{slug}_p99_us"] = r["p99_us"]
        raw.close()

        budget, seconds = (3000, 3.0) if quick else (40000, 10.0)
        server_pid = server.proc.pid if server.proc is not None else None
        for concurrency in (1, 8, 64):
            signed = SignedInvoke.sign(server.endpoint_url, key, secret, "noop", NOOP_PAYLOAD)
            # Warm-up at the same concurrency: scale out to `concurrency` environments first.
            throughput(signed, concurrency, concurrency * 20, 30.0)
            r = throughput(signed, concurrency, budget, seconds, server_pid)
            res.rows.append((f"throughput: HTTP sync invoke, concurrency {concurrency}", r))
            res.metrics[f"http_invokes_per_s_c{concurrency}"] = r["rps"]
            res.metrics[f"http_invoke_c{concurrency}_p50_us"] = r["p50_us"]
            res.metrics[f"http_invoke_c{concurrency}_p99_us"] = r["p99_us"]
            res.metrics[f"http_invoke_c{concurrency}_client_cpu_us_per_call"] = r[
                "client_cpu_us_per_call"
            ]
            res.metrics[f"http_invoke_c{concurrency}_server_cpu_us_per_call"] = r[
                "server_cpu_us_per_call"
            ]
            if r["errors"]:
                res.metrics[f"http_invoke_c{concurrency}_errors"] = r["errors"]


# -- (a) the same Invoke through the gateway's ASGI app, in process ----------------------------


def gateway_inprocess(root: Path, n: int, res: Results) -> None:
    """Invoke through the gateway's ASGI app called directly (no sockets, no uvicorn): with the
    in-process engine and the raw HTTP figures, it splits the HTTP overhead into the HTTP server's
    share and the gateway + Lambda provider's share."""
    import asyncio

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from lambdamaker import Platform, PlatformConfig
    from lambdamaker.gateway.app import AwsGateway

    noop = write_code(root, "asgi-noop", NOOP_HANDLER)
    platform = Platform(PlatformConfig(data_dir=root / "asgi-data"))
    platform.start()
    try:
        assert platform.admin_key is not None
        key, secret = platform.admin_key.access_key_id, platform.admin_key.secret_access_key
        gateway = AwsGateway(platform)
        create_noop_function(
            inprocess_boto3(gateway, "lambda", key, secret),
            inprocess_boto3(gateway, "iam", key, secret),
            noop,
        )
        url = "http://127.0.0.1:4599/2015-03-31/functions/noop/invocations"
        req = AWSRequest(method="POST", url=url, data=NOOP_PAYLOAD)
        SigV4Auth(Credentials(key, secret), "lambda", REGION).add_auth(req)
        scope = asgi_scope("POST", url, req.headers)

        async def run() -> dict[str, float]:
            for _ in range(50):
                status, _, body = await asgi_exchange(gateway, scope, NOOP_PAYLOAD)
                if status != 200 or b'"x"' not in body:
                    raise RuntimeError(f"in-process Invoke -> {status} {body[:300]!r}")
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                await asgi_exchange(gateway, scope, NOOP_PAYLOAD)
                samples.append(time.perf_counter() - t0)
            return stats_ms(samples)

        r = asyncio.run(run())
    finally:
        platform.close()
    res.rows.append(("warm: in-process gateway Invoke (ASGI app)", r))
    res.metrics["warm_asgi_p50_us"] = r["p50_us"]
    res.metrics["warm_asgi_p99_us"] = r["p99_us"]


# -- keep-alive policies on synthetic traces (no timing: a deterministic simulation) -----------


def synthetic_traces() -> dict[str, list[float]]:
    rng = random.Random(20200715)

    def periodic(period: float, count: int, jitter: float) -> list[float]:
        t, out = 0.0, []
        for _ in range(count):
            t += period + rng.uniform(-jitter, jitter)
            out.append(t)
        return out

    return {
        "every 10 min": periodic(600, 144, 0),
        "every 10 min +-90 s": periodic(600, 144, 90),
        "every 6 h +-5 min": periodic(6 * 3600, 120, 300),
        "erratic (1 min..4 h)": periodic(7290, 300, 7170),
    }


def keepalive_part(res: Results) -> None:
    from lambdamaker.engines.functions.keepalive import (
        FixedKeepAlive,
        HybridHistogramKeepAlive,
        SimulationResult,
        simulate_keepalive,
    )

    for name, trace in synthetic_traces().items():
        fixed: SimulationResult = simulate_keepalive(FixedKeepAlive(600), trace)
        hybrid: SimulationResult = simulate_keepalive(HybridHistogramKeepAlive(), trace)
        res.keepalive.append((name, fixed, hybrid))
        slug = name.split(" (")[0].replace(" ", "_").replace("+-", "pm")
        res.metrics[f"keepalive_{slug}_fixed_cold_rate"] = fixed.cold_start_rate
        res.metrics[f"keepalive_{slug}_hybrid_cold_rate"] = hybrid.cold_start_rate
        res.metrics[f"keepalive_{slug}_hybrid_over_fixed_waste"] = hybrid.wasted_s / fixed.wasted_s


def print_keepalive(res: Results) -> None:
    if not res.keepalive:
        return
    print(
        f"\n{'keep-alive, simulated trace':<28} {'fixed: cold %':>13} {'hybrid: cold %':>14}"
        f" {'fixed: idle h':>13} {'hybrid: idle h':>14}"
    )
    for name, fixed, hybrid in res.keepalive:
        print(
            f"{name:<28} {fixed.cold_start_rate * 100:>13.1f} {hybrid.cold_start_rate * 100:>14.1f}"
            f" {fixed.wasted_s / 3600:>13.1f} {hybrid.wasted_s / 3600:>14.1f}"
        )


# -- goals -------------------------------------------------------------------------------------


def goals(metrics: Metrics) -> list[tuple[str, float, str, bool]]:
    """(what, measured, target, met) for each goal of issue 3 that this run measured."""
    out: list[tuple[str, float, str, bool]] = []
    m = metrics
    if "cold_snapshot_p50_ms" in m:
        v = m["cold_snapshot_p50_ms"]
        out.append(("snapshot cold start p50 (ms)", v, "<= 10", v <= 10))
    if "cold_snapshot_p50_ms" in m and "cold_fresh_interpreter_p50_ms" in m:
        v = m["cold_fresh_interpreter_p50_ms"] / m["cold_snapshot_p50_ms"]
        m["goal_fresh_over_snapshot_x"] = v
        out.append(("fresh interpreter / snapshot cold start (x)", v, ">= 100", v >= 100))
    if "cold_zygote_p50_ms" in m and "cold_fresh_interpreter_p50_ms" in m:
        v = m["cold_fresh_interpreter_p50_ms"] / m["cold_zygote_p50_ms"]
        m["fresh_over_zygote_x"] = v
        out.append(("fresh interpreter / zygote cold start (x)", v, "(info)", True))
    if "warm_http_raw_p50_us" in m and "warm_inprocess_p50_us" in m:
        v = m["warm_http_raw_p50_us"] - m["warm_inprocess_p50_us"]
        m["goal_http_overhead_p50_us"] = v
        out.append(("HTTP warm overhead p50, raw client (µs)", v, "<= 500", v <= 500))
    if "warm_asgi_p50_us" in m and "warm_inprocess_p50_us" in m:
        v = m["warm_asgi_p50_us"] - m["warm_inprocess_p50_us"]
        m["overhead_gateway_and_provider_p50_us"] = v
        out.append(("  of which gateway + Lambda provider (µs)", v, "(info)", True))
    if "warm_asgi_p50_us" in m and "warm_http_raw_p50_us" in m:
        v = m["warm_http_raw_p50_us"] - m["warm_asgi_p50_us"]
        m["overhead_http_server_p50_us"] = v
        out.append(("  of which HTTP server + sockets (µs)", v, "(info)", True))
    if "warm_http_lean_p50_us" in m and "warm_inprocess_p50_us" in m:
        v = m["warm_http_lean_p50_us"] - m["warm_inprocess_p50_us"]
        m["http_overhead_lean_p50_us"] = v
        out.append(("HTTP warm overhead p50, lean client (µs)", v, "(info)", True))
    rates = [m[k] for k in m if k.startswith("http_invokes_per_s_c")]
    if rates:
        v = max(rates)
        m["goal_http_invokes_per_s_best"] = v
        out.append(("sync invokes/s over HTTP, best concurrency", v, ">= 3000", v >= 3000))
    if "ray_actor_call_p50_us" in m and "warm_inprocess_p50_us" in m:
        v = m["ray_actor_call_p50_us"] / m["warm_inprocess_p50_us"]
        m["goal_ray_over_inprocess_x"] = v
        out.append(("Ray actor call / in-process invoke p50 (x)", v, ">= 2", v >= 2))
    if "ray_actor_call_p50_us" in m and "warm_http_raw_p50_us" in m:
        v = m["ray_actor_call_p50_us"] / m["warm_http_raw_p50_us"]
        m["ray_over_http_raw_x"] = v
        out.append(("Ray actor call / HTTP raw invoke p50 (x)", v, "(info)", True))
    return out


def print_goals(table: list[tuple[str, float, str, bool]]) -> None:
    if not table:
        return
    print(f"\n{'goal':<46} {'measured':>10} {'target':>8}  met")
    for what, value, target, met in table:
        mark = "" if target == "(info)" else ("yes" if met else "NO")
        print(f"{what:<46} {value:>10.1f} {target:>8}  {mark}")


def unavailable(module: str) -> str | None:
    """Why ``module`` cannot be imported yet, or None."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return str(exc)
    return None


def main() -> None:
    ap = parser(__doc__ or "")
    ap.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"comma-separated parts to run, of {','.join(PARTS)} (default: all)",
    )
    args = ap.parse_args()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        ap.error(f"unknown parts: {sorted(unknown)}")
    n = 300 if args.quick else 3000
    cold_n = 5 if args.quick else 20
    fresh_n = 3 if args.quick else 10
    res = Results()
    # Others share this machine: what ran before we started is part of the record.
    res.metrics["load_average_1m_at_start"] = os.getloadavg()[0]
    skipped: dict[str, str] = {}
    steps: list[tuple[str, str | None, Callable[[Path], None]]] = [
        ("ray", None, lambda root: ray_peer(n, res)),
        (
            "fresh",
            None,
            lambda root: fresh_interpreter(write_code(root, "ml-fresh", ML_HANDLER), fresh_n, res),
        ),
        ("engine", ENGINE, lambda root: engine_warm(root, n, res)),
        ("engine", ENGINE, lambda root: engine_cold(root, cold_n, False, res)),
        ("engine", ENGINE, lambda root: engine_cold(root, cold_n, True, res)),
        ("asgi", LAMBDA_API, lambda root: gateway_inprocess(root, n, res)),
        ("http", LAMBDA_API, lambda root: http_part(root, n, args.quick, res)),
        ("keepalive", None, lambda root: keepalive_part(res)),
    ]
    with tempfile.TemporaryDirectory(prefix="lm-bench-fn-") as tmp:
        for part, needs, step in steps:
            if part not in parts or part in skipped:
                continue
            missing = unavailable(needs) if needs else None
            if missing:
                skipped[part] = missing
                continue
            try:
                step(Path(tmp))
            except Exception as exc:  # report what ran; list the rest as failed
                skipped[part] = f"failed: {type(exc).__name__}: {str(exc)[:500]}"
    table = goals(res.metrics)
    report("functions", res.rows, res.metrics, args.json)
    print_cold(res.cold)
    print_keepalive(res)
    print_goals(table)
    for part, reason in skipped.items():
        print(f"skipped {part}: {reason}")


def print_cold(cold: Rows) -> None:
    if not cold:
        return
    print(
        f"\n{'cold start (ML handler: numpy, pandas, sklearn)':<52} {'p50 ms':>10} {'p99 ms':>10}"
    )
    for label, r in cold:
        print(f"{label:<52} {r['p50_us'] / 1000:>10.2f} {r['p99_us'] / 1000:>10.2f}")


if __name__ == "__main__":
    main()
