"""One execution's inputs and outcome, and the services the interpreter is handed.

``interpreter.run_execution(spec, services) -> Outcome`` walks ``spec.definition``. The caller
(the stepfunctions provider, or a test) builds the ``ExecutionServices``: where events go
(``journal``), what Tasks do (``registry``), how task tokens are made and awaited (``tokens``),
and time (``clock`` reads seconds since the epoch; ``sleep`` waits, so a test can advance a
fake clock instead).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lambdamaker.engines.workflows.history import Journal
from lambdamaker.engines.workflows.tasks import IntegrationRegistry

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
ABORTED = "ABORTED"
TIMED_OUT = "TIMED_OUT"


@dataclass
class ExecutionSpec:
    execution_arn: str
    state_machine_arn: str
    state_machine_name: str
    name: str
    definition: dict[str, Any]
    """The parsed, validated definition."""
    input: Any
    """The parsed execution input (a JSON value)."""
    start_time: datetime
    role_arn: str = ""
    region: str = "us-east-1"
    account_id: str = "000000000000"
    type: str = "STANDARD"
    redrive_count: int = 0
    state_machine_version_arn: str | None = None
    state_machine_alias_arn: str | None = None


@dataclass
class Outcome:
    status: str
    """SUCCEEDED, FAILED, ABORTED or TIMED_OUT."""
    output: Any = None
    error: str | None = None
    cause: str | None = None


class TokenBroker(Protocol):
    """Task tokens for ``.waitForTaskToken`` and activities (kept by the provider, durably)."""

    def new_token(self, execution_arn: str, step: str) -> str:
        """A token for the task visit ``step``; the same step gets the same token on replay."""
        ...

    async def wait(self, token: str, heartbeat_seconds: float | None) -> Any:
        """The output sent with SendTaskSuccess (parsed JSON); raises ``StatesError`` for
        SendTaskFailure, and ``States.Timeout`` marked ``heartbeat`` (which Retry/Catch
        ``States.HeartbeatTimeout`` also take) when no heartbeat came in time."""
        ...

    def discard(self, token: str) -> None:
        """The task ended another way (timeout, abort): later Send* calls get TaskTimedOut."""
        ...


class ActivityStarts(Protocol):
    """Optional on a ``TokenBroker``: tells the Task state when a worker took an activity task
    (the interpreter then appends ``ActivityStarted`` itself, so the journal numbers it)."""

    async def activity_started(self, token: str) -> tuple[bool, str | None]:
        """Wait until the activity task of ``token`` was handed to a worker, or has an outcome:
        ``(taken, worker name)``; ``taken`` is False when the task ended without a worker
        (nothing to record). The same answer on replay after a crash."""
        ...


class ItemStore(Protocol):
    """S3 as a Distributed Map's ItemReader and ResultWriter see it (the service layer backs it
    with the S3 provider, under the execution's account and region)."""

    async def get_object(self, bucket: str, key: str) -> bytes:
        """The object's body; raises ``StatesError`` (the error and cause AWS reports, e.g.
        ``S3.NoSuchKey`` / ``S3.NoSuchBucket``) when it cannot be read."""
        ...

    async def list_objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        """Every object under ``prefix`` in key order, as ListObjectsV2's ``Contents`` entries
        (``Key``, ``Size``, ``ETag``, ``LastModified`` (a datetime or epoch seconds),
        ``StorageClass``), all pages joined; ``StatesError`` as ``get_object``."""
        ...

    async def put_object(self, bucket: str, key: str, body: bytes) -> None:
        """Write (replace) one object; ``StatesError`` when it cannot be written."""
        ...


@dataclass
class MapRunCounts:
    """DescribeMapRun's ``itemCounts`` / ``executionCounts`` (one child per iteration)."""

    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    total: int = 0
    results_written: int = 0


class MapRunSink(Protocol):
    """Where a Distributed Map's runs are recorded for DescribeMapRun / ListMapRuns.

    Every call is idempotent per ``map_run_arn``: after a crash the execution is replayed and
    the same run (same ARN, taken from the recorded MapRunStarted event) is started again."""

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
    ) -> None: ...

    async def progress(self, map_run_arn: str, counts: MapRunCounts) -> None: ...

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
        """``status``: SUCCEEDED, FAILED or ABORTED."""
        ...


@dataclass
class ExecutionServices:
    journal: Journal
    registry: IntegrationRegistry
    tokens: TokenBroker | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    items: ItemStore | None = None
    """S3 for Map's ItemReader / ResultWriter (None: they fail with States.ItemReaderFailed /
    States.ResultWriterFailed)."""
    map_runs: MapRunSink | None = None
    """Records Distributed Map runs (None: runs only appear as MapRun* events)."""
