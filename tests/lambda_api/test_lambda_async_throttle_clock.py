"""Throttled async events on a fake clock: an event that cannot run for want of concurrency is
retried about 1 s, then 2 s, 4 s... later (up to 5 minutes apart), without counting as a retry
of a function error, until its maximum age sends it to OnFailure as ``EventAgeExceeded``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from lambda_support import ACCOUNT, REGION, Caller, echo_zip

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.provider import LambdaProvider
from lambdamaker.services.lambda_.tables import events
from lambdamaker.testing import FakeClock

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:throttled"


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


def event_row(platform: Platform, throttles: int) -> Any:
    """The queued event once it has been throttled ``throttles`` times."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with platform.store.read() as conn:
            row = conn.execute(sa.select(events)).first()
        if row is not None and row.throttles == throttles and row.lease_until_ms == 0:
            return row
        time.sleep(0.01)
    raise AssertionError(f"no event throttled {throttles} time(s)")


def advance(platform: Platform, clock: FakeClock, to_ms: int) -> None:
    clock.now = to_ms / 1000
    provider = platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    provider.dispatcher.notify()


def test_throttled_event_backs_off_then_expires_to_on_failure(
    platform: Platform, clock: FakeClock
) -> None:
    lam = Caller(platform)
    sqs = Caller(platform, "sqs")
    url = sqs("CreateQueue", QueueName="throttled")["QueueUrl"]
    lam.create("busy", echo_zip())
    lam.wait_active("busy")
    lam("PutFunctionConcurrency", FunctionName="busy", ReservedConcurrentExecutions=0)
    lam(
        "PutFunctionEventInvokeConfig",
        FunctionName="busy",
        MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": QUEUE_ARN}},
    )
    lam("Invoke", FunctionName="busy", InvocationType="Event", Payload=b'{"k": 1}')
    created = int(clock.now * 1000)

    waits = []
    due = created
    for n in range(1, 6):
        row = event_row(platform, n)
        assert row.attempts == 0  # throttles are not retries of function errors
        waits.append(row.next_attempt_ms - due)
        due = row.next_attempt_ms
        advance(platform, clock, due)
    # About 1, 2, 4, 8, 16 s (each +-20 %).
    for n, wait in enumerate(waits):
        assert 0.8 * 1000 * 2**n <= wait <= 1.2 * 1000 * 2**n, waits

    advance(platform, clock, created + 121_000)
    got: list[Any] = []
    deadline = time.monotonic() + 30
    while not got and time.monotonic() < deadline:
        got = sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    [message] = got
    record = orjson.loads(message["Body"])
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"k": 1}


def test_throttle_backoff_is_capped_at_five_minutes(platform: Platform) -> None:
    from lambdamaker.services.lambda_.events import QueuedEvent

    provider = platform.providers["lambda"]
    assert isinstance(provider, LambdaProvider)
    event = QueuedEvent(1, "r", "f", None, "arn", b"{}", 0, 0, throttles=40)
    outcome = provider.throttled(event)
    assert not outcome.done and outcome.throttled and not outcome.count_attempt
    assert outcome.delay_ms == 300_000
