"""Events from inside the platform (``services.deliver`` → ``EventsProvider.put_from``), run
in-process on SQLite and PostgreSQL: an event put on a caller's transaction is routed to the
bus's rules after the commit; an unknown bus fails the call and writes nothing; a failed target
delivery rolls back only its savepoint."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from eb_support import Call

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.deliver import deliver
from lambdamaker.services.events.tables import deliveries
from lambdamaker.services.events.tables import events as events_table

BUS_ARN = "arn:aws:events:us-east-1:000000000000:event-bus/inner"


@pytest.fixture()
def platform(tmp_path: Path, store_url: str) -> Iterator[Platform]:
    config = PlatformConfig(data_dir=tmp_path / "data", store_url=store_url)
    p = Platform(config, services=["sqs", "events"])
    p.start()
    yield p
    p.close()


def _receive(sqs: Call, url: str, count: int, timeout: float = 10.0) -> list[Any]:
    got: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        out = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        got += [json.loads(m["Body"]) for m in out.get("Messages", [])]
    return got


def test_put_from_routes_an_in_platform_event(platform: Platform) -> None:
    events, sqs = Call(platform, "events"), Call(platform, "sqs")
    events("CreateEventBus", Name="inner")
    url = sqs("CreateQueue", QueueName="inner-q")["QueueUrl"]
    good = "arn:aws:sqs:us-east-1:000000000000:inner-q"
    gone = "arn:aws:sqs:us-east-1:000000000000:never-existed"
    events("PutRule", Name="r", EventBusName="inner", EventPattern='{"source": ["lambda"]}')
    events(
        "PutTargets",
        Rule="r",
        EventBusName="inner",
        Targets=[
            {"Id": "a-gone", "Arn": gone, "RetryPolicy": {"MaximumRetryAttempts": 0}},
            {"Id": "b-good", "Arn": good},
        ],
    )
    with platform.store.begin() as conn:
        deliver(
            platform,
            conn,
            BUS_ARN,
            json.dumps({"ok": 1}),
            source="lambda",
            detail_type="Lambda Function Invocation Result - Success",
        )
    [event] = _receive(sqs, url, 1)
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["detail"] == {"ok": 1}
    with platform.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deliveries)).scalar() == 0


def test_put_from_an_unknown_bus_raises_and_writes_nothing(platform: Platform) -> None:
    provider: Any = platform.providers["events"]
    with pytest.raises(ServiceError) as info, platform.store.begin() as conn:
        provider.put_from(conn, BUS_ARN, source="s", detail_type="d", detail={})
    assert info.value.code == "ResourceNotFoundException"
    with platform.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar() == 0
