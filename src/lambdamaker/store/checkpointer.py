"""``Checkpointer``: copies SQLite's write-ahead log back into the database file on a thread of
its own, so writers do not.

With SQLite's default ``wal_autocheckpoint`` the connection whose COMMIT takes the WAL past
1,000 pages runs the checkpoint inside that COMMIT: it reads every new frame back from the WAL,
writes the pages into the database file and fsyncs it, while holding up the callers waiting on
that commit. A group committer is one thread that every write request waits on, so each of its
checkpoints stalled all of them (measured: ~40% of the committer's file I/O during a
DynamoDB-heavy run). Here the writers' automatic checkpoint only catches a runaway WAL
(``FALLBACK_PAGES``) and this thread checkpoints in the background instead; sqlite3 releases the
GIL while it copies, so the copy runs beside Python work on another core.

Invariants:

- A checkpoint is two passes: the bulk of the frames is copied while writers go on, then the
  few they appended meanwhile under the store's writer gate (``gate``), so the WAL ends fully
  copied with no writer in between and the next writer starts it over from its beginning.
  Without the second pass the copy never catches up with a busy writer and the WAL only grows
  (measured: to the 16,000-page fallback, 64 MiB, in a minute of steady BatchWriteItem).
- Durability is SQLite's own: a commit is durable once its WAL frames are synced
  (``synchronous=FULL``), whoever checkpoints later. A checkpoint is PASSIVE: it never waits
  for or blocks a writer or reader, and copies what no reader still needs; an interrupted one
  is redone by the next (SQLite's crash recovery covers it).
- Every ``interval_s`` it reads how many WAL frames are not yet in the database file from the
  wal-index (the ``-shm`` file: ``mxFrame`` and ``nBackfill``, whose layout SQLite documents in
  walformat.html) and checkpoints once that reaches ``threshold_pages``. That read is only a
  hint for when to start: a torn or stale one costs an early or late checkpoint, nothing else.
  The WAL file is reused from its start by the next writer after a complete checkpoint, as
  before.
- One per ``Store`` (SQLite only); ``close()`` stops it and runs a last checkpoint. Several
  processes on one database may each run one: SQLite lets one checkpoint run at a time and the
  others return at once (busy), which is harmless.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import struct
import threading
from collections.abc import Callable

from lambdamaker.errors import StoreError

log = logging.getLogger(__name__)

FALLBACK_PAGES = 16_000
"""``wal_autocheckpoint`` for writers' own connections: a writer checkpoints only when the WAL
reaches this many pages (64 MiB at 4 KiB pages), i.e. when the background thread fell behind."""

_U32 = struct.Struct("=I")
"""``mxFrame`` (offset 16) and ``nBackfill`` (offset 96) in the wal-index: native-order u32."""


class Checkpointer:
    threshold_pages = 1000
    """New WAL pages that start a checkpoint (SQLite's default automatic threshold)."""
    interval_s = 0.05
    """Between looks at the wal-index."""

    def __init__(
        self,
        database: str,
        busy_timeout_ms: int,
        gate: Callable[[], contextlib.AbstractContextManager[None]],
    ) -> None:
        self._database = database
        self._gate = gate
        self._shm = f"{database}-shm"
        self._busy_timeout_ms = busy_timeout_ms
        self._stop = threading.Event()
        self._shm_fd: int | None = None
        self._thread = threading.Thread(
            target=self._run, name="lambdamaker-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval_s):
                if not self._due():
                    continue
                if conn is None:
                    conn = self._connect()
                self._checkpoint(conn)
        except Exception:
            log.exception("background WAL checkpoints stopped; writers checkpoint instead")
        finally:
            if conn is not None:
                self._checkpoint(conn)
                conn.close()
            if self._shm_fd is not None:
                os.close(self._shm_fd)

    def _due(self) -> bool:
        """Whether ``threshold_pages`` WAL frames wait to be copied (from the wal-index)."""
        if self._shm_fd is not None and os.fstat(self._shm_fd).st_nlink == 0:
            os.close(self._shm_fd)  # removed since (every connection closed): find the new one
            self._shm_fd = None
        if self._shm_fd is None:
            try:
                self._shm_fd = os.open(self._shm, os.O_RDONLY)
            except FileNotFoundError:  # no connection has the database open in WAL mode yet
                return False
        header = os.pread(self._shm_fd, 100, 0)
        if len(header) < 100:
            return False
        (mx_frame,) = _U32.unpack_from(header, 16)
        (backfilled,) = _U32.unpack_from(header, 96)
        return bool(mx_frame - backfilled >= self.threshold_pages)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        return conn

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            with self._gate():
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (sqlite3.Error, StoreError) as exc:
            log.debug("background WAL checkpoint skipped: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
