"""Scheduled rules on a fake clock, in-process: rate and cron ticks fire once each to the rule's
targets, missed ticks collapse into one, disabled rules consume ticks silently, and a restart
on the same store never fires a tick twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eb_support import Call

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.events.scheduler import RuleScheduler


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Harness:
    """A platform (SQS + EventBridge) whose rule scheduler runs only when told to."""

    def __init__(self, data_dir: Path, clock: FakeClock) -> None:
        self.platform = Platform(PlatformConfig(data_dir=data_dir), services=["sqs", "events"])
        provider: Any = self.platform.providers["events"]
        provider.scheduler = RuleScheduler(
            self.platform.store, provider.router, clock=clock, threaded=False
        )
        self.scheduler: RuleScheduler = provider.scheduler
        self.platform.start()
        self.events = Call(self.platform, "events")
        self.sqs = Call(self.platform, "sqs")

    def drain(self, url: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not got:
                return out
            for m in got:
                self.sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                out.append(json.loads(m["Body"]))

    def close(self) -> None:
        self.platform.close()


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture()
def harness(tmp_path: Path, clock: FakeClock) -> Iterator[Harness]:
    h = Harness(tmp_path / "data", clock)
    yield h
    h.close()


def _queue(h: Harness, name: str) -> tuple[str, str]:
    url = h.sqs("CreateQueue", QueueName=name)["QueueUrl"]
    arn = h.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_rate_rule_fires_each_tick_once_with_the_scheduled_event(
    harness: Harness, clock: FakeClock
) -> None:
    url, arn = _queue(harness, "ticks")
    rule_arn = harness.events("PutRule", Name="every-minute", ScheduleExpression="rate(1 minute)")[
        "RuleArn"
    ]
    harness.events("PutTargets", Rule="every-minute", Targets=[{"Id": "q", "Arn": arn}])
    clock.now += 30
    wake = harness.scheduler.run_once()
    assert harness.drain(url) == []
    assert wake is not None and clock.now < wake <= clock.now + 31

    clock.now = wake + 0.5
    harness.scheduler.run_once()
    harness.scheduler.run_once()  # same moment again: nothing new
    [event] = harness.drain(url)
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == [rule_arn]
    assert event["detail"] == {}
    assert event["time"] == _iso(wake)
    assert (event["account"], event["region"], event["version"]) == (
        "000000000000",
        "us-east-1",
        "0",
    )

    # Ten minutes without a pass (an outage): one catch-up tick, the latest, not ten.
    clock.now += 600
    harness.scheduler.run_once()
    [late] = harness.drain(url)
    assert late["time"] == _iso(wake + 600)


def test_cron_rule_fires_on_its_minutes(harness: Harness, clock: FakeClock) -> None:
    url, arn = _queue(harness, "cron")
    harness.events("PutRule", Name="fives", ScheduleExpression="cron(0/5 * * * ? *)")
    harness.events("PutTargets", Rule="fives", Targets=[{"Id": "q", "Arn": arn, "Input": '"x"'}])
    next_five = (int(clock.now) // 300 + 1) * 300
    clock.now = next_five - 1
    harness.scheduler.run_once()
    assert harness.drain(url) == []
    clock.now = next_five + 1
    harness.scheduler.run_once()
    assert harness.drain(url) == ["x"]


def test_disabled_rule_consumes_ticks_without_firing(harness: Harness, clock: FakeClock) -> None:
    url, arn = _queue(harness, "quiet")
    harness.events("PutRule", Name="quiet", ScheduleExpression="rate(1 minute)")
    harness.events("PutTargets", Rule="quiet", Targets=[{"Id": "q", "Arn": arn}])
    harness.events("DisableRule", Name="quiet")
    clock.now += 185
    harness.scheduler.run_once()
    harness.events("EnableRule", Name="quiet")
    harness.scheduler.run_once()
    assert harness.drain(url) == []  # no catch-up for ticks while disabled
    clock.now += 60
    harness.scheduler.run_once()
    assert len(harness.drain(url)) == 1


def test_restart_never_fires_a_tick_twice(tmp_path: Path, clock: FakeClock) -> None:
    first = Harness(tmp_path / "data", clock)
    url, arn = _queue(first, "once")
    first.events("PutRule", Name="once", ScheduleExpression="rate(1 minute)")
    first.events("PutTargets", Rule="once", Targets=[{"Id": "q", "Arn": arn}])
    clock.now += 61
    first.scheduler.run_once()
    first.close()

    second = Harness(tmp_path / "data", clock)
    try:
        second.scheduler.run_once()  # same moment, new process: the cursor is committed
        assert len(second.drain(url)) == 1
        clock.now += 60
        second.scheduler.run_once()
        second.scheduler.run_once()
        assert len(second.drain(url)) == 1
    finally:
        second.close()


def test_deleted_rule_forgets_its_cursor(harness: Harness, clock: FakeClock) -> None:
    harness.events("PutRule", Name="gone", ScheduleExpression="rate(2 minutes)")
    clock.now += 10
    assert harness.scheduler.run_once() is not None
    harness.events("DeleteRule", Name="gone")
    assert harness.scheduler.run_once() is None
