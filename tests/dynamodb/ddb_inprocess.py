"""The DynamoDB provider in-process on a fake clock, for tests of time logic (TTL, the
TransactWriteItems idempotency window)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ddb_support import call

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.dynamodb.provider import DynamoDBProvider
from lambdamaker.testing import FakeClock

NOW = 1_700_000_000


class DynamoDB:
    """Calls the provider as the gateway would, with the clock under the test's control."""

    def __init__(self, platform: Platform, clock: FakeClock) -> None:
        provider = platform.providers["dynamodb"]
        assert isinstance(provider, DynamoDBProvider)
        provider.clock = clock
        self.provider = provider

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        return call(self.provider.platform, operation, **params)

    def keys(self, table: str) -> set[str]:
        return {item["pk"]["S"] for item in self("Scan", TableName=table)["Items"]}


@contextmanager
def in_process(
    data_dir: Path, store_url: str, clock: FakeClock, *, loop: bool
) -> Iterator[DynamoDB]:
    """The provider on ``clock``; without ``loop`` its TTL loop is stopped, so passes run only
    when the test calls ``ttl.sweep()``."""
    config = PlatformConfig(data_dir=data_dir, store_url=store_url)
    with Platform(config, services=["dynamodb"]) as platform:
        db = DynamoDB(platform, clock)
        if not loop:
            db.provider.ttl.close()
        yield db
