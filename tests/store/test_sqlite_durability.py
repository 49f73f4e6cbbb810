"""SQLite specifics: the durability pragmas on every pooled connection, the WAL fsynced before
``begin()`` returns (seen with strace), and kill -9 recovery."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lambdamaker.store import Migration, Store
from lambdamaker.store.checkpointer import FALLBACK_PAGES
from lambdamaker.store.migrations import create_tables

meta = sa.MetaData()
parents = sa.Table("parents", meta, sa.Column("id", sa.Integer, primary_key=True))
children = sa.Table(
    "children",
    meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("parents.id"), nullable=False),
)


@pytest.fixture()
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def pragmas(conn: sa.Connection) -> dict[str, object]:
    return {
        name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in (
            "journal_mode",
            "synchronous",
            "foreign_keys",
            "busy_timeout",
            "temp_store",
            "wal_autocheckpoint",
        )
    }


def test_durability_pragmas_hold_on_every_pooled_connection(sqlite_store: Store) -> None:
    expected = {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL: COMMIT fsyncs the WAL (test below)
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "temp_store": 2,  # MEMORY: savepoint journals never touch a file
        "wal_autocheckpoint": FALLBACK_PAGES,  # checkpoints are the store's own thread's job
    }
    with contextlib.ExitStack() as stack:
        # Held open at once, so the pool must hand out distinct connections (readers and writer).
        readers = [stack.enter_context(sqlite_store.read()) for _ in range(5)]
        writer = stack.enter_context(sqlite_store.begin())
        conns = [*readers, writer]
        assert len({id(c.connection.dbapi_connection) for c in conns}) == len(conns)
        for conn in conns:
            assert pragmas(conn) == expected


def test_pragmas_are_back_on_a_connection_opened_after_a_pool_reset(sqlite_store: Store) -> None:
    with sqlite_store.read() as conn:
        first = conn.connection.dbapi_connection
    sqlite_store.engine.dispose()
    with sqlite_store.read() as conn:
        assert conn.connection.dbapi_connection is not first
        assert pragmas(conn)["synchronous"] == 2
        assert pragmas(conn)["journal_mode"] == "wal"


def test_foreign_keys_are_enforced(sqlite_store: Store) -> None:
    sqlite_store.migrate([Migration("fk", 1, create_tables(parents, children))])
    with pytest.raises(sa.exc.IntegrityError), sqlite_store.begin() as conn:
        conn.execute(sa.insert(children).values(id=1, parent_id=42))
    with sqlite_store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(children)).scalar_one() == 0


_WRITER = textwrap.dedent(
    """
    import os
    import sys
    import sqlalchemy as sa
    from lambdamaker.store import Migration, Store
    from lambdamaker.store.migrations import create_tables

    meta = sa.MetaData()
    rows = sa.Table("rows", meta, sa.Column("id", sa.Integer, primary_key=True))
    store = Store(sys.argv[1])
    store.migrate([Migration("crash", 1, create_tables(rows))])
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None  # commits; none: until killed
    i = 0
    while limit is None or i < limit:
        i += 1
        with store.begin() as conn:
            conn.execute(sa.insert(rows).values(id=i))
        os.write(1, b"%d\\n" % i)  # only after the commit returned; one write(2) per line
    """
)


def test_every_acknowledged_commit_survives_kill_9(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    acknowledged: list[int] = []
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            for line in proc.stdout:
                acknowledged.append(int(line))
                if len(acknowledged) >= 60:
                    break
            proc.send_signal(signal.SIGKILL)  # mid-transaction, most likely
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        # The pipe may hold commits acknowledged after we stopped reading: they count too.
        acknowledged.extend(int(line) for line in proc.stdout.read().split())
        stderr = proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL, stderr
    assert len(acknowledged) >= 60

    store = Store(url)
    try:
        with store.read() as conn:
            present = set(conn.exec_driver_sql("SELECT id FROM rows").scalars())
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        store.close()
    assert set(acknowledged) <= present
    # At most the one commit that finished before its id reached the pipe is unacknowledged.
    assert len(present) - len(acknowledged) <= 1


_SYSCALL = re.compile(r"^(\d+)\s+(\w+)\((\d+)<([^>]*)>")


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see the syscalls")
def test_each_commit_is_fsynced_before_begin_returns(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Traced in a real process: between a commit's WAL writes and the line that acknowledges
    it, the same thread fdatasyncs the WAL file (synchronous=FULL, inside COMMIT)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    trace = tmp_path / "trace.txt"
    commits = 40
    strace = ["strace", "-f", "-y", "-o", str(trace), "-e", "trace=pwrite64,fdatasync,fsync,write"]
    done = subprocess.run(
        [*strace, sys.executable, "-c", _WRITER, url, str(commits)],
        capture_output=True,
        env=child_env,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [int(x) for x in done.stdout.split()] == list(range(1, commits + 1))
    acks = 0
    unsynced: dict[str, bool] = {}  # per thread: WAL written since that thread's last WAL fsync
    wrote: dict[str, bool] = {}  # per thread: WAL written since its last acknowledgement
    for line in trace.read_text().splitlines():
        m = _SYSCALL.match(line)
        if m is None:
            continue
        tid, call, fd, path = m.groups()
        if call == "pwrite64" and path.endswith("store.db-wal"):
            unsynced[tid] = wrote[tid] = True
        elif call in ("fdatasync", "fsync") and path.endswith("store.db-wal"):
            unsynced[tid] = False
        elif call == "write" and fd == "1":
            assert wrote.get(tid), f"acknowledgement {acks + 1} without a WAL write before it"
            assert not unsynced.get(tid), f"acknowledgement {acks + 1} before the WAL fsync"
            wrote[tid] = False
            acks += 1
    assert acks == commits
