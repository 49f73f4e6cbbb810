"""Express executions without logging run on a journal that numbers events without building
them: what an execution computes (status, output, error and cause, event ids named in causes,
the history cap) is the same as on the journal that keeps every event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec, Outcome
from lambdamaker.engines.workflows.interpreter import run_execution
from lambdamaker.engines.workflows.tasks import IntegrationRegistry
from lambdamaker.services.stepfunctions.express_journal import QuietJournal
from lambdamaker.services.stepfunctions.journal import (
    HISTORY_LIMIT,
    ExecutionClosed,
    MemoryJournal,
)


def run(definition: dict[str, Any], value: Any, journal: Any) -> Outcome:
    spec = ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:express:m:e:1",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:m",
        state_machine_name="m",
        name="e",
        definition=definition,
        input=value,
        start_time=datetime(2024, 1, 2, tzinfo=UTC),
        type="EXPRESS",
    )
    services = ExecutionServices(journal=journal, registry=IntegrationRegistry())

    async def go() -> Outcome:
        await journal.append("ExecutionStarted", {}, previous=0, step="")
        try:
            return await run_execution(spec, services)
        except ExecutionClosed:  # the history cap (the runtime does the same)
            return Outcome("FAILED")

    return asyncio.run(go())


def both(definition: dict[str, Any], value: Any) -> tuple[Outcome, Outcome]:
    return run(definition, value, MemoryJournal()), run(definition, value, QuietJournal())


PASS_THEN_FAIL = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Parameters": {"x.$": "$.x"}, "ResultPath": "$.a", "Next": "B"},
        "B": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "C",
                    "States": {"C": {"Type": "Pass", "Result": 1, "End": True}},
                },
            ],
            "ResultPath": "$.b",
            "Next": "M",
        },
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "ResultPath": "$.m",
            "Next": "Bad",
        },
        "Bad": {"Type": "Pass", "Parameters": {"y.$": "$.missing"}, "End": True},
    },
}


def test_a_failure_names_the_same_entered_event_id_on_both_journals() -> None:
    full, quiet = both(PASS_THEN_FAIL, {"x": 1, "items": [1, 2, 3]})
    assert full.status == quiet.status == "FAILED"
    assert full.error == quiet.error == "States.Runtime"
    assert "entered at the event id #" in (full.cause or "")
    assert quiet.cause == full.cause


def test_a_successful_execution_gives_the_same_output_on_both_journals() -> None:
    definition = dict(PASS_THEN_FAIL)
    states = dict(definition["States"])  # type: ignore[arg-type]
    states["Bad"] = {"Type": "Pass", "Parameters": {"y.$": "$.x"}, "End": True}
    definition["States"] = states
    full, quiet = both(definition, {"x": 1, "items": [1, 2, 3]})
    assert full.status == quiet.status == "SUCCEEDED"
    assert quiet.output == full.output == {"y": 1}


def test_the_quiet_journal_keeps_only_the_terminal_event() -> None:
    journal = QuietJournal()
    run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}, {"v": 1}, journal)
    assert [event.type for event in journal.events] == ["ExecutionSucceeded"]
    # ExecutionStarted, PassStateEntered, PassStateExited, then the terminal event.
    assert journal.events[0].id == 4


@pytest.mark.parametrize("journal_type", [MemoryJournal, QuietJournal])
def test_the_history_cap_ends_an_express_execution_the_same_way(journal_type: type) -> None:
    # Each item costs 4 events (iteration started/succeeded, Pass entered/exited).
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    journal = journal_type()
    outcome = run(definition, {"items": list(range(HISTORY_LIMIT // 4 + 10))}, journal)
    terminal = journal.events[-1]
    assert terminal.id == HISTORY_LIMIT
    assert terminal.type == "ExecutionFailed"
    assert terminal.details["error"] == "States.Runtime"
    assert outcome.status == "FAILED"
