"""Platform configuration: validated once, carried to the parts that use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdamaker import Platform, PlatformConfig
from lambdamaker.engines.functions.keepalive import FixedKeepAlive, HybridHistogramKeepAlive
from lambdamaker.engines.functions.priority import DEFAULT_NICE
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


@pytest.mark.parametrize("nice", [-1, 20])
def test_function_nice_must_be_within_nices_range(tmp_path: Path, nice: int) -> None:
    with pytest.raises(ConfigError, match="function nice"):
        PlatformConfig(data_dir=tmp_path, function_nice=nice)


def test_function_nice_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PlatformConfig(data_dir=tmp_path).function_nice == DEFAULT_NICE
    monkeypatch.setenv("LAMBDAMAKER_FUNCTION_NICE", "9")
    assert PlatformConfig(data_dir=tmp_path).function_nice == 9
    monkeypatch.setenv("LAMBDAMAKER_FUNCTION_NICE", "low")
    with pytest.raises(ConfigError, match="LAMBDAMAKER_FUNCTION_NICE"):
        PlatformConfig(data_dir=tmp_path)
