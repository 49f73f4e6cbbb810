"""Fixtures of the event source mapping tests: boto3 clients on the session's server, and an
in-process platform (``esm_kinesis_support``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from esm_kinesis_support import new_platform

from lambdamaker.platform import Platform
from lambdamaker.services.lambda_.mappings.stream_poller import StreamPoller


@pytest.fixture()
def fast_stream_poller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream pollers that retry at once and look for records and shards often."""
    monkeypatch.setattr(StreamPoller, "retry_delay_s", 0.0)
    monkeypatch.setattr(StreamPoller, "poll_interval_s", 0.05)
    monkeypatch.setattr(StreamPoller, "discover_interval_s", 0.1)


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = new_platform(tmp_path / "data")
    yield p
    p.close()


@pytest.fixture(scope="module")
def lam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("lambda")


@pytest.fixture(scope="module")
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")
