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
        SendTaskFailure, and ``States.HeartbeatTimeout`` when no heartbeat came in time."""
        ...

    def discard(self, token: str) -> None:
        """The task ended another way (timeout, abort): later Send* calls get TaskTimedOut."""
        ...


@dataclass
class ExecutionServices:
    journal: Journal
    registry: IntegrationRegistry
    tokens: TokenBroker | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
