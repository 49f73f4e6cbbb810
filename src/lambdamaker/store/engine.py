"""The metadata store: one SQLAlchemy engine, SQLite (default) or PostgreSQL, chosen by URL.

Transactions mean the same thing on both backends, so code tested on SQLite is right on
PostgreSQL:

- ``begin()`` is a write transaction, and write transactions are serialized: SQLite takes its
  write lock up front (``BEGIN IMMEDIATE``), PostgreSQL a transaction-scoped advisory lock
  shared by every process using the database. A read-modify-write inside one ``begin()`` is
  therefore safe without ``SELECT ... FOR UPDATE`` (which SQLite does not have). Waiting for the
  lock gives up after 30 s (SQLite ``busy_timeout``, PostgreSQL ``lock_timeout``). On SQLite,
  writers queue in a ``WriterGate`` before ``BEGIN IMMEDIATE`` (woken at once rather than
  polling in the busy handler). ``begin(held)`` is the same transaction on a connection kept
  between one caller's transactions (``store.held``: a group committer's) instead of one from
  the pool.
- ``read()`` is a read-only snapshot: it never waits for writers and sees one consistent state
  (SQLite deferred ``BEGIN`` under WAL, PostgreSQL ``REPEATABLE READ READ ONLY``). Writing inside
  it fails on both backends instead of being silently rolled back.
- ``rowcount`` is kept for every statement, INSERT included, on both backends.
- A thread must not open ``begin()`` inside its own ``begin()``: the inner one would wait for
  the lock the outer one holds. That raises ``StoreError`` at once; pass the open connection
  down instead.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lambdamaker.errors import ConfigError, StoreError
from lambdamaker.store.checkpointer import FALLBACK_PAGES, Checkpointer
from lambdamaker.store.held import HeldConnection
from lambdamaker.store.migrations import Migration, apply_migrations
from lambdamaker.store.writer_gate import WriterGate

log = logging.getLogger(__name__)

_LOCK_TIMEOUT_MS = 30_000
_READ_ONLY = "lambdamaker_read_only"  # execution option marking a read() connection
_AFTER_COMMIT = "lambdamaker_after_commit"  # Connection.info key: hooks of the open begin()
_QUERY_ONLY = "lambdamaker_query_only"  # Connection.info key: SQLite PRAGMA query_only state
# SQLAlchemy keeps ``rowcount`` only for UPDATE/DELETE unless told otherwise; psycopg then reports
# -1 for an INSERT (pysqlite does not), and "did my INSERT ... ON CONFLICT DO NOTHING insert?"
# must have the same answer on both backends.
_EXECUTION_OPTIONS = {"preserve_rowcount": True}
# Key of the PostgreSQL advisory lock that serializes writers ("lmst" in ASCII).
_PG_WRITE_LOCK = 0x6C6D7374


def _sqlite_on_connect(dbapi_conn: Any, record: Any) -> None:
    # Take over transaction control from pysqlite so BEGIN is ours to issue; see
    # https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={_LOCK_TIMEOUT_MS}")
        mode = _switch_to_wal(cur)
        if mode != "wal":
            # e.g. a filesystem without shared memory: readers would block writers.
            raise StoreError(f"SQLite refused WAL mode (journal_mode={mode})")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Savepoint journals (a group commit's per-work SAVEPOINTs) and temporary tables in
        # memory: they only serve rollbacks inside a transaction, never crash recovery, and as
        # files each transaction cost a temp file opened, written page by page and unlinked.
        cur.execute("PRAGMA temp_store=MEMORY")
        # Checkpoints run on the store's own thread (``checkpointer``); a writer only
        # checkpoints itself if that thread has fallen far behind.
        cur.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
    finally:
        cur.close()
    record.info[_QUERY_ONLY] = False


def _switch_to_wal(cur: sqlite3.Cursor) -> str:
    """Put the database in WAL mode (persistent, so usually it already is) and return the mode.

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once, without
    the busy handler, when another connection is opening the same fresh database. Retry that
    with a short backoff, within the usual lock timeout.
    """
    (mode,) = cur.execute("PRAGMA journal_mode").fetchone()
    deadline = time.monotonic() + _LOCK_TIMEOUT_MS / 1000
    delay = 0.001
    while str(mode).lower() != "wal":
        try:
            (mode,) = cur.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
            continue
        break
    return str(mode).lower()


def _sqlite_on_begin(conn: Connection) -> None:
    read_only = bool(conn.get_execution_options().get(_READ_ONLY))
    info = conn.info  # the pooled DBAPI connection's; reset by _sqlite_on_connect
    # Straight to the driver: these run on every transaction, and SQLAlchemy's statement
    # machinery would cost more than the statements themselves.
    dbapi_conn = conn.connection.driver_connection
    assert dbapi_conn is not None  # checked out, so connected
    if info.get(_QUERY_ONLY) is not read_only:
        dbapi_conn.execute(f"PRAGMA query_only={int(read_only)}")
        info[_QUERY_ONLY] = read_only
    # Readers take no lock (WAL gives them a snapshot). Writers take the write lock up front:
    # a deferred BEGIN that later upgrades can fail with SQLITE_BUSY without waiting.
    statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
    try:
        dbapi_conn.execute(statement)
    except sqlite3.Error as exc:
        # What SQLAlchemy raises for any other statement ("database is locked" after the
        # busy timeout is an OperationalError), so callers need to catch only one family.
        raise sa.exc.DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def _pg_on_begin(conn: Connection) -> None:
    if not conn.get_execution_options().get(_READ_ONLY):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")


class Store:
    """The metadata database. Thread-safe; one per platform."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"invalid store URL {url!r}: {exc}") from exc
        self.dialect = parsed.get_backend_name()
        try:
            if self.dialect == "sqlite":
                self.engine: Engine = self._sqlite_engine(parsed)
            elif self.dialect == "postgresql":
                self.engine = self._postgresql_engine(parsed)
            else:
                raise ConfigError(
                    f"unsupported store {url!r}: use sqlite:///PATH or postgresql://..."
                )
        except (ImportError, sa.exc.ArgumentError) as exc:
            raise ConfigError(f"cannot use store {url!r}: {exc}") from exc
        self._closed = False
        # A connection still checked out when close() disposes the pool (a straggling thread
        # of a service) goes back to the disposed pool, which would keep it open until garbage
        # collection; closed on return instead.
        sa.event.listen(self.engine, "checkin", self._on_checkin)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._point_readers: list[sqlite3.Connection] = []
        self._held: list[HeldConnection] = []
        self._gate: WriterGate | None = None
        self._checkpointer: Checkpointer | None = None
        if self.dialect == "sqlite":
            assert parsed.database is not None  # checked by _sqlite_engine
            self._gate = WriterGate(f"{parsed.database}-writer.lock", _LOCK_TIMEOUT_MS / 1000)
            self._checkpointer = Checkpointer(parsed.database, _LOCK_TIMEOUT_MS, self._gate.held)

    @staticmethod
    def _sqlite_engine(parsed: sa.URL) -> Engine:
        if parsed.get_driver_name() != "pysqlite":
            raise ConfigError(
                f"unsupported SQLite driver {parsed.drivername!r}: use sqlite:///PATH"
            )
        if (
            not parsed.database
            or parsed.database == ":memory:"
            or parsed.query.get("mode") == "memory"
        ):
            raise ConfigError("an in-memory SQLite store is not durable: give it a file path")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A connection per worker thread that may hold one at once (anyio's 40 and the
        # platform's own threads) stays pooled: an overflow connection is closed on return, and
        # opening one (file open + PRAGMAs) costs more than the read it serves.
        engine = sa.create_engine(
            parsed,
            pool_size=48,
            max_overflow=32,
            pool_timeout=60,
            execution_options=_EXECUTION_OPTIONS,
        )
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    @staticmethod
    def _postgresql_engine(parsed: sa.URL) -> Engine:
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        connect_args: dict[str, Any] = {}
        if "options" not in parsed.query:
            connect_args["options"] = f"-c lock_timeout={_LOCK_TIMEOUT_MS}"
        engine = sa.create_engine(
            parsed,
            pool_size=8,
            max_overflow=24,
            pool_pre_ping=True,
            connect_args=connect_args,
            execution_options=_EXECUTION_OPTIONS,
        )
        sa.event.listen(engine, "begin", _pg_on_begin)
        return engine

    @contextmanager
    def begin(self, held: HeldConnection | None = None) -> Iterator[Connection]:
        """A write transaction: committed on normal exit, rolled back on an exception. On
        ``held`` (``held_connection()``) when given, else on a connection from the pool."""
        if getattr(self._local, "writing", False):
            raise StoreError(
                "Store.begin() inside Store.begin() in one thread would wait for itself; "
                "pass the open connection down instead"
            )
        self._local.writing = True
        hooks: list[Callable[[], None]] = []
        try:
            with (
                self._gated(),
                self.engine.connect() if held is None else held.use() as conn,
            ):
                conn.info[_AFTER_COMMIT] = hooks
                try:
                    with conn.begin():
                        yield conn
                finally:
                    # info outlives this checkout (it belongs to the pooled DBAPI connection).
                    conn.info.pop(_AFTER_COMMIT, None)
        finally:
            self._local.writing = False
        for hook in hooks:
            try:
                hook()
            except Exception:
                # The transaction is committed; failing the caller now would suggest it is not.
                log.exception("after-commit hook %r failed", hook)

    def held_connection(self) -> HeldConnection | None:
        """A connection to keep between the write transactions of one caller that opens them
        one at a time (``store.held``); None on PostgreSQL. Closed by ``close()``."""
        if self.dialect != "sqlite":
            return None
        held = HeldConnection(self.engine)
        with self._lock:
            self._held.append(held)
        return held

    def _gated(self) -> contextlib.AbstractContextManager[None]:
        return self._gate.held() if self._gate is not None else contextlib.nullcontext()

    def after_commit(self, conn: Connection, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the ``begin()`` transaction that ``conn`` belongs to has committed.

        For work that must not happen before other readers can see the commit: dropping a cache
        entry, deleting the blob an overwritten object used to point at. Not run on rollback.
        """
        hooks = conn.info.get(_AFTER_COMMIT)
        if hooks is None:
            raise StoreError("after_commit() needs a connection from Store.begin()")
        hooks.append(hook)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot: never waits for writers; writing inside it raises."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(
                    isolation_level="REPEATABLE READ",
                    postgresql_readonly=True,
                    **{_READ_ONLY: True},
                )
            else:
                conn.execution_options(**{_READ_ONLY: True})
            # Leaving ``connect()`` rolls the snapshot back: nothing to commit.
            yield conn

    def migrate(self, migrations: Sequence[Migration]) -> list[Migration]:
        """Apply pending migrations in order; returns those applied now.

        Raises ``StoreError`` for a bad migration list, a database newer than the code, or a
        failing migration (whose changes are rolled back; earlier ones stay applied).
        """
        with self._lock:
            try:
                return apply_migrations(self, migrations)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"schema migration failed: {exc}") from exc

    def point_reader(self) -> sqlite3.Connection | None:
        """This thread's own read-only SQLite connection in autocommit mode, for hot reads of
        a single statement (each statement reads the latest commit; no transaction to open or
        end). None on PostgreSQL: use ``read()``."""
        if self.dialect != "sqlite":
            return None
        reader: sqlite3.Connection | None = getattr(self._local, "point_reader", None)
        if reader is None:
            database = self.engine.url.database
            assert database is not None  # checked when the engine was made
            reader = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            reader.execute(f"PRAGMA busy_timeout={_LOCK_TIMEOUT_MS}")
            reader.execute("PRAGMA query_only=1")
            self._local.point_reader = reader
            with self._lock:
                self._point_readers.append(reader)
        return reader

    def _on_checkin(self, dbapi_connection: Any, record: Any) -> None:
        if self._closed and dbapi_connection is not None:
            record.invalidate()  # closes the DBAPI connection

    def close(self) -> None:
        self._closed = True
        with self._lock:
            readers, self._point_readers = self._point_readers, []
            held, self._held = self._held, []
        for reader in readers:
            reader.close()
        for connection in held:
            connection.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
        self.engine.dispose()
        if self._gate is not None:
            self._gate.close()
