"""What every benchmark shares: machine facts, percentiles, the table and the JSON file."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
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
