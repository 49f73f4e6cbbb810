"""Lambda's real retry delays (about 1 then 2 minutes) and event ages, on a fake clock: an
in-process platform whose async dispatcher reads time from the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from lambda_support import ACCOUNT, REGION, Caller, make_zip

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.provider import LambdaProvider
from lambdamaker.services.lambda_.tables import events
from lambdamaker.testing import FakeClock

FAIL = "def handler(event, context):\n    raise ValueError('boom')\n"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    config = PlatformConfig(data_dir=tmp_path / "data", async_retry_scale=1.0)
    p = Platform(config, services=["s3", "iam", "sts", "sqs", "lambda"])
    p.start()
    yield p
    p.close()


@pytest.fixture()
def clock(platform: Platform) -> FakeClock:
    fake = FakeClock(time.time())
    provider = platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    provider.dispatcher.clock = fake
    return fake


def event_row(platform: Platform, attempts: int) -> Any:
    """The queued event once it has made ``attempts`` attempts (the dispatcher is a thread)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with platform.store.read() as conn:
            row = conn.execute(sa.select(events)).first()
        if row is not None and row.attempts == attempts and row.lease_until_ms == 0:
            return row
        time.sleep(0.01)
    raise AssertionError(f"no event with {attempts} attempt(s)")


def failures(platform: Platform, wait: int = 0) -> list[dict[str, Any]]:
    sqs = Caller(platform, "sqs")
    url = sqs("GetQueueUrl", QueueName="failures")["QueueUrl"]
    got = sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=wait).get("Messages", [])
    return [orjson.loads(m["Body"]) for m in got]


def advance(platform: Platform, clock: FakeClock, to_ms: int) -> None:
    clock.now = to_ms / 1000
    provider = platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    provider.dispatcher.notify()


def setup(platform: Platform, **config: Any) -> Caller:
    lam = Caller(platform)
    Caller(platform, "sqs")("CreateQueue", QueueName="failures")
    lam.create("fails", make_zip({"app.py": FAIL}))
    lam.wait_active("fails")
    lam(
        "PutFunctionEventInvokeConfig",
        FunctionName="fails",
        DestinationConfig={"OnFailure": {"Destination": QUEUE_ARN}},
        **config,
    )
    return lam


def test_retries_wait_one_then_two_minutes(platform: Platform, clock: FakeClock) -> None:
    lam = setup(platform)
    lam("Invoke", FunctionName="fails", InvocationType="Event", Payload=b'{"k": 1}')
    failed_at = int(clock.now * 1000)
    first = event_row(platform, 1)
    assert first.next_attempt_ms == failed_at + 60_000
    assert failures(platform) == []

    advance(platform, clock, first.next_attempt_ms)
    second = event_row(platform, 2)
    assert second.next_attempt_ms == first.next_attempt_ms + 120_000

    advance(platform, clock, second.next_attempt_ms)
    [record] = failures(platform, wait=20)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3


def test_a_retry_due_after_the_maximum_age_ends_as_event_age_exceeded(
    platform: Platform, clock: FakeClock
) -> None:
    lam = setup(platform, MaximumEventAgeInSeconds=90)
    lam("Invoke", FunctionName="fails", InvocationType="Event", Payload=b'{"k": 2}')
    first = event_row(platform, 1)
    advance(platform, clock, first.next_attempt_ms)
    second = event_row(platform, 2)  # created at t, now t+60 s: still young enough
    advance(platform, clock, second.next_attempt_ms)  # t+180 s > 90 s
    [record] = failures(platform, wait=20)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"k": 2}
