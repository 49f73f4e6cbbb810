"""The durable pieces under Standard executions, in-process with a stand-in interpreter: the
journal's group commit and refusals, terminal events updating the execution row, the history
cap, the replay index after a redrive, recovery of RUNNING executions at start-up (the crash
test later rounds extend), and the CloudWatch Logs lines of an execution."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from lambdamaker.config import PlatformConfig
from lambdamaker.engines.workflows.execution import ExecutionServices, ExecutionSpec, Outcome
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.tasks import IntegrationRegistry
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import execution_tables as t
from lambdamaker.services.stepfunctions.express_logs import group_name, log_lines
from lambdamaker.services.stepfunctions.journal import (
    HISTORY_LIMIT,
    DurableJournal,
    ExecutionClosed,
    JournalWriter,
    MemoryJournal,
    event_row,
    load_events,
    replay_index,
)

STEPS = 5


async def stand_in(spec: ExecutionSpec, services: ExecutionServices) -> Outcome:
    """A tiny interpreter: Pass states S0..S4, each entered and exited, replaying what the
    journal recorded instead of appending it again (as the real interpreter's steps do)."""
    journal = services.journal
    previous = 1
    for index in range(STEPS):
        step = f"{index}.S{index}"
        recorded = journal.recorded(step)
        for position, event_type in enumerate(("PassStateEntered", "PassStateExited")):
            if position < len(recorded):
                previous = recorded[position].id
                continue
            details = {"name": f"S{index}"}
            event = await journal.append(event_type, details, previous=previous, step=step)
            previous = event.id
    output = json.dumps(spec.input)
    await journal.append(
        "ExecutionSucceeded",
        {"output": output, "outputDetails": {"truncated": False}},
        previous=previous,
        step="$execution",
    )
    return Outcome("SUCCEEDED", output=spec.input)


def make_platform(config: PlatformConfig) -> Platform:
    platform = Platform(config, services=["logs", "stepfunctions"])
    runtime = platform.providers["stepfunctions"].sfn_runtime  # type: ignore[attr-defined]
    runtime.interpreter = stand_in
    runtime.registry_factory = lambda case: IntegrationRegistry()
    return platform


@pytest.fixture()
def platform(config: PlatformConfig) -> Iterator[Platform]:
    platform = make_platform(config)
    platform.start()
    try:
        yield platform
    finally:
        platform.close()


def insert_execution(platform: Platform, name: str, events: int = 1) -> str:
    arn = f"arn:aws:states:us-east-1:000000000000:execution:m:{name}"
    now = datetime.now(UTC)
    with platform.store.begin() as conn:
        conn.execute(
            sa.insert(t.executions).values(
                arn=arn,
                account="000000000000",
                region="us-east-1",
                state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:m",
                state_machine_name="m",
                name=name,
                status="RUNNING",
                input='{"n": 1}',
                start_us=round(now.timestamp() * 1_000_000),
                redrive_count=0,
                definition='{"StartAt": "S0", "States": {}}',
                role_arn="arn:aws:iam::000000000000:role/r",
                logging="{}",
            )
        )
        rows = [event_row(arn, HistoryEvent(1, 0, now, "ExecutionStarted", {}, ""))]
        for index in range(1, events):
            step = f"{(index - 1) // 2}.S{(index - 1) // 2}"
            kind = "PassStateEntered" if index % 2 else "PassStateExited"
            rows.append(event_row(arn, HistoryEvent(index + 1, index, now, kind, {}, step)))
        conn.execute(sa.insert(t.history), rows)
    return arn


def execution(platform: Platform, arn: str) -> tuple[Any, list[HistoryEvent]]:
    with platform.store.read() as conn:
        row = conn.execute(sa.select(t.executions).where(t.executions.c.arn == arn)).first()
        return row, load_events(conn, arn)


def test_appends_of_many_executions_commit_with_gapless_ids(platform: Platform) -> None:
    arns = [insert_execution(platform, f"g{i}") for i in range(20)]
    writer = JournalWriter(platform.store)

    async def run(arn: str) -> None:
        journal = DurableJournal(writer, arn, execution(platform, arn)[1])
        previous = 1
        for _ in range(10):
            previous = (
                await journal.append("PassStateEntered", {}, previous=previous, step="x")
            ).id

    async def main() -> None:
        await asyncio.gather(*(run(arn) for arn in arns))

    try:
        asyncio.run(main())
    finally:
        writer.close()
    for arn in arns:
        _, events = execution(platform, arn)
        assert [e.id for e in events] == list(range(1, 12))


def test_a_terminal_event_closes_the_row_and_later_appends_are_refused(platform: Platform) -> None:
    arn = insert_execution(platform, "closing")
    writer = JournalWriter(platform.store)

    async def main() -> None:
        journal = DurableJournal(writer, arn, execution(platform, arn)[1])
        await journal.append("ExecutionFailed", {"error": "E", "cause": "C"}, previous=1, step="")
        other = DurableJournal(writer, arn, execution(platform, arn)[1])
        with pytest.raises(ExecutionClosed):
            await other.append("PassStateEntered", {}, previous=2, step="late")

    try:
        asyncio.run(main())
    finally:
        writer.close()
    row, events = execution(platform, arn)
    assert (row.status, row.error, row.cause) == ("FAILED", "E", "C")
    assert row.stop_us is not None
    assert [e.type for e in events] == ["ExecutionStarted", "ExecutionFailed"]


def test_an_aborted_execution_gains_no_event(platform: Platform) -> None:
    arn = insert_execution(platform, "aborted")
    with platform.store.begin() as conn:
        conn.execute(
            sa.update(t.executions).where(t.executions.c.arn == arn).values(status="ABORTED")
        )
    writer = JournalWriter(platform.store)

    async def main() -> None:
        journal = DurableJournal(writer, arn, execution(platform, arn)[1])
        with pytest.raises(ExecutionClosed):
            await journal.append("PassStateEntered", {}, previous=1, step="s")

    try:
        asyncio.run(main())
    finally:
        writer.close()
    assert len(execution(platform, arn)[1]) == 1


def test_recovery_resumes_running_executions_without_duplicating_events(
    config: PlatformConfig,
) -> None:
    # A "crash" left three executions part-way: recorded events up to different points.
    first = make_platform(config)
    first.start()
    cut = [insert_execution(first, f"crashed{n}", events=n) for n in (1, 4, 11)]
    first.close()
    second = make_platform(config)
    second.start()
    try:
        runtime = second.providers["stepfunctions"].sfn_runtime  # type: ignore[attr-defined]

        async def settle() -> None:
            for arn in cut:
                await asyncio.wait_for(runtime.wait_closed(arn, poll=0.01), 30)

        asyncio.run(settle())
        for arn in cut:
            row, events = execution(second, arn)
            assert row.status == "SUCCEEDED"
            assert json.loads(row.output) == {"n": 1}
            assert [e.id for e in events] == list(range(1, 2 * STEPS + 3))
            keys = [(e.step, e.type) for e in events]
            assert len(keys) == len(set(keys))
    finally:
        second.close()


def test_the_history_cap_ends_the_execution_with_execution_failed() -> None:
    now = datetime.now(UTC)
    events = [HistoryEvent(i, i - 1, now, "PassStateEntered", {}, "s") for i in range(1, 25_000)]
    journal = MemoryJournal(events)

    async def main() -> None:
        with pytest.raises(ExecutionClosed):
            await journal.append("PassStateExited", {}, previous=24_999, step="s")
        with pytest.raises(ExecutionClosed):
            await journal.append("PassStateEntered", {}, previous=25_000, step="t")

    asyncio.run(main())
    last = journal.events[-1]
    assert (last.id, last.type) == (HISTORY_LIMIT, "ExecutionFailed")
    assert last.details["error"] == "States.Runtime"


def test_execution_succeeded_may_be_the_last_event() -> None:
    now = datetime.now(UTC)
    events = [HistoryEvent(i, i - 1, now, "PassStateEntered", {}, "s") for i in range(1, 25_000)]
    journal = MemoryJournal(events)
    event = asyncio.run(
        journal.append("ExecutionSucceeded", {"output": "1"}, previous=24_999, step="$execution")
    )
    assert (event.id, event.type) == (HISTORY_LIMIT, "ExecutionSucceeded")


def test_a_redriven_run_replays_completed_visits_only() -> None:
    now = datetime.now(UTC)

    def ev(i: int, kind: str, step: str) -> HistoryEvent:
        return HistoryEvent(i, i - 1, now, kind, {}, step)

    events = [
        ev(1, "ExecutionStarted", ""),
        ev(2, "PassStateEntered", "0.A"),
        ev(3, "PassStateExited", "0.A"),
        ev(4, "TaskStateEntered", "1.B"),
        ev(5, "TaskFailed", "1.B"),
        ev(6, "ExecutionFailed", "$execution"),
        ev(7, "ExecutionRedriven", ""),
        ev(8, "TaskStateEntered", "1.B"),
    ]
    index = replay_index(events)
    assert [e.id for e in index["0.A"]] == [2, 3]
    assert [e.id for e in index["1.B"]] == [8]
    assert "$execution" not in index


def test_log_lines_follow_the_level_and_include_execution_data() -> None:
    now = datetime.now(UTC)
    spec = ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:express:m:n:u",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:m",
        state_machine_name="m",
        name="n",
        definition={},
        input={},
        start_time=now,
        type="EXPRESS",
    )
    events = [
        HistoryEvent(1, 0, now, "ExecutionStarted", {"input": "{}", "roleArn": "r"}),
        HistoryEvent(2, 1, now, "PassStateEntered", {"name": "P", "input": "{}"}),
        HistoryEvent(3, 2, now, "ExecutionFailed", {"error": "E", "cause": "C"}),
    ]
    every = log_lines(spec, events, {"level": "ALL", "includeExecutionData": False})
    assert [json.loads(line)["type"] for _, line in every] == [
        "ExecutionStarted",
        "PassStateEntered",
        "ExecutionFailed",
    ]
    assert "input" not in json.loads(every[0][1])["details"]
    with_data = log_lines(spec, events, {"level": "ALL", "includeExecutionData": True})
    assert json.loads(with_data[0][1])["details"]["input"] == "{}"
    fatal = log_lines(spec, events, {"level": "FATAL"})
    assert [json.loads(line)["type"] for _, line in fatal] == ["ExecutionFailed"]
    assert group_name("arn:aws:logs:us-east-1:000000000000:log-group:/aws/sfn/x:*") == "/aws/sfn/x"


def test_await_execution_answers_with_the_final_description(platform: Platform) -> None:
    provider: Any = platform.providers["stepfunctions"]
    ctx = RequestContext("r", "stepfunctions", "StartExecution", "us-east-1", "000000000000")
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    results = {}
    for kind in ("STANDARD", "EXPRESS"):
        machine = provider.create_state_machine(
            ctx,
            {
                "name": f"awaited-{kind.lower()}",
                "definition": definition,
                "roleArn": "arn:aws:iam::000000000000:role/r",
                "type": kind,
            },
        )["stateMachineArn"]
        arn = provider.start_execution(ctx, {"stateMachineArn": machine, "input": '{"k": 1}'})[
            "executionArn"
        ]
        results[kind] = asyncio.run(asyncio.wait_for(provider.await_execution(arn), 30))
    for kind, out in results.items():
        assert out["status"] == "SUCCEEDED", kind
        assert json.loads(out["output"]) == {"k": 1}
