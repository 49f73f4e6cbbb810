"""Step Functions executions through boto3 against the session server: StartExecution (names,
idempotency, bad input), DescribeExecution, ListExecutions, GetExecutionHistory,
StopExecution, DescribeStateMachineForExecution, StartSyncExecution and RedriveExecution."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sfn_support import create, error_of, unique, wait_done, wait_event

WAIT_LONG = json.dumps(
    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
)
FAILING = json.dumps(
    {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "broken"}}}
)
CHAIN = json.dumps(
    {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "B"},
            "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.b", "End": True},
        },
    }
)


@pytest.fixture()
def sfn(boto_client: Callable[..., Any]) -> Any:
    # StartSyncExecution's endpoint has a ``sync-`` host prefix: a local server has one host.
    return boto_client("stepfunctions", inject_host_prefix=False)


def test_a_standard_execution_runs_to_success_and_is_described(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN)
    started = sfn.start_execution(stateMachineArn=machine, name="run-1", input='{"x": 0}')
    arn = started["executionArn"]
    assert arn == machine.replace(":stateMachine:", ":execution:") + ":run-1"
    out = wait_done(sfn, arn)
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"x": 0, "a": {"n": 1}, "b": 2}
    assert out["input"] == '{"x": 0}'
    assert out["inputDetails"] == {"included": True}
    assert out["outputDetails"] == {"included": True}
    assert out["startDate"] == started["startDate"]
    assert out["stopDate"] >= out["startDate"]
    assert out["redriveCount"] == 0
    assert out["redriveStatus"] == "NOT_REDRIVABLE"
    assert out["name"] == "run-1"


def test_history_is_numbered_and_pages_both_ways(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN)
    arn = sfn.start_execution(stateMachineArn=machine, input='{"x": 1}')["executionArn"]
    wait_done(sfn, arn)
    events = sfn.get_execution_history(executionArn=arn)["events"]
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    started = events[0]["executionStartedEventDetails"]
    assert started["input"] == '{"x": 1}'
    assert started["roleArn"]
    first = sfn.get_execution_history(executionArn=arn, maxResults=2)
    assert [e["id"] for e in first["events"]] == [1, 2]
    second = sfn.get_execution_history(executionArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert [e["id"] for e in second["events"]] == [3, 4]
    backwards = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
    assert backwards["events"][0]["type"] == "ExecutionSucceeded"
    lean = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    assert "input" not in lean[0]["executionStartedEventDetails"]
    assert "output" not in lean[-1].get("executionSucceededEventDetails", {})


def test_the_same_name_and_input_while_running_is_the_same_execution(sfn: Any) -> None:
    machine = create(sfn, definition=WAIT_LONG)
    first = sfn.start_execution(stateMachineArn=machine, name="once", input="{}")
    again = sfn.start_execution(stateMachineArn=machine, name="once", input="{}")
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=machine, name="once", input='{"other": 1}')
    assert error_of(info)[:2] == ("ExecutionAlreadyExists", 400)
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=machine, name="once", input="{}")
    assert error_of(info)[0] == "ExecutionAlreadyExists"


def test_bad_input_is_rejected(sfn: Any) -> None:
    machine = create(sfn)
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=machine, input="{not json")
    assert error_of(info)[:2] == ("InvalidExecutionInput", 400)
    with pytest.raises(ClientError) as info:
        # Within the model's 262,144 characters, over 256 KiB of UTF-8.
        sfn.start_execution(
            stateMachineArn=machine, input=json.dumps("é" * 140_000, ensure_ascii=False)
        )
    assert error_of(info)[0] == "InvalidExecutionInput"
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=machine, name="bad name")
    assert error_of(info)[0] == "InvalidName"
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=machine + "-missing")
    assert error_of(info)[0] == "StateMachineDoesNotExist"


def test_unknown_and_malformed_execution_arns(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:execution:nope:nothing"
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution):
        with pytest.raises(ClientError) as info:
            call(executionArn=missing)
        assert error_of(info)[0] == "ExecutionDoesNotExist"
    with pytest.raises(ClientError) as info:
        sfn.describe_execution(executionArn="not-an-arn")
    assert error_of(info)[0] == "InvalidArn"


def test_stop_aborts_a_running_execution_and_appends_nothing_after(sfn: Any) -> None:
    machine = create(sfn, definition=WAIT_LONG)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_event(sfn, arn, "WaitStateEntered")
    stopped = sfn.stop_execution(executionArn=arn, error="Halt", cause="by test")
    out = sfn.describe_execution(executionArn=arn)
    assert out["status"] == "ABORTED"
    assert out["error"] == "Halt" and out["cause"] == "by test"
    assert out["stopDate"] == stopped["stopDate"]
    assert out["redriveStatus"] == "REDRIVABLE"
    time.sleep(0.2)  # give a cancelled task the chance to (wrongly) append
    events = sfn.get_execution_history(executionArn=arn)["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "by test"}


def test_list_executions_filters_and_pages(sfn: Any) -> None:
    machine = create(sfn, definition=WAIT_LONG)
    arns = [sfn.start_execution(stateMachineArn=machine)["executionArn"] for _ in range(3)]
    sfn.stop_execution(executionArn=arns[0])
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert {e["executionArn"] for e in listed} == set(arns)
    aborted = sfn.list_executions(stateMachineArn=machine, statusFilter="ABORTED")["executions"]
    assert [e["executionArn"] for e in aborted] == [arns[0]]
    page = sfn.list_executions(stateMachineArn=machine, maxResults=2)
    assert len(page["executions"]) == 2
    rest = sfn.list_executions(stateMachineArn=machine, maxResults=2, nextToken=page["nextToken"])
    assert len(rest["executions"]) == 1 and "nextToken" not in rest
    seen = {e["executionArn"] for e in page["executions"] + rest["executions"]}
    assert seen == set(arns)
    for arn in arns[1:]:
        sfn.stop_execution(executionArn=arn)


def test_describe_state_machine_for_execution_keeps_the_definition_it_ran(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    sfn.update_state_machine(stateMachineArn=machine, definition=FAILING)
    out = sfn.describe_state_machine_for_execution(executionArn=arn)
    assert out["definition"] == CHAIN
    assert out["stateMachineArn"] == machine


def test_a_failed_execution_reports_error_and_cause(sfn: Any) -> None:
    machine = create(sfn, definition=FAILING)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    out = wait_done(sfn, arn)
    assert out["status"] == "FAILED"
    assert (out["error"], out["cause"]) == ("Oops", "broken")
    assert "output" not in out
    assert out["redriveStatus"] == "REDRIVABLE"


def test_redrive_runs_a_failed_execution_again(sfn: Any) -> None:
    machine = create(sfn, definition=FAILING)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    wait_done(sfn, arn)
    redriven = sfn.redrive_execution(executionArn=arn)
    assert redriven["redriveDate"]
    out = wait_done(sfn, arn)
    assert out["status"] == "FAILED"
    assert out["redriveCount"] == 1
    types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
    assert "ExecutionRedriven" in types
    assert types.count("ExecutionFailed") == 2
    succeeded = create(sfn, definition=CHAIN)
    done = sfn.start_execution(stateMachineArn=succeeded)["executionArn"]
    wait_done(sfn, done)
    with pytest.raises(ClientError) as info:
        sfn.redrive_execution(executionArn=done)
    assert error_of(info)[0] == "ExecutionNotRedrivable"


def test_start_sync_execution_runs_an_express_machine(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN, type="EXPRESS")
    out = sfn.start_sync_execution(stateMachineArn=machine, name="sync-1", input='{"x": 2}')
    assert out["status"] == "SUCCEEDED"
    assert json.loads(out["output"]) == {"x": 2, "a": {"n": 1}, "b": 2}
    assert out["executionArn"].startswith(machine.replace(":stateMachine:", ":express:"))
    assert out["billingDetails"]["billedDurationInMilliseconds"] >= 100
    failing = create(sfn, definition=FAILING, type="EXPRESS")
    failed = sfn.start_sync_execution(stateMachineArn=failing)
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Oops", "broken")
    standard = create(sfn, definition=CHAIN)
    with pytest.raises(ClientError) as info:
        sfn.start_sync_execution(stateMachineArn=standard)
    assert error_of(info)[0] == "StateMachineTypeNotSupported"


def test_an_async_express_start_answers_with_an_express_arn(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN, type="EXPRESS")
    out = sfn.start_execution(stateMachineArn=machine, name=unique("ex"))
    assert ":express:" in out["executionArn"]
    with pytest.raises(ClientError) as info:
        sfn.list_executions(stateMachineArn=machine)
    assert error_of(info)[0] == "StateMachineTypeNotSupported"


def test_an_execution_of_a_version_records_the_version(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN, publish=True)
    version = sfn.list_state_machine_versions(stateMachineArn=machine)["stateMachineVersions"][0]
    version_arn = version["stateMachineVersionArn"]
    arn = sfn.start_execution(stateMachineArn=version_arn)["executionArn"]
    out = wait_done(sfn, arn)
    assert out["stateMachineVersionArn"] == version_arn
    listed = sfn.list_executions(stateMachineArn=version_arn)["executions"]
    assert [e["executionArn"] for e in listed] == [arn]


def test_an_express_execution_logs_its_events_when_logging_is_on(
    sfn: Any, boto_client: Callable[..., Any]
) -> None:
    logs = boto_client("logs")
    group = f"/sfn/{unique('express')}"
    logs.create_log_group(logGroupName=group)
    group_arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    machine = create(
        sfn,
        definition=CHAIN,
        type="EXPRESS",
        loggingConfiguration={
            "level": "ALL",
            "includeExecutionData": True,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn}}],
        },
    )
    out = sfn.start_sync_execution(stateMachineArn=machine, input='{"x": 3}')
    assert out["status"] == "SUCCEEDED"
    deadline = time.monotonic() + 30
    lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = logs.filter_log_events(logGroupName=group)["events"]
        lines = [json.loads(e["message"]) for e in found]
        if any(line["type"] == "ExecutionSucceeded" for line in lines):
            break
        time.sleep(0.1)
    types = [line["type"] for line in lines]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert {line["execution_arn"] for line in lines} == {out["executionArn"]}
    assert lines[0]["details"]["input"] == '{"x": 3}'


def test_metadata_only_leaves_the_payloads_out(sfn: Any) -> None:
    machine = create(sfn, definition=CHAIN)
    arn = sfn.start_execution(stateMachineArn=machine, input='{"secret": 1}')["executionArn"]
    wait_done(sfn, arn)
    out = sfn.describe_execution(executionArn=arn, includedData="METADATA_ONLY")
    assert "input" not in out and "output" not in out
    assert out["inputDetails"] == {"included": False}


def test_a_mock_test_case_needs_a_mock_configuration(sfn: Any) -> None:
    # The session server has no MockConfigFile.json: ``arn#TestCase`` cannot name a test case.
    machine = create(sfn, definition=CHAIN)
    with pytest.raises(ClientError) as info:
        sfn.start_execution(stateMachineArn=f"{machine}#HappyPath")
    assert error_of(info)[:2] == ("ValidationException", 400)
    assert "HappyPath" in error_of(info)[2]
