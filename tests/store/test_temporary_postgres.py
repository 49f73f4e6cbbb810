"""The throwaway PostgreSQL cluster helper itself."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa

from lambdamaker.errors import StoreError
from lambdamaker.store import Store
from lambdamaker.testing.postgres import TemporaryPostgres, find_postgres_bin_dir

pytestmark = pytest.mark.postgres


def test_bin_dir_holds_both_server_tools(postgres_cluster: TemporaryPostgres) -> None:
    bin_dir = find_postgres_bin_dir()
    assert bin_dir is not None
    assert (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists()


def test_cluster_runs_unprivileged_with_durable_settings_and_is_deleted_on_exit() -> None:
    if find_postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    pg = TemporaryPostgres()
    pg.stop()  # never started: nothing to do
    with pg:
        with pytest.raises(StoreError, match="already started"):
            pg.start()
        assert pg.root is not None
        root = pg.root
        port = pg.port
        engine = sa.create_engine(pg.url)
        try:
            with engine.connect() as conn:
                settings = {
                    name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                    for name in (
                        "fsync",
                        "synchronous_commit",
                        "full_page_writes",
                        "listen_addresses",
                    )
                }
        finally:
            engine.dispose()
        assert settings == {
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "listen_addresses": "127.0.0.1",
        }
        owner = pg.data_dir.stat().st_uid
        assert owner != 0  # PostgreSQL would have refused to start as root anyway
        if os.geteuid() != 0:
            assert owner == os.geteuid()
    assert not root.exists()
    pg.stop()  # a second stop is harmless
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", connect_timeout=5).close()


def test_each_database_is_separate_and_dropped_afterwards(
    postgres_cluster: TemporaryPostgres,
) -> None:
    with postgres_cluster.database() as first, postgres_cluster.database() as second:
        assert first != second
        a, b = Store(first), Store(second)
        try:
            with a.begin() as conn:
                conn.execute(sa.text("CREATE TABLE only_in_first (id INTEGER)"))
            with b.read() as conn:
                assert "only_in_first" not in sa.inspect(conn).get_table_names()
        finally:
            a.close()
            b.close()
        name = first.rsplit("/", 1)[1]
    with psycopg.connect(postgres_cluster.url.replace("+psycopg", "")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert exists is None


def test_tcp_connections_need_the_password(postgres_cluster: TemporaryPostgres) -> None:
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(
            host="127.0.0.1", port=postgres_cluster.port, user="postgres", password="wrong"
        ).close()


def test_plain_postgresql_url_is_driven_by_psycopg_3(postgres_cluster: TemporaryPostgres) -> None:
    with postgres_cluster.database() as url:
        store = Store(url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            assert store.engine.dialect.driver == "psycopg"
            with store.read() as conn:
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        finally:
            store.close()
