"""``WriterGate``: SQLite write transactions take turns without polling.

SQLite serialises writers itself, but a writer that finds the lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10 ... 100 ms between tries whatever the holder does. With more
than one writer at a time (worker threads, and the data-plane workers' processes on the same
database file) those sleeps, not the commits, set the write rate. The gate queues writers in
front of ``BEGIN IMMEDIATE`` instead: a thread lock inside a process, an ``flock`` on
``<database>-writer.lock`` across processes; both wake the next writer the moment the holder
finishes.

Invariants:
- Held from before ``BEGIN IMMEDIATE`` until after ``COMMIT``/``ROLLBACK`` of one ``begin()``;
  SQLite's own lock still guards every write, so a writer that bypasses the gate (migrations)
  is correct, only slower.
- After ``close()`` (the store closed) writers still queue on the thread lock, without the
  ``flock``.
- Waiting for the thread lock gives up after the store's lock timeout, as the busy handler
  would. The ``flock`` waits without a limit: its holder is inside one transaction, and the
  kernel releases it when the holder's process dies.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lambdamaker.errors import StoreError


class WriterGate:
    def __init__(self, path: str, timeout_s: float) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._lock = threading.Lock()
        self._timeout_s = timeout_s

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self._timeout_s):
            raise StoreError("timed out waiting for the store's write lock")
        try:
            fd = self._fd
            if fd < 0:  # closed with the store: a straggler at shutdown still gets SQLite's lock
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                except OSError:  # closed meanwhile, which released it
                    pass
        finally:
            self._lock.release()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
