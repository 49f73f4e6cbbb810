"""Durable per-shard checkpoints of a stream mapping (``esm_checkpoints``), and the in-memory
low-water mark that decides when a checkpoint may move.

Invariants:

- A checkpoint only moves forward: ``Progress.mark`` returns a new checkpoint only when every
  record up to it is done, so with ParallelizationFactor > 1 a record still in flight on another
  lane holds the checkpoint back (at-least-once on a restart, never a skip).
- Rows are created once per (mapping, shard) with the starting position; an existing row is
  never overwritten by a later creation (the durable checkpoint wins on a restart).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.lambda_.mappings.model import StreamRecord
from lambdamaker.services.lambda_.mappings.tables import esm_checkpoints
from lambdamaker.store import Store
from lambdamaker.store.raw import RawStatement

_LOAD = sa.select(
    esm_checkpoints.c.shard_id, esm_checkpoints.c.checkpoint, esm_checkpoints.c.finished
).where(esm_checkpoints.c.uuid == sa.bindparam("u"))
_ADVANCE = RawStatement(
    sa.update(esm_checkpoints)
    .where(
        esm_checkpoints.c.uuid == sa.bindparam("u"),
        esm_checkpoints.c.shard_id == sa.bindparam("s"),
    )
    .values(checkpoint=sa.bindparam("cp"), updated_ms=sa.bindparam("now"))
)
"""Straight to the driver: it runs for every committed batch, with plain values only."""
_FINISH = (
    sa.update(esm_checkpoints)
    .where(
        esm_checkpoints.c.uuid == sa.bindparam("u"),
        esm_checkpoints.c.shard_id == sa.bindparam("s"),
    )
    .values(finished=True, updated_ms=sa.bindparam("now"))
)


@dataclass(frozen=True)
class ShardCheckpoint:
    checkpoint: str | None
    finished: bool


def load(store: Store, uuid: str) -> dict[str, ShardCheckpoint]:
    with store.read() as conn:
        return {
            row.shard_id: ShardCheckpoint(row.checkpoint, bool(row.finished))
            for row in conn.execute(_LOAD, {"u": uuid})
        }


def create(store: Store, uuid: str, starts: dict[str, str | None], now_ms: int) -> None:
    """Rows for the shards of ``starts`` (shard -> starting checkpoint) that have none yet."""
    if not starts:
        return
    with store.begin() as conn:
        have = {row.shard_id for row in conn.execute(_LOAD, {"u": uuid})}
        rows = [
            {
                "uuid": uuid,
                "shard_id": shard,
                "checkpoint": cp,
                "finished": False,
                "updated_ms": now_ms,
            }
            for shard, cp in starts.items()
            if shard not in have
        ]
        if rows:
            conn.execute(sa.insert(esm_checkpoints), rows)


def advance(conn: Connection, uuid: str, shard: str, checkpoint: str, now_ms: int) -> None:
    _ADVANCE.execute(conn, {"u": uuid, "s": shard, "cp": checkpoint, "now": now_ms})


def finish(store: Store, uuid: str, shard: str, now_ms: int) -> None:
    with store.begin() as conn:
        conn.execute(_FINISH, {"u": uuid, "s": shard, "now": now_ms})


class Progress:
    """The records read from a shard and not yet behind the low-water mark, in shard order, and
    which of them are done."""

    _TRIM = 4096
    """Records behind the low-water mark kept before they are forgotten (a read-ahead
    pipeline extends the list for as long as the shard runs)."""

    def __init__(self, order: Callable[[str], int]) -> None:
        self.order = order
        self._pending: list[str] = []
        self._done: set[str] = set()
        self._next = 0

    def begin(self, records: Iterable[StreamRecord]) -> None:
        """Start over with ``records`` (a new chunk, or nothing read yet)."""
        self._pending = [r.sequence_number for r in records]
        self._done = set()
        self._next = 0

    def extend(self, records: Iterable[StreamRecord]) -> None:
        """``records`` were read after every record already here."""
        self._pending.extend(r.sequence_number for r in records)

    def mark(self, records: Iterable[StreamRecord]) -> str | None:
        """Mark ``records`` done; the new low-water mark if it moved, else None."""
        self._done.update(r.sequence_number for r in records)
        start = self._next
        while self._next < len(self._pending) and self._pending[self._next] in self._done:
            self._next += 1
        if self._next == start:
            return None
        mark = self._pending[self._next - 1]
        if self._next >= self._TRIM:
            behind = self._pending[: self._next]
            self._done.difference_update(behind)
            del self._pending[: self._next]
            self._next = 0
        return mark
