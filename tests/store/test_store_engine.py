"""Store transactions: commit/rollback, read snapshots, serialized writers, after-commit hooks."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lambdamaker.errors import ConfigError, StoreError
from lambdamaker.store import Migration, Store
from lambdamaker.store.migrations import create_tables

meta = sa.MetaData()
counters = sa.Table(
    "counters",
    meta,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
items = sa.Table("items", meta, sa.Column("id", sa.Integer, primary_key=True))


@pytest.fixture()
def db(store: Store) -> Store:
    store.migrate([Migration("t", 1, create_tables(counters, items))])
    with store.begin() as conn:
        conn.execute(sa.insert(counters).values(name="c", value=0))
    return store


def count_items(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one())


def test_write_transaction_commits_on_normal_exit(db: Store) -> None:
    with db.begin() as conn:
        conn.execute(sa.insert(items).values(id=1))
    assert count_items(db) == 1


def test_write_transaction_rolls_back_on_exception(db: Store) -> None:
    with pytest.raises(RuntimeError), db.begin() as conn:
        conn.execute(sa.insert(items).values(id=1))
        raise RuntimeError("abort")
    assert count_items(db) == 0


def test_rolled_back_transaction_leaves_no_table_behind(db: Store) -> None:
    with pytest.raises(RuntimeError), db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE scratch (id INTEGER)"))
        raise RuntimeError("abort")
    with db.read() as conn:
        assert "scratch" not in sa.inspect(conn).get_table_names()


def test_open_reader_does_not_block_a_writer(db: Store) -> None:
    with db.read() as reader:
        assert reader.execute(sa.select(counters.c.value)).scalar_one() == 0
        # On SQLite a reader holding the write lock would make this wait out busy_timeout.
        with db.begin() as conn:
            conn.execute(sa.insert(items).values(id=1))
    assert count_items(db) == 1


def test_read_sees_one_snapshot_while_others_commit(db: Store) -> None:
    with db.read() as reader:
        assert reader.execute(sa.select(sa.func.count()).select_from(items)).scalar_one() == 0
        with db.begin() as conn:
            conn.execute(sa.insert(items).values(id=1))
        assert reader.execute(sa.select(sa.func.count()).select_from(items)).scalar_one() == 0
    assert count_items(db) == 1


def test_writing_inside_read_fails_and_the_connection_can_write_afterwards(db: Store) -> None:
    with pytest.raises(sa.exc.DBAPIError), db.read() as conn:
        conn.execute(sa.insert(items).values(id=1))
    assert count_items(db) == 0
    # The pool hands the same connection back: it must be writable again.
    with db.begin() as conn:
        conn.execute(sa.insert(items).values(id=2))
    assert count_items(db) == 1


def test_begin_inside_begin_in_one_thread_fails_at_once(db: Store) -> None:
    with db.begin() as conn:
        conn.execute(sa.insert(items).values(id=1))
        with pytest.raises(StoreError, match=r"inside Store\.begin"), db.begin():
            pass
    assert count_items(db) == 1
    with db.begin() as conn:  # the guard is released
        conn.execute(sa.insert(items).values(id=2))
    assert count_items(db) == 2


def test_after_commit_hook_runs_once_the_commit_is_visible(db: Store) -> None:
    seen: list[int] = []
    with db.begin() as conn:
        conn.execute(sa.insert(items).values(id=1))
        db.after_commit(conn, lambda: seen.append(count_items(db)))
        assert seen == []
    assert seen == [1]


def test_after_commit_hook_does_not_run_on_rollback(db: Store) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), db.begin() as conn:
        db.after_commit(conn, lambda: seen.append("ran"))
        raise RuntimeError("abort")
    with db.begin():
        pass  # a later transaction on the same pooled connection does not inherit the hook
    assert seen == []


def test_after_commit_needs_a_write_transaction(db: Store) -> None:
    with db.read() as conn, pytest.raises(StoreError):
        db.after_commit(conn, lambda: None)


def test_failing_after_commit_hook_does_not_undo_or_hide_the_commit(
    db: Store, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("hook failed")

    with db.begin() as conn:
        conn.execute(sa.insert(items).values(id=1))
        db.after_commit(conn, broken)
        db.after_commit(conn, lambda: ran.append("second"))
    assert count_items(db) == 1
    assert ran == ["second"]
    assert "hook failed" in caplog.text


def test_concurrent_read_modify_write_loses_no_update(db: Store) -> None:
    # Each writer reads the counter and writes it back plus one, in separate statements: only
    # serialized write transactions make that safe (and without "database is locked").
    threads, rounds = 6, 40
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(rounds):
                with db.begin() as conn:
                    value = conn.execute(
                        sa.select(counters.c.value).where(counters.c.name == "c")
                    ).scalar_one()
                    conn.execute(
                        sa.update(counters).where(counters.c.name == "c").values(value=value + 1)
                    )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with db.read() as conn:
        assert conn.execute(sa.select(counters.c.value)).scalar_one() == threads * rounds


def test_readers_and_writers_in_many_threads_see_only_committed_counts(db: Store) -> None:
    # Writers insert two rows per transaction; a reader must never see an odd count.
    writers, rounds = 4, 25
    errors: list[BaseException] = []
    odd: list[int] = []
    done = threading.Event()

    def write(base: int) -> None:
        try:
            for i in range(rounds):
                with db.begin() as conn:
                    conn.execute(sa.insert(items).values(id=base + 2 * i))
                    conn.execute(sa.insert(items).values(id=base + 2 * i + 1))
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            while not done.is_set():
                n = count_items(db)
                if n % 2:
                    odd.append(n)
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    workers = [threading.Thread(target=write, args=(1000 * w,)) for w in range(writers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.set()
    reader.join()
    assert errors == []
    assert odd == []
    assert count_items(db) == writers * rounds * 2


def test_rowcount_tells_whether_an_insert_or_ignore_inserted(db: Store) -> None:
    # SQLAlchemy drops INSERT rowcounts by default, and psycopg then says -1 where pysqlite
    # says 1: code checking "did my INSERT ... ON CONFLICT DO NOTHING insert?" must work on both.
    insert: Any = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    with db.begin() as conn:
        assert conn.execute(sa.insert(items).values(id=1)).rowcount == 1
        assert conn.execute(insert(items).values(id=2).on_conflict_do_nothing()).rowcount == 1
        assert conn.execute(insert(items).values(id=2).on_conflict_do_nothing()).rowcount == 0
        assert conn.execute(sa.update(items).values(id=items.c.id + 10)).rowcount == 2


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://localhost/db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+aiosqlite:///x.db",
    ],
)
def test_unusable_store_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        Store(url)


def test_sqlite_store_creates_its_parent_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "store.db"
    s = Store(f"sqlite:///{path}")
    try:
        with s.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (id INTEGER)"))
    finally:
        s.close()
    assert path.exists()


def test_a_connection_held_across_close_is_closed_when_it_comes_back(store: Store) -> None:
    """A thread still reading when the store closes: its connection is closed on return, not
    kept open by the disposed pool until garbage collection (a ResourceWarning then)."""
    reading, closed = threading.Event(), threading.Event()
    driver: list[Any] = []

    def reader() -> None:
        with store.read() as conn:
            conn.execute(sa.text("SELECT 1")).scalar_one()
            driver.append(conn.connection.driver_connection)
            reading.set()
            assert closed.wait(10)

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(10)
    store.close()
    closed.set()
    thread.join(10)
    (connection,) = driver
    if store.dialect == "postgresql":
        assert connection.closed
    else:
        with pytest.raises(Exception, match="closed database"):
            connection.execute("SELECT 1")
