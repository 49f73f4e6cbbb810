"""Workflows benchmark: Step Functions state transitions/s, Express and Standard, and the floor.

All in one run on one machine; the store at its default ``synchronous=FULL`` (SQLite, WAL).
Three definitions, each state a Pass doing the dict work every JSONPath state does (a
``Parameters`` template reading a path from the input, the result placed by ``ResultPath`` into a
copy of the input):

- *chain*: 50 Pass states in a row (50 transitions);
- *map*: a Map over 1,000 items whose processor is 2 Pass states (1 + 2,000 transitions);
- *parallel*: 4 branches of 10 Pass states (1 + 40 transitions).

A transition is a state entered (how AWS counts them for billing). Figures:

(a) engine, in process: ``run_execution`` on the journal an Express execution without logging
    runs on, one execution after the other on one event loop: the interpreter itself; beside
    it the same on the journal that builds and keeps every event (Express with logging);
(b) Express through the server: StartSyncExecution, pre-signed and replayed on 8 keep-alive
    connections (asyncio on uvloop), transitions/s = executions/s x transitions per execution;
    and Express StartExecution (async) started/s;
(c) Standard through the server: StartExecution of many executions at once (pre-signed, 16
    connections), then wait until every one has SUCCEEDED (ListExecutions); transitions/s over
    the time from the first start to the last end, with every event durably journalled (group
    commit); StartExecution's started/s on its own.

The peer (the physical floor) is a plain Python loop doing the same dict work per transition:
the template rendered into a new dict, the input copied and the result set at the ResultPath.
Ratios quoted are measured in the same run.

Goals (issue 6), printed as ratios and stored in the JSON metrics: Express >= 20,000
transitions/s (the slowest in-process shape) and within 10x of the floor; Standard, durable,
>= 2,000 transitions/s (the slowest shape).

Run: ``python -m benchmarks.workflows [--quick] [--json FILE] [--only PARTS]``.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import Bench as BenchBase
from benchmarks._common import replay_load, run_parts

CONNECTIONS = 16
SYNC_CONNECTIONS = 8
CHAIN = 50
MAP_ITEMS = 1000
BRANCHES, BRANCH_LENGTH = 4, 10
ROLE = "arn:aws:iam::000000000000:role/bench"

Rows = list[tuple[str, dict[str, float]]]
Metrics = dict[str, float]


def rate_row(
    rps: float, p50_us: float = float("nan"), p99_us: float = float("nan")
) -> dict[str, float]:
    return {"p50_us": p50_us, "p99_us": p99_us, "rps": rps}


# -- the definitions ----------------------------------------------------------------------------


def pass_state(k: int, following: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Pass",
        "Parameters": {"value.$": "$.value", "step": k},
        "ResultPath": "$.last",
    }
    if following is None:
        state["End"] = True
    else:
        state["Next"] = following
    return state


def chain(n: int, prefix: str = "S") -> dict[str, Any]:
    names = [f"{prefix}{k}" for k in range(n)]
    states = {
        name: pass_state(k, names[k + 1] if k + 1 < n else None) for k, name in enumerate(names)
    }
    return {"StartAt": names[0], "States": states}


def definitions() -> dict[str, tuple[dict[str, Any], Any, int]]:
    """``shape -> (definition, input, transitions per execution)``."""
    processor = chain(2, "P")
    processor["ProcessorConfig"] = {"Mode": "INLINE"}
    mapped = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": processor,
                "ResultPath": "$.results",
                "End": True,
            }
        },
    }
    items = [{"value": i} for i in range(MAP_ITEMS)]
    parallel = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Branches": [chain(BRANCH_LENGTH, f"B{b}_") for b in range(BRANCHES)],
                "ResultPath": "$.branches",
                "End": True,
            }
        },
    }
    return {
        "chain": (chain(CHAIN), {"value": 1}, CHAIN),
        "map": (mapped, {"value": 1, "items": items}, 1 + 2 * MAP_ITEMS),
        "parallel": (parallel, {"value": 1}, 1 + BRANCHES * BRANCH_LENGTH),
    }


# -- the floor ----------------------------------------------------------------------------------


def floor_transition(data: dict[str, Any], k: int) -> dict[str, Any]:
    """One Pass state's dict work: Parameters rendered, ResultPath into a copy of the input."""
    result = {"value": data["value"], "step": k}
    out = dict(data)
    out["last"] = result
    return out


