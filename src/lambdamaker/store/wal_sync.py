"""``WalSync``: a write transaction is flushed to disk after it released the write lock.

SQLite's ``synchronous=FULL`` fsyncs the WAL inside ``COMMIT``, that is while the writer holds
the write lock, so every writer of every process waits for the one fsync in flight before it
can even begin. Measured here with three processes writing (``--workers 3``, the ESM benchmark):
the lock was held ~2 ms per transaction, of which the fsync was the larger part, and writers
queued ~2-12 ms for it.

The store therefore runs SQLite with ``synchronous=NORMAL`` (in WAL mode: ``COMMIT`` appends
the transaction's frames to the WAL without an fsync; checkpoints fsync the WAL before copying
it and the database file after) and ``Store.begin()`` calls ``sync()`` after the commit and
after releasing the write lock, before it returns. A writer's fsync and the next writer's
transaction then overlap, and concurrent fsyncs share the disk flush.

Invariants:
- Durable before acknowledged, as with ``FULL``: ``begin()`` returns (and so a caller answers)
  only after ``fdatasync`` of the WAL file that holds the transaction's frames returned. The
  WAL is one append-only log, so that fsync also covers every transaction committed before it.
- A transaction's frames are in the current WAL file or already in the database file: SQLite
  deletes or restarts the WAL only after a checkpoint copied every frame into the database
  file and fsynced it. So syncing the file now at the WAL's path is always enough; a
  descriptor whose file was unlinked (``st_nlink == 0``) is replaced, never used for that.
- What ``FULL`` gave beyond that is gone: between ``COMMIT`` and the fsync (about a
  millisecond) other connections can already read the transaction. After a power loss (not a
  process crash: the kernel still writes the file) such a transaction can be missing although
  a reader saw it; none that was acknowledged can.
- Replaced descriptors stay open until ``close()``: another thread may be syncing one.
"""

from __future__ import annotations

import os
import threading


class WalSync:
    def __init__(self, database: str) -> None:
        self._path = f"{database}-wal"
        self._lock = threading.Lock()
        self._fd = -1
        self._retired: list[int] = []

    def sync(self) -> None:
        """fdatasync the WAL file (the one at its path now)."""
        fd = self._fd
        if fd < 0 or os.fstat(fd).st_nlink == 0:
            fd = self._reopen(fd)
            if fd < 0:
                return
        os.fdatasync(fd)

    def _reopen(self, seen: int) -> int:
        with self._lock:
            if self._fd != seen:  # another thread reopened it meanwhile
                return self._fd
            try:
                fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                # No WAL: the last connection checkpointed it into the (fsynced) database
                # file and deleted it, so there is nothing of ours left to flush.
                return -1
            if seen >= 0:
                self._retired.append(seen)
            self._fd = fd
            return fd

    def close(self) -> None:
        with self._lock:
            fds, self._retired = [*self._retired, self._fd], []
            self._fd = -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)
