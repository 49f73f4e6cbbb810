"""Lambda test fixtures: an in-process platform (S3, IAM, STS, Lambda) and a caller for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_support import Caller

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform


@pytest.fixture()
def account_concurrency() -> int:
    """The account limit of the ``platform`` fixture; override it to test the limit."""
    return 1000


@pytest.fixture()
def platform(tmp_path: Path, account_concurrency: int) -> Iterator[Platform]:
    config = PlatformConfig(data_dir=tmp_path / "data", account_concurrency=account_concurrency)
    p = Platform(config, services=["s3", "iam", "sts", "lambda"])
    p.start()
    yield p
    p.close()


@pytest.fixture()
def lam(platform: Platform) -> Caller:
    return Caller(platform)


@pytest.fixture()
def s3(platform: Platform) -> Caller:
    return Caller(platform, "s3")
