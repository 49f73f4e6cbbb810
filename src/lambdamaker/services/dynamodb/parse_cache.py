"""``ParseCache``: parsed expressions kept by the exact text of the request that carried them.

Invariants:

- At most ``size`` entries; a full cache is emptied, not trimmed entry by entry, so a hit costs
  one dict lookup and nothing else (no recency bookkeeping).
- With ``second_sight`` an entry is made only the second time its key is offered (the first
  time only the key's hash is noted, in a set bounded at ``8 * size`` and emptied the same
  way). A stream of requests whose texts never repeat (a new partition key each time) then
  leaves nothing behind: cached entries outlive young garbage collections, and one-off entries
  made full collections several times more frequent. Plain ints are not tracked by the
  collector; a hash collision only admits an entry early.
- Only what a caller ``store``s after a successful parse is kept: failures are never entries.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ParseCache(Generic[V]):
    def __init__(self, size: int, *, second_sight: bool = False) -> None:
        self.size = size
        self._entries: dict[Hashable, V] = {}
        self._seen: set[int] | None = set() if second_sight else None
        self.get = self._entries.get
        """The entry of a key, or None (the dict's own ``get``: no call of ours on a hit)."""

    def admits(self, key: Hashable) -> bool:
        """Whether a parse under ``key`` should be stored now (with ``second_sight``: not the
        first time the key is offered)."""
        seen = self._seen
        if seen is None:
            return True
        digest = hash(key)
        if digest in seen:
            return True
        if len(seen) >= 8 * self.size:
            seen.clear()
        seen.add(digest)
        return False

    def store(self, key: Hashable, value: V) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()
        if self._seen is not None:
            self._seen.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def values(self) -> list[V]:
        return list(self._entries.values())

    def seen(self) -> int:
        """How many keys were offered once and are remembered for a second time."""
        return 0 if self._seen is None else len(self._seen)
