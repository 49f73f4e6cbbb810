"""Distributed Map runs driven in-process: MapRun* events and the run ARN, failure tolerance,
the ResultWriter's S3 export, the MapRunSink, and replay after a crash."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.execution import (
    ExecutionServices,
    ExecutionSpec,
    MapRunCounts,
    Outcome,
)
from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.interpreter import run_execution
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.tasks import IntegrationRegistry
from lambdamaker.testing import FakeClock

PUT = "arn:aws:states:::s3:putObject"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class DictStore:
    def __init__(self, fail_puts: bool = False) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.fail_puts = fail_puts

    async def get_object(self, bucket: str, key: str) -> bytes:
        if (bucket, key) not in self.objects:
            raise StatesError("S3.NoSuchKey", "The specified key does not exist.")
        return self.objects[(bucket, key)]

    async def list_objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        return []

    async def put_object(self, bucket: str, key: str, body: bytes) -> None:
        if self.fail_puts:
            raise StatesError("S3.NoSuchBucket", "The specified bucket does not exist")
        self.objects[(bucket, key)] = body


class Sink:
    """A MapRunSink that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    async def start(self, map_run_arn: str, **fields: Any) -> None:
        self.calls.append(("start", map_run_arn, fields))

    async def progress(self, map_run_arn: str, counts: MapRunCounts) -> None:
        self.calls.append(("progress", map_run_arn, counts))

    async def finish(
        self, map_run_arn: str, status: str, counts: MapRunCounts, **fields: Any
    ) -> None:
        self.calls.append(("finish", map_run_arn, (status, counts, fields)))


class Crash(Exception):
    pass


class CrashingJournal(MemoryJournal):
    def __init__(self, clock: Any, limit: int) -> None:
        super().__init__(clock)
        self.limit = limit

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        if len(self.events) >= self.limit:
            raise Crash
        return await super().append(event_type, details, previous=previous, step=step)


def spec(definition: dict[str, Any], data: Any) -> ExecutionSpec:
    return ExecutionSpec(
        execution_arn="arn:aws:states:us-east-1:000000000000:execution:sm:run",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:sm",
        state_machine_name="sm",
        name="run",
        definition=definition,
        input=data,
        start_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def services(journal: Any, clock: FakeClock, store: Any = None, sink: Any = None) -> Any:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return ExecutionServices(
        journal, IntegrationRegistry(), clock=clock, sleep=sleep, items=store, map_runs=sink
    )


def execute(
    definition: dict[str, Any], data: Any, store: Any = None, sink: Any = None
) -> tuple[Outcome, MemoryJournal]:
    clock = FakeClock(1_700_000_000)
    journal = MemoryJournal(clock)
    outcome = asyncio.run(
        run_execution(spec(definition, data), services(journal, clock, store, sink))
    )
    return outcome, journal


def machine(**extra: Any) -> dict[str, Any]:
    """A Distributed Map over ``$.items`` whose iteration fails for the item "bad"."""
    state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Check",
            "States": {
                "Check": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$", "StringEquals": "bad", "Next": "Boom"}],
                    "Default": "Ok",
                },
                "Boom": {"Type": "Fail", "Error": "Item.Bad", "Cause": "bad item"},
                "Ok": {"Type": "Pass", "End": True},
            },
        },
        "End": True,
    }
    state.update(extra)
    return {"StartAt": "M", "States": {"M": state}}


def types(journal: MemoryJournal) -> list[str]:
    return [event.type for event in journal.events]


def map_run_arn(journal: MemoryJournal) -> str:
    return str(next(e for e in journal.events if e.type == "MapRunStarted").details["mapRunArn"])


def test_distributed_map_wraps_its_iterations_in_a_labelled_map_run() -> None:
    outcome, journal = execute(machine(Label="Batch"), {"items": ["a", "b"]})
    assert (outcome.status, outcome.output) == ("SUCCEEDED", ["a", "b"])
    arn = map_run_arn(journal)
    assert re.fullmatch(f"arn:aws:states:us-east-1:000000000000:mapRun:sm/Batch:{UUID}", arn)
    kinds = types(journal)
    assert kinds[:3] == ["MapStateEntered", "MapStateStarted", "MapRunStarted"]
    assert kinds[-4:] == [
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]


