"""QueueDeletedRecently: a deleted queue's name is blocked for 60 s, durably (fake clock, restart),
on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.sqs import SqsProvider
from lambdamaker.testing import FakeClock
from lambdamaker.testing.inprocess import call_operation


def _call(platform: Platform, clock: FakeClock, operation: str, **params: Any) -> dict[str, Any]:
    provider = platform.providers["sqs"]
    assert isinstance(provider, SqsProvider)
    provider.clock = clock
    return call_operation(platform, "sqs", operation, endpoint_url="http://sqs.test", **params)


def test_a_deleted_name_is_blocked_for_sixty_seconds_even_across_a_restart(
    config: PlatformConfig,
) -> None:
    clock = FakeClock(1_700_000_000.0)
    with Platform(config, services=["sqs"]) as platform:
        url = _call(platform, clock, "CreateQueue", QueueName="q")["QueueUrl"]
        _call(platform, clock, "SendMessage", QueueUrl=url, MessageBody="old")
        _call(platform, clock, "DeleteQueue", QueueUrl=url)
        clock.now += 30
        with pytest.raises(ServiceError) as exc:
            _call(platform, clock, "CreateQueue", QueueName="q")
        assert (exc.value.code, exc.value.status) == ("QueueDeletedRecently", 400)
        # Other names are not affected.
        _call(platform, clock, "CreateQueue", QueueName="other")
    with Platform(config, services=["sqs"]) as platform:
        clock.now += 29.9
        with pytest.raises(ServiceError):
            _call(platform, clock, "CreateQueue", QueueName="q")
        clock.now += 0.1
        url = _call(platform, clock, "CreateQueue", QueueName="q")["QueueUrl"]
        # The new queue starts empty, and deleting it again blocks the name again.
        assert "Messages" not in _call(platform, clock, "ReceiveMessage", QueueUrl=url)
        _call(platform, clock, "DeleteQueue", QueueUrl=url)
        with pytest.raises(ServiceError):
            _call(platform, clock, "CreateQueue", QueueName="q")
