"""Shared fixtures: one real server per test session, on an ephemeral port, driven by boto3;
and ``store_url``/``store``, which run a test once on SQLite and once on a throwaway PostgreSQL
cluster (started once per session; each test gets a fresh database in it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess
from lambdamaker.testing.postgres import TemporaryPostgres, find_postgres_bin_dir


@pytest.fixture(scope="session")
def lm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The platform in a child process, shared by the whole session. Don't kill it."""
    server = ServerProcess(tmp_path_factory.mktemp("lm") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def boto_client(lm_server: ServerProcess) -> Callable[..., Any]:
    """``boto_client("s3")`` → a boto3 client signed with the server's admin key."""

    def factory(service: str, **config: Any) -> Any:
        return lm_server.client(service, **config)

    return factory


@pytest.fixture()
def aws_cli_env(lm_server: ServerProcess, tmp_path: Path) -> dict[str, str]:
    """Environment for running ``aws --endpoint-url ...`` against the session server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(lm_server.credentials_file),
        AWS_CONFIG_FILE=os.devnull,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.fixture()
def aws_cli(
    lm_server: ServerProcess, aws_cli_env: dict[str, str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``aws_cli("s3", "ls")`` runs the real AWS CLI against the session server."""
    exe = Path(sys.executable).parent / "aws"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(exe), "--endpoint-url", lm_server.endpoint_url, *args],
            env=aws_cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[TemporaryPostgres]:
    if find_postgres_bin_dir() is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) are neither on PATH nor in "
            "/usr/lib/postgresql/*/bin"
        )
    with TemporaryPostgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty store, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    pg: TemporaryPostgres = request.getfixturevalue("postgres_cluster")
    with pg.database() as url:
        yield url


@pytest.fixture()
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client (HTTP APIs, function URLs)."""
    with httpx.Client(timeout=60) as client:
        yield client


@pytest.fixture()
def config(tmp_path: Path, store_url: str) -> PlatformConfig:
    """An in-process platform's configuration on the test's store (SQLite, and PostgreSQL
    where marked), with its data dir in the test's temp dir."""
    return PlatformConfig(data_dir=tmp_path / "data", store_url=store_url)
