"""ActivityStarted: when GetActivityTask hands an activity task to a worker, the execution's
history shows ``ActivityStarted {workerName}`` between ActivityScheduled and the outcome, with
ids and ``previousEventId`` chained; a task no worker took shows none; the heartbeat clock
starts when a worker takes the task; after a kill -9 the resumed execution does not record it
again, and the worker's answer sent after the restart finishes the execution."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sfn_support import ROLE, activity_machine, events_of, take, wait_done, wait_event

from lambdamaker.testing import ServerProcess


def check_chain(events: list[dict[str, Any]]) -> None:
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    for event in events[1:]:
        assert event["previousEventId"] == event["id"] - 1, event


def test_history_shows_the_worker_that_took_the_task(sfn: Any) -> None:
    activity, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')["executionArn"]
    task = take(sfn, activity, "worker-7")
    events = wait_event(sfn, arn, "ActivityStarted")
    assert events[-1]["type"] == "ActivityStarted"
    assert events[-1]["activityStartedEventDetails"] == {"workerName": "worker-7"}
    sfn.send_task_success(taskToken=task["taskToken"], output='{"ok": 1}')
    assert wait_done(sfn, arn)["status"] == "SUCCEEDED"
    events = events_of(sfn, arn)
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    check_chain(events)


def test_a_failed_activity_still_shows_it_started(sfn: Any) -> None:
    activity, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = take(sfn, activity, None)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Oops", cause="bad")
    out = wait_done(sfn, arn)
    assert (out["status"], out["error"]) == ("FAILED", "Oops")
    events = events_of(sfn, arn)
    types = [e["type"] for e in events]
    assert types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivityFailed"]
    assert "activityStartedEventDetails" not in events[3]
    check_chain(events)


def test_no_activity_started_before_a_worker_polls(sfn: Any) -> None:
    _, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_event(sfn, arn, "ActivityScheduled")
    time.sleep(0.2)  # let the engine settle: nothing may follow until a worker polls
    assert events_of(sfn, arn)[-1]["type"] == "ActivityScheduled"
    sfn.stop_execution(executionArn=arn)
    assert wait_done(sfn, arn)["status"] == "ABORTED"
    assert "ActivityStarted" not in [e["type"] for e in events_of(sfn, arn)]


def test_heartbeat_clock_starts_when_the_worker_takes_the_task(sfn: Any) -> None:
    activity, machine = activity_machine(sfn, heartbeat=1)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_event(sfn, arn, "ActivityScheduled")
    time.sleep(1.5)  # longer than the heartbeat, but no worker has the task yet
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    take(sfn, activity)
    out = wait_done(sfn, arn)
    assert (out["status"], out["error"]) == ("FAILED", "States.Timeout")
    types = [e["type"] for e in events_of(sfn, arn)]
    assert types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivityTimedOut"]


def test_activity_started_is_not_recorded_again_after_a_kill(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        sfn = server.client("stepfunctions")
        activity = sfn.create_activity(name="act")["activityArn"]
        definition = json.dumps(
            {
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}},
            }
        )
        machine = sfn.create_state_machine(name="m", definition=definition, roleArn=ROLE)[
            "stateMachineArn"
        ]
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        task = take(sfn, activity, "survivor")
        wait_event(sfn, arn, "ActivityStarted")
        server.kill()
        server.start()
        sfn = server.client("stepfunctions")
        sfn.send_task_success(taskToken=task["taskToken"], output='"done"')
        assert wait_done(sfn, arn)["status"] == "SUCCEEDED"
        events = events_of(sfn, arn)
        types = [e["type"] for e in events]
        assert types.count("ActivityStarted") == 1
        assert types[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]
        check_chain(events)
    finally:
        server.stop()
