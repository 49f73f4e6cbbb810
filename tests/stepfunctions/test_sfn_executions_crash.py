"""Standard executions survive ``kill -9``: a server is killed while executions are part-way
through, restarted on the same data directory, and every execution finishes with each state
entered exactly once and event ids without gaps. ``EXECUTIONS`` and ``KILLS`` are small here;
the issue's crash test (1,000 executions of 20 steps, 30 kills) is this test scaled up."""

from __future__ import annotations

import collections
import json
import os
import time
from pathlib import Path
from typing import Any

from lambdamaker.testing import ServerProcess

# Scaled up by hand (or by a later round) through the environment.
EXECUTIONS = int(os.environ.get("LM_SFN_CRASH_EXECUTIONS", "20"))
KILLS = int(os.environ.get("LM_SFN_CRASH_KILLS", "2"))
ROLE = "arn:aws:iam::000000000000:role/crash"


def chain_definition(steps: int) -> str:
    """Pass states, with a one-second Wait every fifth step so executions are in flight long
    enough to be killed part-way."""
    states: dict[str, Any] = {}
    for index in range(steps):
        name = f"S{index:02d}"
        state: dict[str, Any] = (
            {"Type": "Wait", "Seconds": 1} if index % 5 == 4 else {"Type": "Pass"}
        )
        if index == steps - 1:
            state["End"] = True
        else:
            state["Next"] = f"S{index + 1:02d}"
        states[name] = state
    return json.dumps({"StartAt": "S00", "States": states})


def all_done(sfn: Any, arns: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        statuses = {arn: sfn.describe_execution(executionArn=arn)["status"] for arn in arns}
        if "RUNNING" not in statuses.values():
            break
        time.sleep(0.2)
    return statuses


def history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]


def test_executions_resume_after_kill_9_without_duplicated_transitions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        sfn = server.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="crash", definition=chain_definition(20), roleArn=ROLE
        )["stateMachineArn"]
        arns = [
            sfn.start_execution(stateMachineArn=machine, name=f"e{i}", input=json.dumps({"i": i}))[
                "executionArn"
            ]
            for i in range(EXECUTIONS)
        ]
        for _ in range(KILLS):
            time.sleep(1.3)
            server.kill()
            server = ServerProcess(data).start()
            sfn = server.client("stepfunctions")
        statuses = all_done(sfn, arns, timeout=60 + EXECUTIONS / 10)
        assert set(statuses.values()) == {"SUCCEEDED"}, statuses
        for index, arn in enumerate(arns):
            out = sfn.describe_execution(executionArn=arn)
            assert json.loads(out["output"]) == {"i": index}
            events = history(sfn, arn)
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            entered = collections.Counter(
                e["stateEnteredEventDetails"]["name"]
                for e in events
                if e["type"].endswith("StateEntered")
            )
            assert entered == {f"S{n:02d}": 1 for n in range(20)}, arn
            assert [e["type"] for e in events].count("ExecutionSucceeded") == 1
    finally:
        server.stop()
