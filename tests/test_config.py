"""Platform configuration: validated once, carried to the parts that use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdamaker import Platform, PlatformConfig
from lambdamaker.engines.functions.keepalive import FixedKeepAlive, HybridHistogramKeepAlive
from lambdamaker.errors import ConfigError


def test_unknown_keepalive_policy_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="keepalive"):
        PlatformConfig(data_dir=tmp_path, keepalive="forever")


def test_account_concurrency_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        PlatformConfig(data_dir=tmp_path, account_concurrency=0)


@pytest.mark.parametrize(
    ("choice", "policy"), [("fixed", FixedKeepAlive), ("hybrid", HybridHistogramKeepAlive)]
)
def test_keepalive_choice_reaches_the_functions_engine(
    tmp_path: Path, choice: str, policy: type
) -> None:
    config = PlatformConfig(data_dir=tmp_path / "data", keepalive=choice, account_concurrency=7)
    platform = Platform(config, services=["s3", "iam", "sts", "lambda"])
    platform.start()
    try:
        engine = platform.providers["lambda"].engine.engine  # type: ignore[attr-defined]
        assert isinstance(engine.pool.keepalive, policy)
        assert engine.pool.account_limit == 7
    finally:
        platform.close()
