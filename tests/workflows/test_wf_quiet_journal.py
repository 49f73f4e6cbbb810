"""A journal that only numbers events (``mark``) gives exactly the outcome and the event ids
of one that builds every event: the interpreter's fast path for planned Pass states, eager
Parallel branches and Map iterations, and its fallbacks when ``mark`` declines."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec, Outcome
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.interpreter import run_execution
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskRequest
from lambdamaker.testing import FakeClock

SLEEPY = "arn:aws:states:::test:sleepy"


class MarkingJournal(MemoryJournal):
    """Numbers events without building them; declines every ``decline``-th mark (0: never),
    so the interpreter's append fallbacks run too."""

    def __init__(self, clock: Any, decline: int = 0) -> None:
        super().__init__(clock)
        self.decline = decline
        self.marks = 0
        self.appended: list[str] = []

    def mark(self, previous: int) -> tuple[int, float] | None:
        self.marks += 1
        if self.decline and self.marks % self.decline == 0:
            return None
        event_id = self.next_id
        self.next_id += 1
        return event_id, self.clock()

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        self.appended.append(event_type)
        return await super().append(event_type, details, previous=previous, step=step)


async def _sleepy(request: TaskRequest) -> Any:
    await asyncio.sleep(0)
    return {"slept": request.parameters}


def _run(definition: dict[str, Any], data: Any, journal: MemoryJournal) -> Outcome:
    clock = journal.clock
    assert isinstance(clock, FakeClock)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    registry = IntegrationRegistry()
    registry.register(SLEEPY, _sleepy)
    spec = ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:express:sm:run",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        state_machine_name="sm",
        name="run",
        definition=definition,
        input=data,
        start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        type="EXPRESS",
    )
    services = ExecutionServices(journal, registry, clock=clock, sleep=sleep)
    return asyncio.run(run_execution(spec, services))


def _pass(following: str | None, **fields: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Pass", **fields}
    if following is None:
        state["End"] = True
    else:
        state["Next"] = following
    return state


def _chain(*states: dict[str, Any]) -> dict[str, Any]:
    names = [f"S{k}" for k in range(len(states))]
    built = {}
    for k, (name, fields) in enumerate(zip(names, states, strict=True)):
        built[name] = _pass(names[k + 1] if k + 1 < len(names) else None, **fields)
    return {"StartAt": names[0], "States": built}


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "parameters and result path": (
        _chain(
            {"Parameters": {"v.$": "$.x", "k": 1, "all.$": "$"}, "ResultPath": "$.a"},
            {"Parameters": {"deep": {"v.$": "$.a.v"}, "list": [1, {"w.$": "$.x"}]}},
            {"Result": {"fixed": True}, "ResultPath": "$.r.s", "OutputPath": "$.r"},
            {"InputPath": "$.s", "ResultPath": None},
            {"Parameters": {"n.$": "$$.State.Name", "c.$": "States.Format('{}', $.fixed)"}},
        ),
        {"x": 5},
    ),
    "payload limit reached in a growing chain": (
        _chain(
            *(
                {
                    "Parameters": {"v.$": "$.value", "w.$": "$.value", "k": k},
                    "ResultPath": f"$.r{k}",
                }
                for k in range(5)
            )
        ),
        {"value": "x" * 50_000},
    ),
    "payload limit on a small chain first": (
        _chain(
            *(
                {"Parameters": {"v.$": "$.value", "k": k}, "ResultPath": "$.last"}
                for k in range(30)
            ),
            {"Parameters": {"a.$": "$", "b.$": "$", "c.$": "$"}, "ResultPath": "$.x"},
            {"Parameters": {"a.$": "$", "b.$": "$", "c.$": "$"}, "ResultPath": "$.x"},
            {"Parameters": {"a.$": "$", "b.$": "$", "c.$": "$"}},
        ),
        {"value": "y" * 20_000},
    ),
    "map items near the payload limit": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": _chain(
                        {"Parameters": {"v.$": "$.v", "k": 1}, "ResultPath": "$.a"},
                        {"Parameters": {"v.$": "$.v", "w.$": "$.a"}, "ResultPath": "$.b"},
                    ),
                    "ResultPath": None,
                    "End": True,
                }
            },
        },
        {"items": [{"v": "s"}, {"v": "z" * 70_000}, {"v": "q"}]},
    ),
    "missing path names the entered event": (
        _chain({"ResultPath": "$.a"}, {"Parameters": {"v.$": "$.nothing"}}),
        {"x": 1},
    ),
    "result path into a non-object": (
        _chain({"Parameters": {"v.$": "$.x"}, "ResultPath": "$.x.y"}),
        {"x": 3},
    ),
    "result path on a list input": (
        _chain({"Parameters": {"v": 1}, "ResultPath": "$.a"}),
        [1, 2],
    ),
    "inline map with failing items": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": _chain(
                        {"Parameters": {"v.$": "$.v"}, "ResultPath": "$.p"},
                        {"Parameters": {"w.$": "$.p.v"}},
                    ),
                    "End": True,
                }
            },
        },
        {"items": [{"v": 1}, {"v": 2}, {"nope": 3}, {"v": 4}]},
    ),
    "map with a selector, a limit and a suspending task": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
                    "MaxConcurrency": 2,
                    "ItemProcessor": {
                        "StartAt": "P",
                        "States": {
                            "P": _pass("T", ResultPath="$.p"),
                            "T": {"Type": "Task", "Resource": SLEEPY, "Next": "Q"},
                            "Q": _pass(None, Parameters={"s.$": "$.slept"}),
                        },
                    },
                    "ResultPath": "$.out",
                    "End": True,
                }
            },
        },
        {"items": [1, 2, 3, 4, 5]},
    ),
    "map whose iterations suspend without a limit": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "T",
                        "States": {
                            "T": {"Type": "Task", "Resource": SLEEPY, "Next": "P"},
                            "P": _pass(None, Parameters={"s.$": "$.slept"}),
                        },
                    },
                    "End": True,
                }
            },
        },
        [1, 2, 3],
    ),
    "parallel with a failing branch caught": (
        {
            "StartAt": "F",
            "States": {
                "F": {
                    "Type": "Parallel",
                    "Branches": [
                        _chain({"Parameters": {"v.$": "$.x"}}, {"ResultPath": "$.b"}),
                        {
                            "StartAt": "T",
                            "States": {"T": {"Type": "Task", "Resource": SLEEPY, "End": True}},
                        },
                        _chain({"Parameters": {"v.$": "$.missing"}}),
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
                    "Next": "Done",
                },
                "Done": _pass(None, ResultPath="$.done"),
            },
        },
        {"x": 1},
    ),
    "parallel of plain chains": (
        {
            "StartAt": "F",
            "States": {
                "F": {
                    "Type": "Parallel",
                    "Branches": [
                        _chain({"Parameters": {"v.$": "$.x", "b": b}}, {"ResultPath": "$.c"})
                        for b in range(3)
                    ],
                    "ResultPath": "$.branches",
                    "End": True,
                }
            },
        },
        {"x": 1},
    ),
}


