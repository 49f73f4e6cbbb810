"""Cache epochs shared by every process that serves one data directory.

The server can run data-plane workers beside its primary process (``lambdamaker.workers``).
Each process caches what the store holds (table definitions, access keys); a change made in one
process must reach the others' caches at once, not after a TTL. The epochs file is a few 8-byte
counters in ``<data-dir>/epochs``, mapped into every process's memory:

- A cache compares the counter of its slot with the value it saw when it filled an entry; a
  change bumps the counter (after its own process-local invalidation), so every process drops
  the entry on its next lookup. A read is one memory access, cheap enough for every request.
- ``CHANGING`` slots count changes in flight: while one runs anywhere, lookups bypass the
  caches (a reader could otherwise cache the old row between the change's commit and its
  final bump). A process killed inside a change leaves its count behind: caches stay bypassed
  (slower, still correct) until the primary restarts, which resets the file.
- Bumps are serialised with ``fcntl.lockf`` on the file; they happen only on control-plane
  changes. Reads take no lock: a torn read can only differ from the value an entry was filled
  with, which costs a refetch, never a stale hit.
- The primary creates (or resets) the file before anything else opens the store; workers open
  it after the primary is up. A platform used in-process has the file too and pays nothing else.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from pathlib import Path

TABLES = 0
TABLES_CHANGING = 1
CREDENTIALS = 2
SLOTS = 8
_SIZE = SLOTS * 8
_SLOT = struct.Struct("<q")


class Epochs:
    """The mapped counters of one data directory."""

    def __init__(self, path: Path, *, reset: bool) -> None:
        self.path = path
        flags = os.O_RDWR | os.O_CREAT
        self._fd = os.open(path, flags, 0o600)
        if reset or os.fstat(self._fd).st_size < _SIZE:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
            try:
                os.ftruncate(self._fd, 0)
                os.ftruncate(self._fd, _SIZE)
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, _SIZE)

    def read(self, slot: int) -> int:
        value: int = _SLOT.unpack_from(self._map, slot * 8)[0]
        return value

    def add(self, slot: int, delta: int = 1) -> int:
        """Add ``delta`` to ``slot`` atomically across processes; the new value."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            value = self.read(slot) + delta
            _SLOT.pack_into(self._map, slot * 8, value)
            return value
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._map.closed:
            return
        try:
            self._map.close()
        finally:
            os.close(self._fd)


class EpochWatch:
    """One cache's view of one slot: ``moved()`` answers True once for every change made (in
    any process) since it last looked. Not thread-safe: callers ask under their own lock."""

    __slots__ = ("_seen", "epochs", "slot")

    def __init__(self, epochs: Epochs, slot: int) -> None:
        self.epochs = epochs
        self.slot = slot
        self._seen = epochs.read(slot)

    def moved(self) -> bool:
        value = self.epochs.read(self.slot)
        if value == self._seen:
            return False
        self._seen = value
        return True
