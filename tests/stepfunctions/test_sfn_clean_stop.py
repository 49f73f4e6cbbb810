"""A clean stop (SIGTERM) in the middle of a Task leaves the Standard execution RUNNING, and the
next start resumes it to success: Step Functions shuts down before the services its tasks call,
so a half-closed Lambda never fails an execution."""

from __future__ import annotations

import json
import time
from pathlib import Path

from lambdamaker.testing import ServerProcess, zip_files

ROLE = "arn:aws:iam::000000000000:role/clean-stop"
SLOW = "import time\ndef handler(event, context):\n    time.sleep(3)\n    return {'ok': 1}\n"


def test_a_task_interrupted_by_a_clean_stop_resumes_after_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        lam, sfn = server.client("lambda"), server.client("stepfunctions")
        function = lam.create_function(
            FunctionName="slow",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Timeout=30,
            Code={"ZipFile": zip_files({"app.py": SLOW})},
        )["FunctionArn"]
        lam.get_waiter("function_active_v2").wait(FunctionName="slow", WaiterConfig={"Delay": 1})
        definition = {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": function, "Payload": {}},
                    "End": True,
                }
            },
        }
        machine = sfn.create_state_machine(
            name="m", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, name="x")["executionArn"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = sfn.get_execution_history(executionArn=execution)["events"]
            if any(event["type"] == "TaskStarted" for event in events):
                break
            time.sleep(0.05)
        server.stop()
        server.start()
        sfn = server.client("stepfunctions")
        deadline = time.monotonic() + 60
        described = sfn.describe_execution(executionArn=execution)
        while described["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
            described = sfn.describe_execution(executionArn=execution)
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"])["Payload"] == {"ok": 1}
    finally:
        server.stop()
