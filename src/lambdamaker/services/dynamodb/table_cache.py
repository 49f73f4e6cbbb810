"""A per-process cache of table definitions, so an item operation does not read its table's
row every time.

Invariants (one server process owns a data directory's store):

- Every change to a table's row (CreateTable, UpdateTable, DeleteTable, UpdateTimeToLive) runs
  inside ``changing()``. While one runs, lookups bypass the cache; it bumps ``generation`` when
  it starts and again when it has finished (committed or not), and drops every entry.
- An entry is used only if it was fetched in the current generation with no change running,
  so it was read after the last change committed: a lookup never sees a table older than the
  last change that finished before it began. This holds for writers too (their transaction
  holds the write lock, so no change commits while they use the entry).
- Across the processes of one server (the primary and its data-plane workers) the same holds
  through the shared epochs (``store.epochs``): ``changing()`` also counts itself in
  ``TABLES_CHANGING`` and bumps ``TABLES`` at its start and end; a lookup bypasses the cache
  while any process is changing a table, and drops every entry when ``TABLES`` moved since it
  last looked.
- Entries also expire after ``TTL_S``: a store shared with another server (PostgreSQL) sees
  that server's changes within that bound.
- Callers never mutate a cached ``Table`` (changes fetch their own copy: lookups inside
  ``changing()`` bypass the cache).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lambdamaker.store.epochs import TABLES, TABLES_CHANGING, EpochWatch

if TYPE_CHECKING:
    from lambdamaker.services.dynamodb.common import Table
    from lambdamaker.store.epochs import Epochs

TTL_S = 1.0


class TableCache:
    def __init__(self, epochs: Epochs | None = None) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._changing = 0
        self._entries: dict[tuple[str, str], tuple[int, float, Table]] = {}
        self._epochs = epochs
        self._watch = EpochWatch(epochs, TABLES) if epochs is not None else None

    @contextmanager
    def changing(self) -> Iterator[None]:
        epochs = self._epochs
        with self._lock:
            self._changing += 1
            self._generation += 1
            self._entries.clear()
        if epochs is not None:
            epochs.add(TABLES_CHANGING, 1)
            epochs.add(TABLES)
        try:
            yield
        finally:
            with self._lock:
                self._generation += 1
                self._changing -= 1
                self._entries.clear()
            if epochs is not None:
                epochs.add(TABLES)
                epochs.add(TABLES_CHANGING, -1)

    def _others_changing(self) -> bool:
        """Whether another process changes (or just changed) a table: drop what we hold."""
        watch = self._watch
        if watch is None:
            return False
        if watch.epochs.read(TABLES_CHANGING) > 0:
            return True
        if watch.moved():  # under self._lock
            self._generation += 1
            self._entries.clear()
        return False

    def get(self, account: str, name: str, fetch: Callable[[], Table | None]) -> Table | None:
        key = (account, name)
        with self._lock:
            if self._changing or self._others_changing():
                generation = -1
            else:
                generation = self._generation
                entry = self._entries.get(key)
                if (
                    entry is not None
                    and entry[0] == generation
                    and time.monotonic() - entry[1] < TTL_S
                ):
                    return entry[2]
        table = fetch()
        if table is not None and generation >= 0:
            with self._lock:
                if self._generation == generation and not self._changing:
                    self._entries[key] = (generation, time.monotonic(), table)
        return table
