"""The SQLite store's background WAL checkpoints (``store.checkpointer``): writers leave the
copying to the store's own thread, which keeps the WAL short."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lambdamaker.store import Migration, Store
from lambdamaker.store.checkpointer import FALLBACK_PAGES, Checkpointer
from lambdamaker.store.migrations import create_tables

meta = sa.MetaData()
blobs = sa.Table(
    "blobs",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)


@pytest.fixture()
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    s.migrate([Migration("blobs", 1, create_tables(blobs))])
    yield s
    s.close()


def checkpoint_threads() -> int:
    return sum(t.name == "lambdamaker-checkpoint" for t in threading.enumerate())


def test_written_pages_reach_the_database_file_without_a_writer_copying_them(
    sqlite_store: Store, tmp_path: Path
) -> None:
    database = tmp_path / "store.db"
    before = database.stat().st_size
    pages = 2 * Checkpointer.threshold_pages
    assert pages < FALLBACK_PAGES  # so no writer checkpoints on its own in this test
    for start in range(0, pages, 100):
        with sqlite_store.begin() as conn:
            conn.execute(
                sa.insert(blobs),
                [{"id": i, "data": os.urandom(3000)} for i in range(start, start + 100)],
            )
    # Under WAL the database file grows only when a checkpoint copies pages into it.
    deadline = time.monotonic() + 20
    while database.stat().st_size < before + 1000 * 4096:
        assert time.monotonic() < deadline, "nothing was checkpointed in the background"
        time.sleep(0.05)
    with sqlite_store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(blobs)).scalar_one() == pages


def test_the_wal_is_reused_from_its_start_while_a_writer_keeps_writing(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """A checkpoint that only copied what was there when it began would never catch up with
    this writer, and the WAL would grow with everything written (32 MiB here)."""
    wal = tmp_path / "store.db-wal"
    page = 4096
    biggest = 0
    for start in range(0, 8000, 20):  # 400 commits of ~20 pages, no pause between them
        with sqlite_store.begin() as conn:
            conn.execute(
                sa.insert(blobs),
                [{"id": i, "data": os.urandom(3000)} for i in range(start, start + 20)],
            )
        biggest = max(biggest, wal.stat().st_size)
    assert biggest < 4 * Checkpointer.threshold_pages * page


def test_close_stops_the_checkpoint_thread(tmp_path: Path) -> None:
    running = checkpoint_threads()
    store = Store(f"sqlite:///{tmp_path / 'closing.db'}")
    assert checkpoint_threads() == running + 1
    store.close()
    assert checkpoint_threads() == running


def test_only_an_sqlite_store_runs_a_checkpoint_thread(store: Store) -> None:
    """PostgreSQL checkpoints on its own: a Store on it starts no thread (SQLite's has one)."""
    running = checkpoint_threads()
    other = Store(store.url)
    try:
        expected = running + (1 if other.dialect == "sqlite" else 0)
        assert checkpoint_threads() == expected
    finally:
        other.close()
