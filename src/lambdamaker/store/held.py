"""``HeldConnection``: one SQLite connection kept checked out between the write transactions of
a caller that opens them one after another (a group committer's successive leaders), so each
``Store.begin(held=...)`` skips SQLAlchemy's checkout and check-in (a new ``Connection``, pool
events, the reset on return): they cost more than a small group's statements.

Invariants:

- Used by one ``begin()`` at a time (a lock guards it; a group committer has one leader at a
  time, so it is never contended there). Everything a transaction means is unchanged: the same
  gate, the same ``begin`` event (``BEGIN IMMEDIATE``), commit or rollback at the end.
- A transaction that raised may have left the connection in any state: it is closed (back to
  the pool) and the next transaction checks out a fresh one.
- SQLite only (``Store.held_connection`` gives None on PostgreSQL, where a connection held
  across transactions would miss the pool's check for a dropped connection).
- ``close()`` (from ``Store.close``) waits for the transaction in progress, closes the
  connection, and later transactions check out and return their own, as without it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine


class HeldConnection:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def use(self) -> Iterator[Connection]:
        """The held connection (checked out now if it is not yet), for one transaction."""
        with self._lock:
            if self._closed:
                with self._engine.connect() as own:
                    yield own
                return
            conn = self._conn
            if conn is None or conn.closed or conn.invalidated:
                conn = self._engine.connect()
                self._conn = conn
            try:
                yield conn
            except BaseException:
                self._conn = None
                conn.close()
                raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
