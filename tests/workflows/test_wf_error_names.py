"""Error names as Retry/Catch and the error output see them (AWS's docs on error handling and
its recorded executions): a missed heartbeat is ``States.Timeout`` that
``States.HeartbeatTimeout`` also takes; a Task's oversized integration result is a
``States.DataLimitExceeded`` that ``States.ALL`` takes, unlike the terminal one of an oversized
state output; a failure without error or cause has ``null`` in its error output."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from lambdamaker.engines.workflows import retries
from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec, Outcome
from lambdamaker.engines.workflows.interpreter import run_execution
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskRequest
from lambdamaker.testing import FakeClock

RAISE = "arn:aws:states:::test:raise"


def catchers(*names: str) -> list[dict[str, Any]]:
    return [{"ErrorEquals": [name], "Next": "X"} for name in names]


def test_a_missed_heartbeat_is_states_timeout_that_heartbeat_timeout_also_takes() -> None:
    missed = StatesError("States.Timeout", "", heartbeat=True)
    assert missed.error == "States.Timeout"
    assert retries.find(catchers("States.HeartbeatTimeout"), missed, in_task=True) == 0
    assert retries.find(catchers("States.Timeout"), missed, in_task=True) == 0
    assert retries.find(catchers("States.ALL"), missed, in_task=True) == 0
    assert retries.find(catchers("States.TaskFailed"), missed, in_task=True) is None
    # TimeoutSeconds running out is not a heartbeat: States.HeartbeatTimeout leaves it.
    plain = StatesError("States.Timeout", "")
    assert retries.find(catchers("States.HeartbeatTimeout"), plain, in_task=True) is None


def test_data_limit_exceeded_is_terminal_unless_an_integration_result_raised_it() -> None:
    terminal = StatesError("States.DataLimitExceeded", "state output")
    assert retries.find(catchers("States.ALL"), terminal, in_task=True) is None
    assert retries.find(catchers("States.DataLimitExceeded"), terminal, in_task=True) == 0
    result = StatesError("States.DataLimitExceeded", "task result", terminal=False)
    assert retries.find(catchers("States.ALL"), result, in_task=True) == 0
    runtime = StatesError("States.Runtime", "bad path")
    assert retries.find(catchers("States.ALL"), runtime, in_task=True) is None
    # Names alone keep the old rules.
    assert retries.find(catchers("States.ALL"), "States.DataLimitExceeded", in_task=True) is None


def test_the_error_output_has_null_for_a_missing_error_or_cause() -> None:
    assert StatesError(None, None).output() == {"Error": None, "Cause": None}
    assert StatesError("E", None).output() == {"Error": "E", "Cause": None}
    assert StatesError("E").output() == {"Error": "E", "Cause": ""}


def _execute(definition: dict[str, Any], error: StatesError) -> Outcome:
    async def raise_it(request: TaskRequest) -> Any:
        raise error

    registry = IntegrationRegistry()
    registry.register(RAISE, raise_it)
    clock = FakeClock(1_700_000_000)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    spec = ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:execution:sm:run",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        state_machine_name="sm",
        name="run",
        definition=definition,
        input={"in": 1},
        start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    services = ExecutionServices(MemoryJournal(clock), registry, clock=clock, sleep=sleep)
    return asyncio.run(run_execution(spec, services))


def _caught_by_all() -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": RAISE,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "X"}],
                "End": True,
            },
            "X": {"Type": "Pass", "End": True},
        },
    }


def test_catch_passes_null_error_and_cause_on() -> None:
    outcome = _execute(_caught_by_all(), StatesError(None, None))
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == {"in": 1, "err": {"Error": None, "Cause": None}}


def test_states_all_catches_an_oversized_integration_result() -> None:
    error = StatesError("States.DataLimitExceeded", "too big", terminal=False)
    outcome = _execute(_caught_by_all(), error)
    assert outcome.output == {
        "in": 1,
        "err": {"Error": "States.DataLimitExceeded", "Cause": "too big"},
    }
    outcome = _execute(_caught_by_all(), StatesError("States.DataLimitExceeded", "too big"))
    assert (outcome.status, outcome.error) == ("FAILED", "States.DataLimitExceeded")
