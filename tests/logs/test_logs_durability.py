"""An acknowledged PutLogEvents survives ``kill -9`` of the server (DESIGN.md, decision 4)."""

from __future__ import annotations

import time
from pathlib import Path

from lambdamaker.testing import ServerProcess


def test_acknowledged_log_events_survive_a_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        logs = server.client("logs")
        logs.create_log_group(logGroupName="/crash/test")
        logs.create_log_stream(logGroupName="/crash/test", logStreamName="s")
        now = int(time.time() * 1000)
        for batch in range(5):
            logs.put_log_events(
                logGroupName="/crash/test",
                logStreamName="s",
                logEvents=[
                    {"timestamp": now + batch * 10 + i, "message": f"{batch}.{i}"}
                    for i in range(10)
                ],
            )
        server.kill()
        server.start()
        events = server.client("logs").get_log_events(
            logGroupName="/crash/test", logStreamName="s", startFromHead=True
        )["events"]
        assert [e["message"] for e in events] == [f"{b}.{i}" for b in range(5) for i in range(10)]
    finally:
        server.stop()
