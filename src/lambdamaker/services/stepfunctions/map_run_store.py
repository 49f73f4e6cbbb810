"""``StoredMapRuns``: the engine's ``MapRunSink`` on ``sfn_map_runs`` (DescribeMapRun and
ListMapRuns read what it writes).

Invariants:
- ``start`` is an upsert per map run ARN: a run replayed after a crash (same ARN, from the
  recorded MapRunStarted) is RUNNING again with its configuration, and its counts restart as
  the replay re-walks its iterations;
- ``progress`` is coalesced: at most one write per run is in flight and it carries the latest
  counts, so a run of a thousand items does not cost a thousand transactions; ``finish`` waits
  for that write and then commits the final status, counts and stop time, so a finished run's
  row never goes back to RUNNING counts;
- UpdateMapRun changes ``max_concurrency`` / ``tolerated_*`` on the row only: a run already
  going keeps the limits it started with (reported by DescribeMapRun as updated).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from lambdamaker.engines.workflows.execution import MapRunCounts
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.journal import to_us
from lambdamaker.store import Store

RUNNING = "RUNNING"


def counts_json(counts: MapRunCounts) -> str:
    return json.dumps(asdict(counts), separators=(",", ":"))


def api_counts(text: str | None) -> dict[str, int]:
    """DescribeMapRun's ``itemCounts`` / ``executionCounts`` from the stored counts."""
    stored: dict[str, Any] = json.loads(text or "{}")
    return {
        "pending": int(stored.get("pending", 0)),
        "running": int(stored.get("running", 0)),
        "succeeded": int(stored.get("succeeded", 0)),
        "failed": int(stored.get("failed", 0)),
        "timedOut": 0,
        "aborted": int(stored.get("aborted", 0)),
        "total": int(stored.get("total", 0)),
        "resultsWritten": int(stored.get("results_written", 0)),
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }


class StoredMapRuns:
    """``MapRunSink`` backed by the store (one per runtime, shared by every execution)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._latest: dict[str, MapRunCounts] = {}
        self._writing: dict[str, asyncio.Task[None]] = {}

    async def _run(self, fn: Any, *args: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def start(
        self,
        map_run_arn: str,
        *,
        execution_arn: str,
        state_machine_arn: str,
        max_concurrency: int,
        tolerated_failure_count: int,
        tolerated_failure_percentage: float,
        start_time: float,
    ) -> None:
        values = {
            "execution_arn": execution_arn,
            "status": RUNNING,
            "start_us": to_us(start_time),
            "stop_us": None,
            "max_concurrency": max_concurrency,
            "tolerated_failure_count": tolerated_failure_count,
            "tolerated_failure_percentage": tolerated_failure_percentage,
            "counts": counts_json(MapRunCounts()),
        }
        await self._run(self._upsert, map_run_arn, values)

    def _upsert(self, arn: str, values: dict[str, Any]) -> None:
        with self.store.begin() as conn:
            found = conn.execute(sa.select(t.map_runs.c.arn).where(t.map_runs.c.arn == arn)).first()
            if found is None:
                conn.execute(sa.insert(t.map_runs).values(arn=arn, **values))
            else:
                # A replay: the first start time stays, as the run's ARN does.
                values = {k: v for k, v in values.items() if k != "start_us"}
                conn.execute(sa.update(t.map_runs).where(t.map_runs.c.arn == arn).values(**values))

    def _write_counts(self, arn: str, counts: str, final: dict[str, Any] | None) -> None:
        with self.store.begin() as conn:
            query = sa.update(t.map_runs).where(t.map_runs.c.arn == arn)
            if final is None:
                query = query.where(t.map_runs.c.status == RUNNING)
            conn.execute(query.values(counts=counts, **(final or {})))

    async def progress(self, map_run_arn: str, counts: MapRunCounts) -> None:
        self._latest[map_run_arn] = counts
        if map_run_arn not in self._writing:
            self._writing[map_run_arn] = asyncio.get_running_loop().create_task(
                self._drain(map_run_arn)
            )

    async def _drain(self, arn: str) -> None:
        try:
            while arn in self._latest:
                counts = self._latest.pop(arn)
                await self._run(self._write_counts, arn, counts_json(counts), None)
        finally:
            self._writing.pop(arn, None)

    async def finish(
        self,
        map_run_arn: str,
        status: str,
        counts: MapRunCounts,
        *,
        stop_time: float,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        self._latest.pop(map_run_arn, None)
        pending = self._writing.get(map_run_arn)
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)
        final = {"status": status, "stop_us": to_us(stop_time)}
        await self._run(self._write_counts, map_run_arn, counts_json(counts), final)
