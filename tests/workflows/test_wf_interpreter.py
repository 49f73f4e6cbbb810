"""The ASL interpreter driven in-process: data flow, Retry/Catch, Parallel, Map, timeouts, task
tokens, and replay after a crash (no event appended twice, recorded outcomes reused)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec, Outcome
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.interpreter import run_execution
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskRequest
from lambdamaker.testing import FakeClock

ECHO = "arn:aws:states:::test:echo"
FLAKY = "arn:aws:states:::test:flaky"
SLOW = "arn:aws:states:::test:slow"


class Crash(Exception):
    """The journal 'dies' after a number of appends (a kill -9 between two commits)."""


class CrashingJournal(MemoryJournal):
    def __init__(self, clock: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(clock, **kwargs)
        self.limit = limit

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        if len(self.events) >= self.limit:
            raise Crash
        return await super().append(event_type, details, previous=previous, step=step)


class Tasks:
    """Task handlers that record their calls."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.failures = failures

    def registry(self) -> IntegrationRegistry:
        registry = IntegrationRegistry()
        registry.register(ECHO, self.echo)
        registry.register(FLAKY, self.flaky)
        registry.register(SLOW, self.slow)
        return registry

    async def echo(self, request: TaskRequest) -> Any:
        self.calls.append(("echo", request.parameters))
        return {"echoed": request.parameters}

    async def flaky(self, request: TaskRequest) -> Any:
        self.calls.append(("flaky", request.parameters))
        if self.failures > 0:
            self.failures -= 1
            raise StatesError("Custom.Flaky", "try again")
        return "ok"

    async def slow(self, request: TaskRequest) -> Any:
        await asyncio.sleep(30)
        return "late"


def spec(definition: dict[str, Any], data: Any = None) -> ExecutionSpec:
    return ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:execution:sm:run",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        state_machine_name="sm",
        name="run",
        definition=definition,
        input={} if data is None else data,
        start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def services(journal: Any, tasks: Tasks, clock: FakeClock) -> ExecutionServices:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return ExecutionServices(journal, tasks.registry(), clock=clock, sleep=sleep)


def execute(
    definition: dict[str, Any], data: Any = None, tasks: Tasks | None = None
) -> tuple[Outcome, MemoryJournal]:
    clock = FakeClock(1_700_000_000)
    journal = MemoryJournal(clock)
    outcome = asyncio.run(
        run_execution(spec(definition, data), services(journal, tasks or Tasks(), clock))
    )
    return outcome, journal


def types(journal: MemoryJournal) -> list[str]:
    return [event.type for event in journal.events]


def test_pass_chain_applies_parameters_result_path_and_output_path() -> None:
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Pass",
                "Parameters": {"v.$": "$.x", "name.$": "$$.State.Name"},
                "ResultPath": "$.a",
                "Next": "B",
            },
            "B": {
                "Type": "Pass",
                "Result": {"fixed": 1},
                "ResultPath": "$.b",
                "OutputPath": "$.b",
                "End": True,
            },
        },
    }
    outcome, journal = execute(definition, {"x": 5})
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == {"fixed": 1}
    assert types(journal) == [
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert journal.events[1].details["output"] == '{"x":5,"a":{"v":5,"name":"A"}}'
    assert [event.previous_event_id for event in journal.events] == [1, 2, 3, 4, 5]


def test_task_retries_with_backoff_then_succeeds() -> None:
    tasks = Tasks(failures=2)
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FLAKY,
                "End": True,
                "Retry": [
                    {"ErrorEquals": ["Custom.Flaky"], "IntervalSeconds": 3, "BackoffRate": 2}
                ],
            }
        },
    }
    outcome, journal = execute(definition, tasks=tasks)
    assert outcome.status == "SUCCEEDED" and outcome.output == "ok"
    assert len(tasks.calls) == 3
    failed = [e for e in journal.events if e.type == "TaskFailed"]
    scheduled = [e for e in journal.events if e.type == "TaskScheduled"]
    assert [e.details["error"] for e in failed] == ["Custom.Flaky", "Custom.Flaky"]
    assert (scheduled[1].timestamp - failed[0].timestamp).total_seconds() == pytest.approx(3)
    assert (scheduled[2].timestamp - failed[1].timestamp).total_seconds() == pytest.approx(6)
    assert (
        scheduled[0].details["resourceType"] == "test"
        and scheduled[0].details["resource"] == "flaky"
    )