def floor_rate(n: int) -> float:
    data: dict[str, Any] = {"value": 1}
    t0 = time.perf_counter()
    for _ in range(n // CHAIN):
        for k in range(CHAIN):
            data = floor_transition(data, k)
    return (n // CHAIN) * CHAIN / (time.perf_counter() - t0)


# -- (a) the engine in process ------------------------------------------------------------------


def engine_rate(
    definition: dict[str, Any], value: Any, per_execution: int, n: int, *, logged: bool = False
) -> float:
    """Transitions/s of ``n`` executions in a row; ``logged``: on the journal that builds and
    keeps every event (an Express execution with logging), else on the quiet one."""
    from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec
    from lambdamaker.engines.workflows.interpreter import run_execution
    from lambdamaker.engines.workflows.tasks import IntegrationRegistry
    from lambdamaker.services.stepfunctions.express_journal import QuietJournal
    from lambdamaker.services.stepfunctions.journal import MemoryJournal

    journal_type = MemoryJournal if logged else QuietJournal

    async def run() -> float:
        t0 = time.perf_counter()
        for i in range(n):
            spec = ExecutionSpec(
                execution_arn=f"arn:aws:states:us-east-1:000000000000:express:bench:{i}",
                state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:bench",
                state_machine_name="bench",
                name=str(i),
                definition=definition,
                input=value,
                start_time=datetime.now(UTC),
                type="EXPRESS",
            )
            services = ExecutionServices(journal=journal_type(), registry=IntegrationRegistry())
            outcome = await run_execution(spec, services)
            assert outcome.status == "SUCCEEDED", outcome
        return n * per_execution / (time.perf_counter() - t0)

    return asyncio.run(run())


def engine_part(quick: bool, rows: Rows, metrics: Metrics) -> None:
    floor = floor_rate(200_000 if quick else 2_000_000)
    rows.append(("peer: Python loop, same dict work (transitions/s)", rate_row(floor)))
    metrics["peer_floor_transitions_per_s"] = floor
    slowest = float("inf")
    for shape, (definition, value, per_execution) in definitions().items():
        n = max(2, (20_000 if quick else 200_000) // per_execution)
        engine_rate(definition, value, per_execution, max(1, n // 10))  # warm up
        rate = engine_rate(definition, value, per_execution, n)
        rows.append((f"engine: express {shape} (transitions/s)", rate_row(rate)))
        metrics[f"engine_express_{shape}_transitions_per_s"] = rate
        metrics[f"engine_express_{shape}_floor_over_engine"] = floor / rate
        slowest = min(slowest, rate)
        logged = engine_rate(definition, value, per_execution, max(1, n // 2), logged=True)
        rows.append((f"engine: express {shape}, events built (transitions/s)", rate_row(logged)))
        metrics[f"engine_express_{shape}_logged_transitions_per_s"] = logged
    metrics["goal_express_transitions_ratio"] = slowest / 20_000
    # "within 10x of the floor": the goal is met when floor / engine <= 10.
    metrics["goal_express_within_10x_floor_ratio"] = 10 / (floor / slowest)


# -- the server parts ---------------------------------------------------------------------------


class Bench(BenchBase):
    def sfn(self, target: str, params: dict[str, Any]) -> bytes:
        return self.json_request("states", f"AWSStepFunctions.{target}", "1.0", params)

    def load(self, request: bytes, budget: int, connections: int, seconds: float = 120) -> Any:
        return replay_load(
            self.endpoint, request, connections, budget, seconds, lambda s, _: s == 200
        )


def create_machine(sfn: Any, name: str, definition: dict[str, Any], kind: str) -> str:
    return str(
        sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE, type=kind
        )["stateMachineArn"]
    )


def express_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    sfn = bench.server.client("stepfunctions")
    for shape, (definition, value, per_execution) in definitions().items():
        arn = create_machine(sfn, f"express-{shape}", definition, "EXPRESS")
        request = bench.sfn(
            "StartSyncExecution", {"stateMachineArn": arn, "input": json.dumps(value)}
        )
        budget = max(16, (4_000 if quick else 40_000) // per_execution)
        bench.load(request, max(8, budget // 10), SYNC_CONNECTIONS)  # warm up
        r = bench.load(request, budget, SYNC_CONNECTIONS)
        executions = r["rps"]
        r["rps"] = executions * per_execution
        rows.append((f"server: express sync {shape} x{SYNC_CONNECTIONS} (transitions/s)", r))
        metrics[f"express_sync_{shape}_transitions_per_s"] = r["rps"]
        metrics[f"express_sync_{shape}_executions_per_s"] = executions
    arn = create_machine(sfn, "express-async", chain(CHAIN), "EXPRESS")
    request = bench.sfn("StartExecution", {"stateMachineArn": arn, "input": '{"value": 1}'})
    r = bench.load(request, 500 if quick else 5000, CONNECTIONS)
    rows.append((f"server: express StartExecution x{CONNECTIONS} (started/s)", r))
    metrics["express_started_per_s"] = r["rps"]


def count_succeeded(sfn: Any, arn: str) -> int:
    total, token = 0, None
    while True:
        page = sfn.list_executions(
            stateMachineArn=arn,
            statusFilter="SUCCEEDED",
            maxResults=1000,
            **({"nextToken": token} if token else {}),
        )
        total += len(page["executions"])
        token = page.get("nextToken")
        if not token:
            return total


def standard_part(bench: Bench, root: Path, quick: bool, rows: Rows, metrics: Metrics) -> None:
    sfn = bench.server.client("stepfunctions")
    slowest = float("inf")
    for shape, (definition, value, per_execution) in definitions().items():
        arn = create_machine(sfn, f"standard-{shape}", definition, "STANDARD")
        request = bench.sfn("StartExecution", {"stateMachineArn": arn, "input": json.dumps(value)})
        n = max(4, (4_000 if quick else 40_000) // per_execution)
        t0 = time.perf_counter()
        r = bench.load(request, n, CONNECTIONS)
        started = int(r["ok"])
        done = 0
        while done < started and time.perf_counter() - t0 < 600:
            time.sleep(0.2)  # polling the count, not timing logic
            done = count_succeeded(sfn, arn)
        elapsed = time.perf_counter() - t0
        rate = done * per_execution / elapsed
        rows.append(
            (f"server: standard {shape}, {started} in flight (transitions/s)", rate_row(rate))
        )
        metrics[f"standard_{shape}_transitions_per_s"] = rate
        metrics[f"standard_{shape}_unfinished"] = float(started - done)
        slowest = min(slowest, rate)
    metrics["goal_standard_transitions_ratio"] = slowest / 2_000
    arn = create_machine(sfn, "standard-start", {"StartAt": "W", "States": {"W": {
        "Type": "Wait", "Seconds": 3600, "End": True}}}, "STANDARD")  # fmt: skip
    request = bench.sfn("StartExecution", {"stateMachineArn": arn, "input": "{}"})
    r = bench.load(request, 500 if quick else 5000, CONNECTIONS)
    rows.append((f"server: standard StartExecution x{CONNECTIONS} (started/s)", r))
    metrics["standard_started_per_s"] = r["rps"]


def main() -> None:
    run_parts(
        "workflows",
        __doc__ or "",
        {"express": express_part, "standard": standard_part},
        bench=Bench,
        local_parts={"engine": engine_part},
    )


if __name__ == "__main__":
    main()
