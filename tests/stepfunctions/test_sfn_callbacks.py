"""Task tokens and activity workers through boto3 against the session server: GetActivityTask
hands a queued task to one worker, SendTaskSuccess/Failure finish it, SendTaskHeartbeat keeps
it alive, and tokens that name nothing, or a finished task, get AWS's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import activity_machine, error_of, take, wait_done


def test_a_worker_takes_the_task_and_its_success_ends_the_execution(sfn: Any) -> None:
    activity, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine, input='{"job": 7}')["executionArn"]
    task = take(sfn, activity)
    assert json.loads(task["input"]) == {"job": 7}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"done": true}')
    out = wait_done(sfn, arn)
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"done": True}
    with pytest.raises(ClientError) as info:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert error_of(info)[:2] == ("TaskTimedOut", 400)


def test_a_failure_fails_the_execution_with_its_error(sfn: Any) -> None:
    activity, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = take(sfn, activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Worker.Broke", cause="disk")
    out = wait_done(sfn, arn)
    assert (out["status"], out["error"], out["cause"]) == ("FAILED", "Worker.Broke", "disk")


def test_tokens_of_stopped_executions_and_bad_tokens_are_refused(sfn: Any) -> None:
    activity, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = take(sfn, activity)
    sfn.stop_execution(executionArn=arn)
    with pytest.raises(ClientError) as info:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert error_of(info)[0] == "TaskTimedOut"
    with pytest.raises(ClientError) as info:
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
    assert error_of(info)[0] == "TaskTimedOut"
    with pytest.raises(ClientError) as info:
        sfn.send_task_success(taskToken="garbage", output="{}")
    assert error_of(info)[0] == "InvalidToken"
    with pytest.raises(ClientError) as info:
        sfn.send_task_failure(taskToken="garbage")
    assert error_of(info)[0] == "InvalidToken"


def test_output_must_be_json(sfn: Any) -> None:
    activity, machine = activity_machine(sfn)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = take(sfn, activity)
    with pytest.raises(ClientError) as info:
        sfn.send_task_success(taskToken=task["taskToken"], output="{nope")
    assert error_of(info)[0] == "InvalidOutput"
    sfn.stop_execution(executionArn=arn)


def test_a_missed_heartbeat_times_the_task_out(sfn: Any) -> None:
    activity, machine = activity_machine(sfn, heartbeat=1)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    task = take(sfn, activity)
    out = wait_done(sfn, arn)
    assert out["status"] == "FAILED"
    assert out["error"] == "States.Timeout"  # AWS names a missed heartbeat so
    with pytest.raises(ClientError) as info:
        sfn.send_task_success(taskToken=task["taskToken"], output="{}")
    assert error_of(info)[0] == "TaskTimedOut"


def test_get_activity_task_of_an_unknown_activity(sfn: Any) -> None:
    with pytest.raises(ClientError) as info:
        sfn.get_activity_task(activityArn="arn:aws:states:us-east-1:000000000000:activity:nope")
    assert error_of(info)[0] == "ActivityDoesNotExist"
