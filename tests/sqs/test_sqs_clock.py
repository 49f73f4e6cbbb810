"""SQS time logic in-process on a fake clock (visibility, delays, retention, purge interval,
dead-letter redrive) and durability across a platform restart, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs import SqsProvider
from lambdamaker.testing import FakeClock
from lambdamaker.testing.inprocess import call_operation

ENDPOINT = "http://sqs.test"


class Sqs:
    """Calls the provider as the gateway would, with the clock under the test's control."""

    def __init__(self, platform: Platform, clock: FakeClock) -> None:
        provider = platform.providers["sqs"]
        assert isinstance(provider, SqsProvider)
        provider.clock = clock
        self.provider = provider

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        return call_operation(
            self.provider.platform, "sqs", operation, endpoint_url=ENDPOINT, **params
        )

    def receive(self, url: str, **params: Any) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self("ReceiveMessage", QueueUrl=url, **params).get(
            "Messages", []
        )
        return messages


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture()
def sqs(config: PlatformConfig, clock: FakeClock) -> Iterator[Sqs]:
    with Platform(config, services=["sqs"]) as platform:
        yield Sqs(platform, clock)


def test_message_reappears_after_its_visibility_timeout(sqs: Sqs, clock: FakeClock) -> None:
    url = sqs("CreateQueue", QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    assert len(sqs.receive(url)) == 1
    clock.now += 29.9
    assert sqs.receive(url) == []
    clock.now += 0.2
    [again] = sqs.receive(url, MessageSystemAttributeNames=["All"], VisibilityTimeout=5)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again["Attributes"]["ApproximateFirstReceiveTimestamp"] == str(
        int((clock.now - 30.1) * 1000)
    )
    clock.now += 5.1
    assert len(sqs.receive(url)) == 1


def test_delayed_message_is_counted_as_delayed_until_due(sqs: Sqs, clock: FakeClock) -> None:
    url = sqs("CreateQueue", QueueName="q", Attributes={"DelaySeconds": "10"})["QueueUrl"]
    sqs("SendMessage", QueueUrl=url, MessageBody="queue delay")
    sqs("SendMessage", QueueUrl=url, MessageBody="no delay", DelaySeconds=0)
    attrs = sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"
    assert attrs["ApproximateNumberOfMessages"] == "1"
    assert [m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)] == ["no delay"]
    clock.now += 10
    assert [m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)] == ["queue delay"]


def test_messages_past_retention_are_dropped(sqs: Sqs, clock: FakeClock) -> None:
    url = sqs("CreateQueue", QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs("SendMessage", QueueUrl=url, MessageBody="old")
    clock.now += 61
    sqs("SendMessage", QueueUrl=url, MessageBody="new")
    assert [m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)] == ["new"]


def test_purge_is_allowed_again_after_a_minute(sqs: Sqs, clock: FakeClock) -> None:
    url = sqs("CreateQueue", QueueName="q")["QueueUrl"]
    sqs("PurgeQueue", QueueUrl=url)
    with pytest.raises(ServiceError) as exc:
        sqs("PurgeQueue", QueueUrl=url)
    assert exc.value.code == "PurgeQueueInProgress"
    clock.now += 60
    sqs("PurgeQueue", QueueUrl=url)


def test_message_moves_to_the_dead_letter_queue_after_max_receives(
    sqs: Sqs, clock: FakeClock
) -> None:
    dlq = sqs("CreateQueue", QueueName="dlq")["QueueUrl"]
    arn = sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})
    url = sqs(
        "CreateQueue",
        QueueName="src",
        Attributes={"RedrivePolicy": policy, "VisibilityTimeout": "10"},
    )["QueueUrl"]
    sent = sqs(
        "SendMessage",
        QueueUrl=url,
        MessageBody="poison",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    for _ in range(2):
        assert len(sqs.receive(url)) == 1
        clock.now += 10
    assert sqs.receive(url) == []
    [dead] = sqs.receive(dlq, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
    assert dead["MessageId"] == sent["MessageId"]
    assert dead["Body"] == "poison"
    assert dead["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"].endswith(":src")


def test_acknowledged_messages_survive_a_restart(config: PlatformConfig, clock: FakeClock) -> None:
    with Platform(config, services=["sqs"]) as platform:
        sqs = Sqs(platform, clock)
        url = sqs("CreateQueue", QueueName="durable")["QueueUrl"]
        sqs(
            "SendMessageBatch",
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)],
        )
        [received] = sqs.receive(url)
    with Platform(config, services=["sqs"]) as platform:
        sqs = Sqs(platform, clock)
        # The received message stays hidden across the restart; the other four are there.
        bodies = {m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)}
        assert bodies == {f"m{i}" for i in range(5)} - {received["Body"]}
        sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=received["ReceiptHandle"])
        clock.now += 30
        assert received["Body"] not in {m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)}


