"""ConsumedCapacity as DynamoDB computes it, for ``ReturnConsumedCapacity``.

Writes cost one unit per started KB of the larger of the old and new item (at least 1); reads
one unit per started 4 KB read (at least 1), half for eventually consistent reads. Scans and
Queries charge the page's total size at once, as DynamoDB does. Nothing is throttled.
"""

from __future__ import annotations

import math
from typing import Any


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    units = float(max(1, math.ceil(size / 4096)))
    return units if consistent else units / 2


class Meter:
    """Capacity consumed per table by one request."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.mode = params.get("ReturnConsumedCapacity") or "NONE"
        self.counting = self.mode != "NONE"
        """Whether the response reports capacity: if not, callers may skip measuring it (a write
        then need not read the item it replaces just for its size)."""
        self.read: dict[str, float] = {}
        self.write: dict[str, float] = {}

    def add_read(self, table: str, units: float) -> None:
        self.read[table] = self.read.get(table, 0.0) + units

    def add_write(self, table: str, units: float) -> None:
        self.write[table] = self.write.get(table, 0.0) + units

    def _entry(self, table: str) -> dict[str, Any]:
        r, w = self.read.get(table, 0.0), self.write.get(table, 0.0)
        entry: dict[str, Any] = {"TableName": table, "CapacityUnits": r + w}
        if self.mode == "INDEXES":
            entry["Table"] = {"CapacityUnits": r + w}
            if r:
                entry["ReadCapacityUnits"] = r
                entry["Table"]["ReadCapacityUnits"] = r
            if w:
                entry["WriteCapacityUnits"] = w
                entry["Table"]["WriteCapacityUnits"] = w
        return entry

    def single(self, out: dict[str, Any], table: str) -> dict[str, Any]:
        """``out`` with ``ConsumedCapacity`` for a one-table operation, when asked for."""
        if self.counting:
            out["ConsumedCapacity"] = self._entry(table)
        return out

    def many(self, out: dict[str, Any], tables: list[str]) -> dict[str, Any]:
        """``out`` with a ``ConsumedCapacity`` list (batch operations), when asked for."""
        if self.counting:
            out["ConsumedCapacity"] = [self._entry(t) for t in tables]
        return out