@pytest.mark.parametrize("decline", [0, 2, 3, 5])
@pytest.mark.parametrize("case", sorted(CASES))
def test_marking_journal_gives_the_same_outcome_and_ids(case: str, decline: int) -> None:
    definition, data = CASES[case]
    full = MemoryJournal(FakeClock(1_700_000_000))
    expected = _run(copy.deepcopy(definition), copy.deepcopy(data), full)
    quiet = MarkingJournal(FakeClock(1_700_000_000), decline=decline)
    got = _run(definition, copy.deepcopy(data), quiet)
    assert got == expected
    assert quiet.next_id == full.next_id
    assert quiet.events[-1].previous_event_id == full.events[-1].previous_event_id
    if decline == 0:
        # Entered/Exited and iteration markers are only numbered, never built.
        built = [t for t in quiet.appended if t.endswith(("Entered", "Exited"))]
        assert not built and not [t for t in quiet.appended if t.startswith("MapIteration")]


def test_a_chain_past_the_payload_limit_fails_where_the_output_first_exceeds_it() -> None:
    definition, data = CASES["payload limit reached in a growing chain"]
    outcome = _run(definition, data, MarkingJournal(FakeClock(1_700_000_000)))
    assert outcome.error == "States.DataLimitExceeded"
    assert outcome.cause is not None and "'S2'" in outcome.cause


def test_a_planned_pass_chain_leaves_its_input_untouched() -> None:
    definition = _chain({"Parameters": {"v.$": "$.x"}, "ResultPath": "$.a"}, {"ResultPath": None})
    data = {"x": {"deep": [1]}}
    outcome = _run(definition, data, MarkingJournal(FakeClock(1_700_000_000)))
    assert outcome.output == {"x": {"deep": [1]}, "a": {"v": {"deep": [1]}}}
    assert data == {"x": {"deep": [1]}}
