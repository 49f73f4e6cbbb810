"""The metadata store: one SQLAlchemy engine, SQLite (default) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lambdamaker.errors import ConfigError, StoreError
from lambdamaker.store.migrations import Migration, apply_migrations


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take over transaction control from pysqlite so BEGIN IMMEDIATE is ours to issue; see
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Writers take the write lock up front: no deadlock-prone read->write lock upgrades.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """The metadata database. Thread-safe; one per platform."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"invalid store URL {url!r}: {exc}") from exc
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = sa.create_engine(url, pool_size=8, max_overflow=24, pool_timeout=60)
            sa.event.listen(self.engine, "connect", _sqlite_on_connect)
            sa.event.listen(self.engine, "begin", _sqlite_on_begin)
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            self.engine = sa.create_engine(parsed, pool_size=8, max_overflow=24, pool_pre_ping=True)
        else:
            raise ConfigError(f"unsupported store {url!r}: use sqlite:///PATH or postgresql://...")
        self._lock = threading.Lock()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed on normal exit, rolled back on an exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (no write lock on SQLite)."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                yield conn
            else:
                yield conn
                conn.rollback()

    def migrate(self, migrations: Sequence[Migration]) -> list[Migration]:
        """Apply pending migrations in order; returns those applied now."""
        with self._lock:
            try:
                return apply_migrations(self, migrations)
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(f"schema migration failed: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()
