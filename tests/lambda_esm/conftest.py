"""Fixtures of the event source mapping tests run in-process (``esm_kinesis_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