def test_unlabelled_run_arn_uses_a_uuid_for_the_label() -> None:
    _, journal = execute(machine(), {"items": []})
    assert re.fullmatch(
        f"arn:aws:states:us-east-1:000000000000:mapRun:sm/{UUID}:{UUID}", map_run_arn(journal)
    )


def test_without_tolerance_one_failed_child_fails_the_run() -> None:
    outcome, journal = execute(machine(MaxConcurrency=1), {"items": ["a", "bad", "c"]})
    assert (outcome.status, outcome.error, outcome.cause) == (
        "FAILED",
        "States.ExceedToleratedFailureThreshold",
        "The specified tolerated failure threshold was exceeded",
    )
    failed = next(e for e in journal.events if e.type == "MapRunFailed")
    assert failed.details == {
        "error": "States.ExceedToleratedFailureThreshold",
        "cause": "The specified tolerated failure threshold was exceeded",
    }
    assert types(journal)[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]


def test_tolerated_failure_count_keeps_the_error_output_in_the_result() -> None:
    outcome, _ = execute(machine(ToleratedFailureCount=1), {"items": ["a", "bad"]})
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == ["a", {"Error": "Item.Bad", "Cause": "bad item"}]
    outcome, _ = execute(machine(ToleratedFailureCount=1), {"items": ["bad", "bad"]})
    assert outcome.error == "States.ExceedToleratedFailureThreshold"


def test_tolerated_failure_percentage_and_either_threshold_fails() -> None:
    items = ["a", "bad", "c", "d"]  # 25% fail
    assert (
        execute(machine(ToleratedFailurePercentage=25), {"items": items})[0].status == "SUCCEEDED"
    )
    assert execute(machine(ToleratedFailurePercentage=24.9), {"items": items})[0].status == "FAILED"
    both = machine(ToleratedFailurePercentage=50, ToleratedFailureCount=0)
    assert execute(both, {"items": items})[0].status == "FAILED"


