"""The durable store: metadata in SQL (SQLAlchemy Core), object bytes on disk.

Invariants:
- SQLite runs in WAL mode with ``synchronous=FULL``: a committed transaction survives ``kill -9``
  and power loss. PostgreSQL is chosen by URL and keeps its own (durable) defaults.
- Write transactions (``Store.begin()``) are serialized on both backends and ``Store.read()`` is a
  read-only snapshot, so code tested on SQLite behaves the same on PostgreSQL (``engine``).
- The schema is versioned per component (``Migration``); the store applies pending migrations in
  order at start-up and records each in ``schema_versions`` in the same transaction.
- Object bytes are written to a temp file, fsynced, renamed into place and the directory fsynced
  before any metadata row points at them; readers therefore never see a partial object.
- The store knows nothing of services or engines: they bring their own tables and migrations.
"""

from lambdamaker.store.engine import Store
from lambdamaker.store.migrations import Migration
from lambdamaker.store.objects import ObjectStore

__all__ = ["Migration", "ObjectStore", "Store"]
