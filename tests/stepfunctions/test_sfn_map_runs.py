"""Map runs through boto3: DescribeMapRun / ListMapRuns / UpdateMapRun, and a Distributed
Map's iterations as child executions (ListExecutions by mapRunArn, DescribeExecution and
GetExecutionHistory of a child; the parent's history without the iterations)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import create, distributed_map, error_of, run_to_end, wait_done

BAD_RUN = (
    "arn:aws:states:us-east-1:000000000000:mapRun:nope/label:00000000-0000-0000-0000-000000000000"
)


def distributed(label: str | None = "Each", fail_on: int | None = None, **extra: Any) -> str:
    states: dict[str, Any] = {"P": {"Type": "Pass", "End": True}}
    start = "P"
    if fail_on is not None:
        start = "C"
        states["C"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericEquals": fail_on, "Next": "F"}],
            "Default": "P",
        }
        states["F"] = {"Type": "Fail", "Error": "Bad", "Cause": "item failed"}
    if label is not None:
        extra["Label"] = label
    return distributed_map(states, start, **extra)


def waiting(seconds: int, **extra: Any) -> str:
    """A Distributed Map whose every child waits ``seconds``."""
    return distributed_map({"W": {"Type": "Wait", "Seconds": seconds, "End": True}}, "W", **extra)


def first_map_runs(sfn: Any, arn: str) -> list[Any]:
    """The execution's map runs as soon as it has one (empty if none appears in 20 s)."""
    deadline = time.monotonic() + 20
    runs: list[Any] = []
    while not runs and time.monotonic() < deadline:
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        time.sleep(0.05)
    return runs


def test_describe_and_list_a_finished_map_run(sfn: Any) -> None:
    machine, arn, out = run_to_end(
        sfn, distributed(MaxConcurrency=2, ToleratedFailureCount=1), [1, 2, 3]
    )
    assert out["status"] == "SUCCEEDED"
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    assert len(runs) == 1
    run_arn = runs[0]["mapRunArn"]
    name = machine.rsplit(":", 1)[1]
    assert run_arn.startswith(f"arn:aws:states:us-east-1:000000000000:mapRun:{name}/Each:")
    assert runs[0]["executionArn"] == arn
    assert runs[0]["stateMachineArn"] == f"{machine}/Each"
    assert "stopDate" in runs[0]
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert described["status"] == "SUCCEEDED"
    assert described["executionArn"] == arn
    assert described["maxConcurrency"] == 2
    assert described["toleratedFailureCount"] == 1
    assert described["itemCounts"]["total"] == 3
    assert described["itemCounts"]["succeeded"] == 3
    assert described["executionCounts"]["failed"] == 0