def test_failed_run_is_caught_as_exceed_tolerated_failure_threshold() -> None:
    definition = machine(
        Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Done"}]
    )
    definition["States"]["M"].pop("End")
    definition["States"]["M"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    outcome, _ = execute(definition, {"items": ["bad"]})
    assert outcome.status == "SUCCEEDED"
    assert outcome.output["Error"] == "States.ExceedToleratedFailureThreshold"


def test_inline_map_fails_with_the_iteration_error_and_has_no_map_run() -> None:
    definition = machine()
    definition["States"]["M"]["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    outcome, journal = execute(definition, {"items": ["bad"]})
    assert (outcome.error, outcome.cause) == ("Item.Bad", "bad item")
    assert "MapRunStarted" not in types(journal)


def test_result_writer_exports_results_and_returns_the_manifest_location() -> None:
    store = DictStore()
    writer = {"Resource": PUT, "Parameters": {"Bucket": "out", "Prefix": "jobs"}}
    definition = machine(ResultWriter=writer, ToleratedFailureCount=5, Label="L")
    outcome, journal = execute(definition, {"items": ["a", "bad"]}, store)
    arn = map_run_arn(journal)
    run_uuid = arn.rsplit(":", 1)[-1]
    assert outcome.output == {
        "MapRunArn": arn,
        "ResultWriterDetails": {"Bucket": "out", "Key": f"jobs/{run_uuid}/manifest.json"},
    }
    manifest = orjson.loads(store.objects[("out", f"jobs/{run_uuid}/manifest.json")])
    succeeded_key = f"jobs/{run_uuid}/SUCCEEDED_0.json"
    failed_key = f"jobs/{run_uuid}/FAILED_0.json"
    assert manifest == {
        "DestinationBucket": "out",
        "MapRunArn": arn,
        "ResultFiles": {
            "FAILED": [{"Key": failed_key, "Size": len(store.objects[("out", failed_key)])}],
            "PENDING": [],
            "SUCCEEDED": [
                {"Key": succeeded_key, "Size": len(store.objects[("out", succeeded_key)])}
            ],
        },
    }
    [done] = orjson.loads(store.objects[("out", succeeded_key)])
    assert (done["Status"], done["Input"], done["Output"]) == ("SUCCEEDED", '"a"', '"a"')
    assert done["ExecutionArn"] == (
        f"arn:aws:states:us-east-1:000000000000:execution:sm/L:{done['Name']}"
    )
    assert done["StateMachineArn"] == "arn:aws:states:us-east-1:000000000000:stateMachine:sm/L"
    [bad] = orjson.loads(store.objects[("out", failed_key)])
    assert (bad["Status"], bad["Error"], bad["Cause"]) == ("FAILED", "Item.Bad", "bad item")
    assert "Output" not in bad


def test_writer_config_alone_previews_the_transformed_results() -> None:
    items = {"items": [["x", "y"], "z"]}
    flatten = machine(
        ResultWriter={"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}
    )
    assert execute(flatten, items)[0].output == ["x", "y", "z"]
    compact = machine(ResultWriter={"WriterConfig": {"Transformation": "COMPACT"}})
    assert execute(compact, items)[0].output == [["x", "y"], "z"]


def test_jsonl_output_type_writes_one_record_a_line() -> None:
    store = DictStore()
    writer = {
        "Resource": PUT,
        "Parameters": {"Bucket": "out", "Prefix": ""},
        "WriterConfig": {"Transformation": "COMPACT", "OutputType": "JSONL"},
    }
    _, journal = execute(machine(ResultWriter=writer), {"items": ["a", "b"]}, store)
    run_uuid = map_run_arn(journal).rsplit(":", 1)[-1]
    assert store.objects[("out", f"{run_uuid}/SUCCEEDED_0.jsonl")] == b'"a"\n"b"\n'


def test_failed_write_fails_the_map_with_result_writer_failed() -> None:
    writer = {"Resource": PUT, "Parameters": {"Bucket": "out", "Prefix": "p"}}
    outcome, journal = execute(machine(ResultWriter=writer), {"items": ["a"]}, DictStore(True))
    assert (outcome.error, outcome.cause) == (
        "States.ResultWriterFailed",
        "The specified bucket does not exist",
    )
    assert "MapRunFailed" in types(journal)


def test_sink_sees_start_progress_and_finish_of_the_run() -> None:
    sink = Sink()
    definition = machine(MaxConcurrency=3, ToleratedFailureCount=1)
    _, journal = execute(definition, {"items": ["a", "bad"]}, sink=sink)
    arn = map_run_arn(journal)
    assert {call[1] for call in sink.calls} == {arn}
    kind, _, fields = sink.calls[0]
    assert kind == "start"
    assert fields["max_concurrency"] == 3
    assert fields["tolerated_failure_count"] == 1
    assert [call[0] for call in sink.calls[1:]] == ["progress", "progress", "finish"]
    status, counts, extra = sink.calls[-1][2]
    assert status == "SUCCEEDED"
    assert (counts.total, counts.succeeded, counts.failed) == (2, 1, 1)
    assert extra["error"] is None


def test_sink_records_a_failed_run_with_its_error() -> None:
    sink = Sink()
    execute(machine(), {"items": ["bad"]}, sink=sink)
    status, _, extra = sink.calls[-1][2]
    assert (status, extra["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")


@pytest.mark.parametrize("with_writer", [False, True])
def test_replay_after_a_crash_keeps_the_run_arn_and_appends_nothing_twice(
    with_writer: bool,
) -> None:
    extra: dict[str, Any] = {"MaxConcurrency": 1, "ToleratedFailureCount": 1}
    if with_writer:
        extra["ResultWriter"] = {"Resource": PUT, "Parameters": {"Bucket": "o", "Prefix": "p"}}
    definition = machine(**extra)
    data = {"items": ["a", "bad", "c"]}
    reference, full = execute(definition, data, DictStore())
    assert reference.status == "SUCCEEDED"
    for limit in range(3, len(full.events)):
        clock = FakeClock(1_700_000_000)
        store = DictStore()
        first = CrashingJournal(clock, limit)
        with pytest.raises(Crash):
            asyncio.run(run_execution(spec(definition, data), services(first, clock, store)))
        second = MemoryJournal(clock, events=first.events)
        outcome = asyncio.run(run_execution(spec(definition, data), services(second, clock, store)))
        assert outcome.status == "SUCCEEDED", f"crash after {limit}"
        history = first.events + second.events
        assert [e.type for e in history] == [e.type for e in full.events], f"crash after {limit}"
        arns = {e.details["mapRunArn"] for e in history if e.type == "MapRunStarted"}
        assert len(arns) == 1
        if with_writer:
            assert outcome.output["MapRunArn"] in arns