def test_catch_routes_the_error_output_and_states_all_skips_runtime_errors() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": FLAKY,
                "Next": "Done",
                "Catch": [
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "ResultPath": "$.error",
                        "Next": "Handler",
                    }
                ],
            },
            "Handler": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }
    outcome, _ = execute(definition, {"in": 1}, Tasks(failures=1))
    assert outcome.output == {"in": 1, "error": {"Error": "Custom.Flaky", "Cause": "try again"}}

    bad_path = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "OutputPath": "$.missing", "End": True},
        },
    }
    outcome, _ = execute(bad_path, {})
    assert outcome.status == "FAILED" and outcome.error == "States.Runtime"
    assert outcome.cause is not None
    assert outcome.cause.startswith(
        "An error occurred while executing the state 'P' (entered at the event id #2)."
    )


def test_parallel_runs_branches_and_fails_with_a_branch_error() -> None:
    branch = lambda n: {"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": n, "End": True}}}  # noqa: E731
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": [branch(1), branch(2)], "End": True}},
    }
    outcome, journal = execute(definition)
    assert outcome.output == [1, 2]
    assert types(journal)[:2] == ["ParallelStateEntered", "ParallelStateStarted"]
    assert types(journal)[-3:] == [
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]

    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}}
    definition["States"]["P"]["Branches"] = [branch(1), failing]
    outcome, journal = execute(definition)
    assert (outcome.status, outcome.error, outcome.cause) == ("FAILED", "Boom", "bad")
    assert "ParallelStateFailed" in types(journal)


def test_map_keeps_item_order_under_max_concurrency() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 2,
                "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": ECHO, "End": True}},
                },
                "End": True,
            }
        },
    }
    outcome, journal = execute(definition, {"items": ["a", "b", "c"]})
    assert outcome.output == [{"echoed": {"value": v, "index": i}} for i, v in enumerate("abc")]
    assert types(journal).count("MapIterationSucceeded") == 3
    started = next(e for e in journal.events if e.type == "MapStateStarted")
    assert started.details == {"length": 3}


def test_task_timeout_is_states_timeout() -> None:
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": SLOW, "TimeoutSeconds": 1, "End": True}},
    }
    outcome, journal = execute(definition)
    assert (outcome.status, outcome.error) == ("FAILED", "States.Timeout")
    assert "TaskTimedOut" in types(journal)


def test_replay_after_a_crash_appends_no_event_twice_and_reuses_task_outcomes() -> None:
    definition = {
        "StartAt": "T1",
        "States": {
            "T1": {"Type": "Task", "Resource": ECHO, "Next": "Id"},
            "Id": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "Next": "Fan"},
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$$.Execution.Input.items",
                "ItemProcessor": {
                    "StartAt": "E",
                    "States": {"E": {"Type": "Task", "Resource": ECHO, "End": True}},
                },
                "ResultPath": "$.fan",
                "Next": "T2",
            },
            "T2": {"Type": "Task", "Resource": ECHO, "End": True},
        },
    }
    data = {"items": [1, 2, 3]}
    reference, full = execute(definition, data)
    assert reference.status == "SUCCEEDED"
    for limit in range(1, len(full.events)):
        clock = FakeClock(1_700_000_000)
        tasks = Tasks()
        first = CrashingJournal(clock, limit)
        with pytest.raises(Crash):
            asyncio.run(run_execution(spec(definition, data), services(first, tasks, clock)))
        calls_before = len(tasks.calls)
        second = MemoryJournal(clock, events=first.events)
        outcome = asyncio.run(run_execution(spec(definition, data), services(second, tasks, clock)))
        assert outcome.status == "SUCCEEDED"
        history = first.events + second.events
        assert [e.type for e in history] == [e.type for e in full.events] or sorted(
            e.type for e in history
        ) == sorted(e.type for e in full.events), f"crash after {limit} events"
        ids = [e.id for e in history]
        assert len(ids) == len(set(ids)), f"crash after {limit}: an event was appended twice"
        # A nondeterministic state output recorded before the crash is the one the run goes on with.
        recorded_id = [e for e in first.events if e.type == "PassStateExited"]
        final_id = outcome.output["echoed"]["id"]
        if recorded_id:
            assert final_id == orjson_loads(recorded_id[0].details["output"])["id"]
        else:
            assert (
                final_id
                == orjson_loads(
                    next(e for e in second.events if e.type == "PassStateExited").details["output"]
                )["id"]
            )
        # Task outcomes recorded before the crash are not called again.
        succeeded_before = sum(1 for e in first.events if e.type == "TaskSucceeded")
        assert len(tasks.calls) - calls_before == 5 - succeeded_before


def orjson_loads(text: str) -> Any:
    import orjson

    return orjson.loads(text)
