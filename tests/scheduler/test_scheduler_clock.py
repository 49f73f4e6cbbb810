"""The scheduler loop on a fake clock, in-process against a Store (SQLite and PostgreSQL):
rate/cron/at firing, time zones, flexible windows, missed ticks, restarts, retries and DLQ."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.scheduler import SchedulerProvider
from lambdamaker.testing import FakeClock
from lambdamaker.testing.inprocess import call_operation

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
START = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)  # a Monday


class Harness:
    """Calls providers as the gateway would; drives the scheduler loop by hand."""

    def __init__(self, platform: Platform, clock: FakeClock) -> None:
        self.platform = platform
        provider = platform.providers["scheduler"]
        assert isinstance(provider, SchedulerProvider)
        # The test drives the loop on its clock; no thread (set before the platform starts).
        provider.loop.run_in_thread = False
        provider.loop.clock = clock
        self.provider = provider
        platform.providers["sqs"].clock = clock  # type: ignore[attr-defined]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        return call_operation(
            self.platform,
            service,
            operation,
            account=ACCOUNT,
            endpoint_url="http://lm.test",
            **params,
        )

    def tick(self) -> float:
        return self.provider.loop.run_once()

    def queue(self, name: str) -> tuple[str, str]:
        url = self.call("sqs", "CreateQueue", QueueName=name)["QueueUrl"]
        return url, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"

    def drain(self, url: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            got = self.call(
                "sqs",
                "ReceiveMessage",
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                return out
            for message in got:
                self.call(
                    "sqs", "DeleteMessage", QueueUrl=url, ReceiptHandle=message["ReceiptHandle"]
                )
            out.extend(got)

    def bodies(self, url: str) -> list[str]:
        return [m["Body"] for m in self.drain(url)]

    def create(self, name: str, expression: str, arn: str, **extra: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "Name": name,
            "ScheduleExpression": expression,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": arn, "RoleArn": ROLE, "Input": name},
        }
        params.update(extra)
        return self.call("scheduler", "CreateSchedule", **params)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


def _open(config: PlatformConfig, clock: FakeClock) -> Harness:
    harness = Harness(Platform(config, services=["sqs", "scheduler"]), clock)
    harness.platform.start()
    return harness


@pytest.fixture()
def lm(config: PlatformConfig, clock: FakeClock) -> Iterator[Harness]:
    harness = _open(config, clock)
    yield harness
    harness.platform.close()


def test_rate_schedule_fires_at_creation_and_then_every_period(
    lm: Harness, clock: FakeClock
) -> None:
    url, arn = lm.queue("rate")
    lm.create("every5", "rate(5 minutes)", arn)
    lm.tick()
    assert lm.bodies(url) == ["every5"]
    clock.advance(minutes=4, seconds=59)
    lm.tick()
    assert lm.bodies(url) == []
    clock.advance(seconds=1)
    lm.tick()
    lm.tick()  # a second pass at the same instant fires nothing more
    assert lm.bodies(url) == ["every5"]


def test_run_once_reports_seconds_until_the_next_tick(lm: Harness, clock: FakeClock) -> None:
    _, arn = lm.queue("wait")
    lm.create("hourly", "rate(1 hour)", arn)
    assert lm.tick() == pytest.approx(3600.0)
    clock.advance(minutes=10)
    assert lm.tick() == pytest.approx(3000.0)


def test_cron_schedule_fires_in_its_time_zone(lm: Harness, clock: FakeClock) -> None:
    url, arn = lm.queue("cron")
    # 09:00 in New York on weekdays is 14:00 UTC in March before DST starts (March 8).
    lm.create(
        "morning",
        "cron(0 9 ? * MON-FRI *)",
        arn,
        ScheduleExpressionTimezone="America/New_York",
    )
    lm.tick()
    assert lm.bodies(url) == []
    clock.set(datetime(2026, 3, 2, 13, 59, 59, tzinfo=UTC))
    lm.tick()
    assert lm.bodies(url) == []
    clock.set(datetime(2026, 3, 2, 14, 0, 0, tzinfo=UTC))
    lm.tick()
    assert lm.bodies(url) == ["morning"]
    # After DST starts, 09:00 New York is 13:00 UTC.
    clock.set(datetime(2026, 3, 9, 13, 0, 0, tzinfo=UTC))
    lm.tick()
    assert lm.bodies(url) == ["morning"]


def test_missed_ticks_fire_once_after_an_outage(lm: Harness, clock: FakeClock) -> None:
    url, arn = lm.queue("missed")
    lm.create("every5", "rate(5 minutes)", arn)
    lm.tick()
    assert lm.bodies(url) == ["every5"]
    clock.advance(days=1, seconds=30)  # 288 ticks passed while nothing ran
    lm.tick()
    assert lm.bodies(url) == ["every5"]
    clock.advance(minutes=4, seconds=29)  # the next tick is on the original grid
    lm.tick()
    assert lm.bodies(url) == []
    clock.advance(seconds=1)
    lm.tick()
    assert lm.bodies(url) == ["every5"]


def test_one_time_schedule_fires_once_and_is_deleted_after_completion(
    lm: Harness, clock: FakeClock
) -> None:
    url, arn = lm.queue("once")
    lm.create("once", "at(2026-03-02T12:10:00)", arn, ActionAfterCompletion="DELETE")
    lm.create("kept", "at(2026-03-02T12:10:00)", arn)
    clock.set(datetime(2026, 3, 2, 12, 9, 59, tzinfo=UTC))
    lm.tick()
    assert lm.bodies(url) == []
    clock.set(datetime(2026, 3, 2, 12, 10, 0, tzinfo=UTC))
    lm.tick()
    assert sorted(lm.bodies(url)) == ["kept", "once"]
    with pytest.raises(ServiceError) as info:
        lm.call("scheduler", "GetSchedule", Name="once")
    assert info.value.code == "ResourceNotFoundException"
    assert lm.call("scheduler", "GetSchedule", Name="kept")["State"] == "ENABLED"
    clock.advance(days=3)
    lm.tick()
    assert lm.bodies(url) == []


def test_missed_one_time_schedule_fires_late_once(config: PlatformConfig, clock: FakeClock) -> None:
    lm = _open(config, clock)
    url, arn = lm.queue("late")
    lm.create("late", "at(2026-03-02T12:10:00)", arn)
    lm.platform.close()
    clock.set(datetime(2026, 3, 2, 18, 0, 0, tzinfo=UTC))  # down over the tick
    lm = _open(config, clock)
    try:
        lm.tick()
        lm.tick()
        assert lm.bodies(url) == ["late"]
    finally:
        lm.platform.close()


def test_restart_never_fires_a_tick_twice(config: PlatformConfig, clock: FakeClock) -> None:
    lm = _open(config, clock)
    url, arn = lm.queue("restart")
    lm.create("minutely", "rate(1 minute)", arn)
    lm.tick()
    lm.platform.close()
    lm = _open(config, clock)  # same instant: the tick is already recorded
    try:
        lm.tick()
        assert lm.bodies(url) == ["minutely"]
        clock.advance(minutes=3, seconds=10)  # down across three ticks: one catch-up fires
        lm.tick()
        assert lm.bodies(url) == ["minutely"]
    finally:
        lm.platform.close()


def test_disabled_schedule_does_not_fire_and_skips_ticks_missed_while_disabled(
    lm: Harness, clock: FakeClock
) -> None:
    url, arn = lm.queue("disabled")
    lm.create("off", "rate(1 minute)", arn, State="DISABLED")
    clock.advance(minutes=5)
    lm.tick()
    assert lm.bodies(url) == []
    lm.call(
        "scheduler",
        "UpdateSchedule",
        Name="off",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE, "Input": "on"},
    )
    lm.tick()
    assert lm.bodies(url) == []
    clock.advance(minutes=1)
    lm.tick()
    assert lm.bodies(url) == ["on"]


def test_end_date_stops_a_schedule_and_delete_removes_it(lm: Harness, clock: FakeClock) -> None:
    url, arn = lm.queue("bounded")
    lm.create(
        "bounded",
        "rate(1 minute)",
        arn,
        EndDate=START + timedelta(minutes=2, seconds=10),
        ActionAfterCompletion="DELETE",
    )
    fired = 0
    for _ in range(5):
        lm.tick()
        fired += len(lm.bodies(url))
        clock.advance(minutes=1)
    assert fired == 3  # at creation, +1 min, +2 min
    assert lm.call("scheduler", "ListSchedules")["Schedules"] == []


def test_flexible_window_fires_within_the_window_at_a_stable_instant(
    config: PlatformConfig, clock: FakeClock
) -> None:
    lm = _open(config, clock)
    url, arn = lm.queue("flex")
    lm.create(
        "flex",
        "cron(0 13 * * ? *)",
        arn,
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30},
    )
    tick = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    clock.set(tick)
    wait = lm.tick()
    assert lm.bodies(url) == [] or wait == 0  # fires at tick + offset, offset in [0, 30 min)
    assert 0 <= wait < 30 * 60
    lm.platform.close()
    lm = _open(config, clock)  # a restart computes the same instant
    try:
        assert lm.tick() == pytest.approx(wait)
        clock.advance(seconds=wait)
        lm.tick()
        assert lm.bodies(url) == ["flex"]
    finally:
        lm.platform.close()


def test_failed_delivery_is_retried_then_dead_lettered(lm: Harness, clock: FakeClock) -> None:
    dlq_url, dlq_arn = lm.queue("dlq")
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:not-yet"
    lm.create(
        "failing",
        "at(2026-03-02T12:05:00)",
        missing,
        Target={
            "Arn": missing,
            "RoleArn": ROLE,
            "Input": '{"x": 1}',
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
    )
    clock.set(datetime(2026, 3, 2, 12, 5, tzinfo=UTC))
    assert lm.tick() == pytest.approx(1.0)  # first retry after 1 s
    clock.advance(seconds=1)
    assert lm.tick() == pytest.approx(2.0)
    assert lm.drain(dlq_url) == []
    clock.advance(seconds=2)
    lm.tick()
    [dead] = lm.drain(dlq_url)
    assert dead["Body"] == '{"x": 1}'
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "QueueDoesNotExist"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["TARGET_ARN"] == missing
    assert attributes["SCHEDULE_ARN"].endswith(":schedule/default/failing")


def test_retry_succeeds_once_the_target_exists(lm: Harness, clock: FakeClock) -> None:
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:later"
    lm.create("retry", "at(2026-03-02T12:05:00)", arn)
    clock.set(datetime(2026, 3, 2, 12, 5, tzinfo=UTC))
    lm.tick()
    url, _ = lm.queue("later")
    clock.advance(seconds=1)
    lm.tick()
    assert lm.bodies(url) == ["retry"]
    clock.advance(minutes=10)
    lm.tick()
    assert lm.bodies(url) == []


def test_fifo_queue_target_gets_the_group_id(lm: Harness, clock: FakeClock) -> None:
    url = lm.call("sqs", "CreateQueue", QueueName="f.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:f.fifo"
    lm.create(
        "fifo",
        "rate(1 minute)",
        arn,
        Target={
            "Arn": arn,
            "RoleArn": ROLE,
            "Input": "m",
            "SqsParameters": {"MessageGroupId": "g"},
        },
    )
    lm.tick()
    [message] = lm.call("sqs", "ReceiveMessage", QueueUrl=url, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    assert message["Body"] == "m"
    assert message["Attributes"]["MessageGroupId"] == "g"


def test_list_schedules_pages_on_every_backend(lm: Harness) -> None:
    _, arn = lm.queue("paging")
    for name in ("b_2", "a-1", "b_1", "c.3"):
        lm.create(name, "rate(1 day)", arn)
    seen: list[str] = []
    params: dict[str, Any] = {"MaxResults": 1, "NamePrefix": "b_"}
    while True:
        page = lm.call("scheduler", "ListSchedules", **params)
        seen.extend(s["Name"] for s in page["Schedules"])
        if "NextToken" not in page:
            break
        params["NextToken"] = page["NextToken"]
    assert seen == ["b_1", "b_2"]
