"""A Distributed Map's run: its ARN, its child executions' records, its failure tolerance.

A Distributed Map state starts one Map Run (``MapRunStarted {mapRunArn}``) whose iterations
are AWS's child executions; it ends with ``MapRunSucceeded`` or ``MapRunFailed {error,
cause}`` before the state's own ``MapStateSucceeded`` / ``MapStateFailed``.

The run ARN is ``arn:<partition>:states:<region>:<account>:mapRun:<machine>/<label>:<uuid>``
(``<label>`` is the state's ``Label``, else a uuid). It is made once: a replay takes it from
the recorded MapRunStarted event, so the ResultWriter's keys and the ``MapRunSink`` records
name the same run after a crash. Child execution names are derived from the run ARN and the
iteration index (uuid5), so they too are stable across replays.

Tolerance (AWS's "failure threshold"): with neither ``ToleratedFailureCount`` nor
``ToleratedFailurePercentage`` any failed child fails the run; otherwise the run fails as soon
as the failures exceed either threshold given (count: more than N children failed;
percentage: failed * 100 / total above P), with ``States.ExceedToleratedFailureThreshold``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lambdamaker.engines.workflows.errors import EXCEED_TOLERATED_FAILURE_THRESHOLD, StatesError
from lambdamaker.engines.workflows.execution import ExecutionSpec, MapRunCounts, MapRunSink

THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
PENDING = "PENDING"
RUNNING = "RUNNING"


def new_arn(spec: ExecutionSpec, label: str | None) -> str:
    partition = spec.execution_arn.split(":")[1] if spec.execution_arn.count(":") > 1 else "aws"
    name = label or str(uuid.uuid4())
    return (
        f"arn:{partition}:states:{spec.region}:{spec.account_id}:mapRun:"
        f"{spec.state_machine_name}/{name}:{uuid.uuid4()}"
    )


def run_id(map_run_arn: str) -> str:
    """The run's uuid: the ARN's last part (the ResultWriter's folder)."""
    return map_run_arn.rsplit(":", 1)[-1]


@dataclass
class Child:
    """One iteration as a child execution (what the ResultWriter reports)."""

    index: int
    input: Any
    status: str = PENDING
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: float | None = None
    stop: float | None = None


def exceeded(failures: int, total: int, count: float | None, percentage: float | None) -> bool:
    if failures == 0:
        return False
    if count is None and percentage is None:
        return True
    if count is not None and failures > count:
        return True
    return percentage is not None and total > 0 and failures * 100.0 / total > percentage


def threshold_error() -> StatesError:
    return StatesError(EXCEED_TOLERATED_FAILURE_THRESHOLD, THRESHOLD_CAUSE)


class MapRun:
    """One run's bookkeeping: child records, counts, and the optional ``MapRunSink``."""

    def __init__(
        self,
        arn: str,
        spec: ExecutionSpec,
        sink: MapRunSink | None,
    ) -> None:
        self.arn = arn
        self.spec = spec
        self.sink = sink
        self.children: list[Child] = []
        machine_part = arn.split(":mapRun:", 1)[-1].rsplit(":", 1)[0]
        prefix = spec.state_machine_arn.split(":stateMachine:", 1)[0]
        self.child_machine_arn = f"{prefix}:stateMachine:{machine_part}"
        self.child_execution_prefix = f"{prefix}:execution:{machine_part}:"

    def child_name(self, index: int) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.arn}#{index}"))

    def counts(self) -> MapRunCounts:
        counts = MapRunCounts(total=len(self.children))
        for child in self.children:
            if child.status == SUCCEEDED:
                counts.succeeded += 1
            elif child.status == FAILED:
                counts.failed += 1
            elif child.status == RUNNING:
                counts.running += 1
            else:
                counts.pending += 1
        return counts

    async def start(
        self, *, max_concurrency: int, count: float | None, percentage: float | None, now: float
    ) -> None:
        if self.sink is not None:
            await self.sink.start(
                self.arn,
                execution_arn=self.spec.execution_arn,
                state_machine_arn=self.spec.state_machine_arn,
                max_concurrency=max_concurrency,
                tolerated_failure_count=int(count or 0),
                tolerated_failure_percentage=float(percentage or 0.0),
                start_time=now,
            )

    async def progress(self) -> None:
        if self.sink is not None:
            await self.sink.progress(self.arn, self.counts())

    async def finish(
        self, status: str, *, now: float, error: StatesError | None = None, written: int = 0
    ) -> None:
        if self.sink is None:
            return
        counts = self.counts()
        counts.results_written = written
        await self.sink.finish(
            self.arn,
            status,
            counts,
            stop_time=now,
            error=error.error if error else None,
            cause=error.cause if error else None,
        )
