"""A real server killed with SIGKILL and restarted on the same data dir: ticks already fired
are not fired again. (Missed ticks during downtime are covered on a fake clock in
test_scheduler_clock.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdamaker.testing import ServerProcess

ROLE = "arn:aws:iam::000000000000:role/scheduler"


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data").start()
    yield server
    server.stop()


def _drain(sqs: Any, url: str, seconds: float) -> list[str]:
    bodies: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10
        ).get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_kill_and_restart_does_not_fire_a_tick_twice(server: ServerProcess) -> None:
    sqs, scheduler = server.client("sqs"), server.client("scheduler")
    url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:000000000000:ticks"
    # A rate schedule fires its first tick at creation; the next one is a minute later.
    scheduler.create_schedule(
        Name="minutely",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE, "Input": "rate"},
    )
    when = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0, tzinfo=None)
    scheduler.create_schedule(
        Name="once",
        ScheduleExpression=f"at({when.isoformat()})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE, "Input": "at"},
    )
    assert sorted(_drain(sqs, url, 4)) == ["at", "rate"]

    server.kill()
    server.start()
    sqs, scheduler = server.client("sqs"), server.client("scheduler")
    assert _drain(sqs, url, 3) == []
    assert {s["Name"] for s in scheduler.list_schedules()["Schedules"]} == {"minutely", "once"}