def test_fifo_dedup_window_ends_after_five_minutes(sqs: Sqs, clock: FakeClock) -> None:
    url = sqs("CreateQueue", QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    send = {"QueueUrl": url, "MessageBody": "x", "MessageGroupId": "g"}
    first = sqs("SendMessage", **send, MessageDeduplicationId="d")["MessageId"]
    clock.now += 299
    assert sqs("SendMessage", **send, MessageDeduplicationId="d")["MessageId"] == first
    clock.now += 1
    assert sqs("SendMessage", **send, MessageDeduplicationId="d")["MessageId"] != first


def test_fifo_group_unblocks_when_its_message_becomes_visible_again(
    sqs: Sqs, clock: FakeClock
) -> None:
    url = sqs("CreateQueue", QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    for i in range(2):
        sqs(
            "SendMessage",
            QueueUrl=url,
            MessageBody=f"m{i}",
            MessageGroupId="g",
            MessageDeduplicationId=str(i),
        )
    assert [m["Body"] for m in sqs.receive(url, VisibilityTimeout=10)] == ["m0"]
    assert sqs.receive(url) == []
    clock.now += 10
    # Redelivered first, in order, before the group's next message.
    assert [m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)] == ["m0", "m1"]


def test_platform_deliveries_commit_with_the_callers_transaction(sqs: Sqs) -> None:
    url = sqs("CreateQueue", QueueName="target")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:000000000000:target"
    store = sqs.provider.platform.store
    attrs = {"k": {"DataType": "String", "StringValue": "v"}}
    with store.begin() as conn:
        sent = sqs.provider.enqueue(conn, arn, "from sns", message_attributes=attrs)
    with pytest.raises(RuntimeError), store.begin() as conn:
        sqs.provider.enqueue(conn, arn, "rolled back")
        raise RuntimeError("the caller fails after enqueueing")
    [msg] = sqs.receive(url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    assert msg["MessageId"] == sent["MessageId"]
    assert msg["Body"] == "from sns"
    assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    with pytest.raises(ServiceError) as exc, store.begin() as conn:
        sqs.provider.enqueue(conn, "arn:aws:sqs:us-east-1:000000000000:nope", "x")
    assert exc.value.code == "QueueDoesNotExist"


def test_a_long_blocked_fifo_group_does_not_starve_the_next_group(sqs: Sqs) -> None:
    url = sqs("CreateQueue", QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    entries = [
        {
            "Id": str(i),
            "MessageBody": f"a{i}",
            "MessageGroupId": "a",
            "MessageDeduplicationId": f"a{i}",
        }
        for i in range(10)
    ]
    for start in range(0, 30, 10):
        for e in entries:
            e["MessageDeduplicationId"] = f"{e['MessageDeduplicationId']}-{start}"
        sqs("SendMessageBatch", QueueUrl=url, Entries=entries)
    sqs(
        "SendMessage",
        QueueUrl=url,
        MessageBody="b0",
        MessageGroupId="b",
        MessageDeduplicationId="b0",
    )
    assert [m["Body"] for m in sqs.receive(url)] == ["a0"]
    assert [m["Body"] for m in sqs.receive(url, MaxNumberOfMessages=10)] == ["b0"]


def test_unknown_attribute_names_get_sqs_own_error(sqs: Sqs) -> None:
    # Through the gateway the model's enum check answers first (ValidationException) until
    # SQS opts out of it as S3 does; the provider's own answer is AWS's.
    with pytest.raises(ServiceError) as exc:
        sqs("CreateQueue", QueueName="q", Attributes={"Colour": "blue"})
    assert exc.value.code == "InvalidAttributeName"
    url = sqs("CreateQueue", QueueName="q")["QueueUrl"]
    with pytest.raises(ServiceError) as exc:
        sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Colour"])
    assert exc.value.code == "InvalidAttributeName"


def test_legacy_attribute_names_select_system_attributes(sqs: Sqs) -> None:
    url = sqs("CreateQueue", QueueName="q")["QueueUrl"]
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    [msg] = sqs.receive(url, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
    assert set(msg["Attributes"]) == {"ApproximateReceiveCount", "SentTimestamp"}


def test_parked_long_poll_is_woken_by_a_send_and_released_by_close(sqs: Sqs) -> None:
    url = sqs("CreateQueue", QueueName="q")["QueueUrl"]
    provider = sqs.provider
    ctx = RequestContext("t", "sqs", "ReceiveMessage", "us-east-1", "000000000000")

    async def parked(queue_id: int) -> None:
        while provider.waiters.waiting(queue_id) == 0:
            await asyncio.sleep(0)  # yield to the poll until it has registered

    with provider.platform.store.read() as conn:
        queue = provider.find_queue(conn, "000000000000", "q")
    assert queue is not None

    async def scenario() -> None:
        poll = asyncio.ensure_future(
            provider.receive_message(ctx, {"QueueUrl": url, "WaitTimeSeconds": 20})
        )
        await asyncio.wait_for(parked(queue.id), 10)
        await asyncio.to_thread(sqs, "SendMessage", QueueUrl=url, MessageBody="wake")
        out = await asyncio.wait_for(poll, 10)
        assert [m["Body"] for m in out["Messages"]] == ["wake"]
        assert provider.waiters.waiting(queue.id) == 0

        poll = asyncio.ensure_future(
            provider.receive_message(ctx, {"QueueUrl": url, "WaitTimeSeconds": 20})
        )
        await asyncio.wait_for(parked(queue.id), 10)
        provider.waiters.close()
        assert await asyncio.wait_for(poll, 10) == {}

    asyncio.run(scenario())
