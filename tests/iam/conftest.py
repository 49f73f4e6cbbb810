"""In-process IAM fixtures: a started platform with IAM and STS, and callers for both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from iam_support import Caller

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    with Platform(PlatformConfig(data_dir=tmp_path / "data"), services=["iam", "sts"]) as p:
        yield p


@pytest.fixture()
def iam(platform: Platform) -> Caller:
    return Caller(platform, "iam")


@pytest.fixture()
def sts(platform: Platform) -> Caller:
    return Caller(platform, "sts")
