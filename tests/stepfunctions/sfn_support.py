"""Helpers the Step Functions service tests share (boto3 against the session server): names,
error triples, state machines and activities to create, Distributed Map definitions, and
waits on an execution's status or history. The ``sfn`` client fixture is in conftest.py."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/sfn"
WAIT_SECONDS = 30.0


def definition(result: Any = "done") -> str:
    return json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}}
    )


def unique(prefix: str = "sm") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def create(sfn: Any, name: str | None = None, **extra: Any) -> str:
    arn: str = sfn.create_state_machine(
        name=name or unique(),
        definition=extra.pop("definition", definition()),
        roleArn=ROLE,
        **extra,
    )["stateMachineArn"]
    return arn


def wait_done(sfn: Any, arn: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
    """The execution's description once it is no longer RUNNING (or when ``timeout`` runs
    out: the caller's assertion on the status then says what went wrong)."""
    deadline = time.monotonic() + timeout
    while True:
        out: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if out["status"] != "RUNNING" or time.monotonic() > deadline:
            return out
        time.sleep(0.02)


def events_of(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=arn)["events"]
    return events


def wait_event(
    sfn: Any, arn: str, event_type: str, timeout: float = WAIT_SECONDS
) -> list[dict[str, Any]]:
    """The execution's history as soon as it holds an ``event_type`` event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = events_of(sfn, arn)
        if any(e["type"] == event_type for e in events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"no {event_type} in {arn}")


def activity_machine(sfn: Any, heartbeat: int | None = None) -> tuple[str, str]:
    """A new activity and a state machine whose one Task waits on it: (activity, machine)."""
    activity = sfn.create_activity(name=unique("act"))["activityArn"]
    state: dict[str, Any] = {"Type": "Task", "Resource": activity, "End": True}
    if heartbeat is not None:
        state["HeartbeatSeconds"] = heartbeat
    text = json.dumps({"StartAt": "Work", "States": {"Work": state}})
    return activity, create(sfn, definition=text)


def take(sfn: Any, activity: str, worker: str | None = "w1") -> dict[str, Any]:
    """The activity task a worker (named ``worker``, or anonymous for None) is handed."""
    deadline = time.monotonic() + WAIT_SECONDS
    extra = {"workerName": worker} if worker is not None else {}
    while time.monotonic() < deadline:
        task: dict[str, Any] = sfn.get_activity_task(activityArn=activity, **extra)
        if task.get("taskToken"):
            return task
    raise AssertionError("no activity task")


def distributed_map(states: dict[str, Any], start: str, **fields: Any) -> str:
    """A definition whose one state ``M`` is a Distributed Map (STANDARD child executions)
    running ``states`` from ``start`` on each item; ``fields`` add Map fields."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": start,
        "States": states,
    }
    state = {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}
    return json.dumps({"StartAt": "M", "States": {"M": state}})


def run_to_end(sfn: Any, text: str, value: Any) -> tuple[str, str, dict[str, Any]]:
    """A new state machine of definition ``text`` run on ``value`` to its end:
    (machine, execution, the execution's description)."""
    machine = create(sfn, definition=text)
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(value))["executionArn"]
    return machine, arn, wait_done(sfn, arn)
