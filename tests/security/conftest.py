"""Credential-store fixtures: each test runs on SQLite and on a throwaway PostgreSQL cluster.

The same fixtures as ``tests/store/conftest.py``; they belong in ``tests/conftest.py`` so that
one cluster serves the whole session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdamaker.store import Store
from lambdamaker.testing.postgres import TemporaryPostgres, find_postgres_bin_dir


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
