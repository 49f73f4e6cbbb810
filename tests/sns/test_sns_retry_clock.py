"""SNS's retry schedule for AWS-managed endpoints, kept in the store, on a fake clock: an
in-process platform (SQLite and PostgreSQL) whose SNS dispatcher the test drives pass by pass
(no thread, no sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sns.delivery import Delivery, retry_delay
from lambdamaker.services.sns.provider import SnsProvider
from lambdamaker.services.sns.tables import deliveries
from lambdamaker.services.sqs.provider import SqsProvider
from lambdamaker.testing import FakeClock

ACCOUNT = "000000000000"
REGION = "us-east-1"


def ctx(service: str, operation: str) -> RequestContext:
    return RequestContext("req", service, operation, REGION, ACCOUNT)


@pytest.fixture()
def platform(tmp_path: Path, store_url: str) -> Iterator[Platform]:
    config = PlatformConfig(data_dir=tmp_path / "data", store_url=store_url)
    p = Platform(config, services=["sqs", "sns"])
    p.start()
    sns = p.providers["sns"]
    assert isinstance(sns, SnsProvider)
    sns.delivery.close()  # the test drives its own dispatcher instead of the thread
    yield p
    p.close()


def providers(platform: Platform) -> tuple[SnsProvider, SqsProvider]:
    sns, sqs = platform.providers["sns"], platform.providers["sqs"]
    assert isinstance(sns, SnsProvider) and isinstance(sqs, SqsProvider)
    return sns, sqs


def pending(platform: Platform) -> list[Any]:
    with platform.store.read() as conn:
        return list(conn.execute(sa.select(deliveries)))


def subscribe_missing_queue(platform: Platform) -> None:
    sns, _ = providers(platform)
    topic = sns.create_topic(ctx("sns", "CreateTopic"), {"Name": "t"})["TopicArn"]
    sns.subscribe(
        ctx("sns", "Subscribe"),
        {
            "TopicArn": topic,
            "Protocol": "sqs",
            "Endpoint": f"arn:aws:sqs:{REGION}:{ACCOUNT}:later",
            "Attributes": {"RawMessageDelivery": "true"},
        },
    )
    sns.publish(ctx("sns", "Publish"), {"TopicArn": topic, "Message": "m"})


def test_failed_tries_follow_the_managed_endpoint_schedule_in_the_store(
    platform: Platform,
) -> None:
    subscribe_missing_queue(platform)
    start = time.time()
    clock = FakeClock(start)
    delivery = Delivery(platform, clock=clock, retry_scale=1.0)
    seen: list[tuple[int, float]] = []
    for _ in range(11):
        delivery.drain()  # the first pass fans out (try 1, due at once) and retries (try 2)
        [row] = pending(platform)
        seen.append((row.attempts, round(row.next_attempt_at - clock.now, 6)))
        clock.now = row.next_attempt_at
    assert seen == [(n, retry_delay(n)) for n in range(2, 13)]

    # Another dispatcher on the same store (a restart) goes on from try 13, not from try 1.
    later = Delivery(platform, clock=clock, retry_scale=1.0)
    later.drain()
    [row] = pending(platform)
    assert row.attempts == 13
    assert row.next_attempt_at == pytest.approx(clock.now + retry_delay(13))


def test_a_due_retry_delivers_once_the_queue_exists_and_forgets_the_row(
    platform: Platform,
) -> None:
    subscribe_missing_queue(platform)
    clock = FakeClock(time.time())
    delivery = Delivery(platform, clock=clock, retry_scale=1.0)
    for _ in range(3):
        delivery.drain()  # tries 1 and 2, then 3; try 4 is due a second later
    [row] = pending(platform)
    assert row.attempts == 3
    assert row.next_attempt_at == pytest.approx(clock.now + retry_delay(3))
    assert "QueueDoesNotExist" in row.last_error
    _, sqs = providers(platform)
    url = sqs.create_queue(ctx("sqs", "CreateQueue"), {"QueueName": "later"})["QueueUrl"]
    delivery.drain()  # not due yet: nothing happens
    assert pending(platform)[0].attempts == 3
    clock.now = row.next_attempt_at
    delivery.drain()
    assert pending(platform) == []
    received = asyncio.run(sqs.receive_message(ctx("sqs", "ReceiveMessage"), {"QueueUrl": url}))
    got = received["Messages"]
    assert [m["Body"] for m in got] == ["m"]


def test_the_retry_scale_shortens_every_delay(platform: Platform) -> None:
    subscribe_missing_queue(platform)
    clock = FakeClock(time.time())
    delivery = Delivery(platform, clock=clock, retry_scale=0.01)
    for _ in range(5):
        delivery.drain()
        clock.now = pending(platform)[0].next_attempt_at
    [row] = pending(platform)
    assert row.attempts == 6
    assert row.next_attempt_at == pytest.approx(clock.now)  # came due: the last delay was taken
    delivery.drain()
    [row] = pending(platform)
    assert row.next_attempt_at - clock.now == pytest.approx(retry_delay(7) * 0.01)
