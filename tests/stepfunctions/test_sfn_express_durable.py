"""Express async starts are at-least-once: an execution accepted by StartExecution runs to its
end even when the server is killed with SIGKILL while it runs (it runs again from the start
after the restart), and an execution that ended is not run again by a later restart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sfn_support import ROLE

from lambdamaker.testing import ServerProcess

WAIT_THEN_SEND = {
    "StartAt": "Hold",
    "States": {
        "Hold": {"Type": "Wait", "SecondsPath": "$.hold", "Next": "Send"},
        "Send": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"QueueUrl.$": "$.queue", "MessageBody.$": "$.id"},
            "End": True,
        },
    },
}


def received(sqs: Any, url: str, expect: int, timeout: float) -> list[str]:
    """Bodies received (deleted as read) until ``expect`` distinct ones came or ``timeout``
    passed. Distinct: at-least-once allows a body twice (a run that sent before the kill but
    whose ledger row was not deleted yet runs again), which must not end the wait early."""
    bodies: list[str] = []
    deadline = time.monotonic() + timeout
    while len(set(bodies)) < expect and time.monotonic() < deadline:
        wait = max(1, min(5, int(deadline - time.monotonic())))
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        for message in out.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def setup(server: ServerProcess) -> tuple[Any, Any, str, str]:
    sfn, sqs = server.client("stepfunctions"), server.client("sqs")
    url = sqs.create_queue(QueueName="express-out")["QueueUrl"]
    machine = sfn.create_state_machine(
        name="express", definition=json.dumps(WAIT_THEN_SEND), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    return sfn, sqs, url, machine


def test_accepted_express_starts_survive_a_kill(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        sfn, sqs, url, machine = setup(server)
        ids = [f"run-{i}" for i in range(5)]
        for run_id in ids:
            payload = {"hold": 3, "queue": url, "id": run_id}
            arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))[
                "executionArn"
            ]
            assert ":express:" in arn
        # Every execution is in its Wait, unless the starts took over 3 s (a loaded machine):
        # then one may have sent already and, its row not deleted yet, send again after this.
        server.kill()
        server.start()
        sqs = server.client("sqs")
        bodies = received(sqs, url, len(ids), timeout=30)
        assert sorted(set(bodies)) == ids
    finally:
        server.stop()


def test_an_ended_express_execution_is_not_run_again(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        sfn, sqs, url, machine = setup(server)
        payload = {"hold": 0, "queue": url, "id": "once"}
        sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))
        assert received(sqs, url, 1, timeout=30) == ["once"]
        # The ledger row goes shortly after the end; a clean stop then a kill after restart.
        time.sleep(0.5)
        server.stop()
        server.start()
        server.kill()
        server.start()
        assert received(server.client("sqs"), url, 1, timeout=3) == []
    finally:
        server.stop()