def test_children_are_listed_described_and_have_their_own_history(sfn: Any) -> None:
    machine, arn, out = run_to_end(sfn, distributed(ToleratedFailureCount=5, fail_on=2), [1, 2, 3])
    assert out["status"] == "SUCCEEDED", out
    run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    assert sfn.describe_map_run(mapRunArn=run_arn)["itemCounts"]["failed"] == 1
    listed = sfn.list_executions(mapRunArn=run_arn)["executions"]
    assert len(listed) == 3
    prefix = f"arn:aws:states:us-east-1:000000000000:execution:{machine.rsplit(':', 1)[1]}/Each:"
    assert all(child["executionArn"].startswith(prefix) for child in listed)
    assert all(child["mapRunArn"] == run_arn for child in listed)
    assert sorted(child["status"] for child in listed) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    failed = sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"]
    assert len(failed) == 1
    child = sfn.describe_execution(executionArn=failed[0]["executionArn"])
    assert child["status"] == "FAILED"
    assert (child["error"], child["cause"]) == ("Bad", "item failed")
    assert child["input"] == "2"
    assert child["redriveStatus"] == "NOT_REDRIVABLE"
    events = sfn.get_execution_history(executionArn=failed[0]["executionArn"])["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionFailed"
    assert "ChoiceStateEntered" in [e["type"] for e in events]
    assert all(e["previousEventId"] < e["id"] for e in events)
    ok = sfn.list_executions(mapRunArn=run_arn, statusFilter="SUCCEEDED")["executions"][0]
    ok_events = sfn.get_execution_history(executionArn=ok["executionArn"])["events"]
    assert ok_events[-1]["type"] == "ExecutionSucceeded"
    paged = sfn.list_executions(mapRunArn=run_arn, maxResults=2)
    rest = sfn.list_executions(mapRunArn=run_arn, nextToken=paged["nextToken"])["executions"]
    assert len(paged["executions"]) == 2 and len(rest) == 1


def test_parent_history_hides_the_iterations(sfn: Any) -> None:
    _, arn, out = run_to_end(sfn, distributed(), [1, 2])
    assert out["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=arn)["events"]
    types = [e["type"] for e in events]
    assert types == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == list(range(1, 9))
    reverse = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=3)
    assert [e["id"] for e in reverse["events"]] == [8, 7, 6]
    more = sfn.get_execution_history(
        executionArn=arn, reverseOrder=True, nextToken=reverse["nextToken"]
    )
    assert [e["id"] for e in more["events"]] == [5, 4, 3, 2, 1]


def test_update_map_run_changes_its_settings_while_running(sfn: Any) -> None:
    machine = create(sfn, definition=waiting(1, MaxConcurrency=1))
    arn = sfn.start_execution(stateMachineArn=machine, input="[1, 2]")["executionArn"]
    runs = first_map_runs(sfn, arn)
    run_arn = runs[0]["mapRunArn"]
    assert sfn.describe_map_run(mapRunArn=run_arn)["status"] == "RUNNING"
    sfn.update_map_run(
        mapRunArn=run_arn, maxConcurrency=5, toleratedFailureCount=3, toleratedFailurePercentage=50
    )
    described = sfn.describe_map_run(mapRunArn=run_arn)
    assert (described["maxConcurrency"], described["toleratedFailureCount"]) == (5, 3)
    assert described["toleratedFailurePercentage"] == 50
    with pytest.raises(ClientError) as info:
        sfn.update_map_run(mapRunArn=run_arn)
    assert error_of(info)[:2] == ("ValidationException", 400)
    assert wait_done(sfn, arn)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as info:
        sfn.update_map_run(mapRunArn=run_arn, maxConcurrency=1)
    assert error_of(info)[:2] == ("ValidationException", 400)


def test_unknown_and_malformed_map_run_arns(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        sfn.describe_map_run(mapRunArn=BAD_RUN)
    assert error_of(info)[:2] == ("ResourceNotFound", 400)
    with pytest.raises(ClientError) as info:
        sfn.update_map_run(mapRunArn=BAD_RUN, maxConcurrency=1)
    assert error_of(info)[:2] == ("ResourceNotFound", 400)
    with pytest.raises(ClientError) as info:
        sfn.list_executions(mapRunArn=BAD_RUN)
    assert error_of(info)[:2] == ("ResourceNotFound", 400)
    with pytest.raises(ClientError) as info:
        sfn.describe_map_run(mapRunArn="not-an-arn")
    assert error_of(info)[:2] == ("InvalidArn", 400)
    with pytest.raises(ClientError) as info:
        sfn.list_map_runs(executionArn="arn:aws:states:us-east-1:000000000000:execution:x:y")
    assert error_of(info)[:2] == ("ExecutionDoesNotExist", 400)
    with pytest.raises(ClientError) as info:
        sfn.describe_execution(executionArn=BAD_RUN.replace(":mapRun:", ":execution:"))
    assert error_of(info)[:2] == ("ExecutionDoesNotExist", 400)


def test_children_cancelled_by_a_failed_run_are_aborted(sfn: Any) -> None:
    states = {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "F"}],
            "Default": "W",
        },
        "W": {"Type": "Wait", "Seconds": 30, "End": True},
        "F": {"Type": "Fail", "Error": "Boom"},
    }
    definition = distributed_map(states, "C")
    machine = create(sfn, definition=definition)
    arn = sfn.start_execution(stateMachineArn=machine, input="[0, 1, 1]")["executionArn"]
    out = wait_done(sfn, arn)
    assert (out["status"], out["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    assert sfn.describe_map_run(mapRunArn=run_arn)["status"] == "FAILED"
    listed = sfn.list_executions(mapRunArn=run_arn)["executions"]
    assert sorted(child["status"] for child in listed) == ["ABORTED", "ABORTED", "FAILED"]
    assert all("stopDate" in child for child in listed)
    aborted = next(c for c in listed if c["status"] == "ABORTED")
    events = sfn.get_execution_history(executionArn=aborted["executionArn"])["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionAborted"


def test_state_machine_for_a_child_is_the_item_processor(sfn: Any) -> None:
    machine, arn, out = run_to_end(sfn, distributed(label="Items"), [1])
    assert out["status"] == "SUCCEEDED"
    run_arn = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]["mapRunArn"]
    child = sfn.list_executions(mapRunArn=run_arn)["executions"][0]
    described = sfn.describe_state_machine_for_execution(executionArn=child["executionArn"])
    assert described["stateMachineArn"] == f"{machine}/Items"
    assert described["name"] == f"{machine.rsplit(':', 1)[1]}/Items"
    assert described["label"] == "Items"
    assert described["mapRunArn"] == run_arn
    assert json.loads(described["definition"])["StartAt"] == "P"
    assert described["roleArn"] == sfn.describe_state_machine(stateMachineArn=machine)["roleArn"]


def test_stopping_the_parent_aborts_its_running_map_run(sfn: Any) -> None:
    machine = create(sfn, definition=waiting(60))
    arn = sfn.start_execution(stateMachineArn=machine, input="[1, 2]")["executionArn"]
    runs = first_map_runs(sfn, arn)
    sfn.stop_execution(executionArn=arn)
    described = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
    assert described["status"] == "ABORTED"
    assert "stopDate" in described
    assert "stopDate" in sfn.list_map_runs(executionArn=arn)["mapRuns"][0]
