"""``CommitQueue``: a stream mapping's checkpoint commits, off the shards' invocation path.

A shard worker hands each finished batch's progress (its new checkpoint, and the OnFailure
record of a failed batch) to the poller's queue and goes on to invoke its next batch while a
committer thread writes it. Without the queue every batch waited for its own write transaction
(the writer gate and an fsync) before the next invocation could start; now that wait overlaps
the next invocation, and the progress of all the mapping's shards that piled up meanwhile is
written as one work of the platform's group committer (in one transaction with whatever else
the process writes meanwhile, the function's own writes often: one fsync).

Invariants:

- One transaction (one work, rolled back alone if it fails) holds everything taken from the
  queue: the OnFailure records in the order they were queued, and each shard's newest
  checkpoint (checkpoints only move forward, so the newest covers the older ones). An
  OnFailure record is therefore committed together with the checkpoint that moves past its
  batch, never without it (no duplicate on a restart).
- Nothing is lost silently: when a transaction fails, each shard whose progress it held is told
  (``ShardSink.commit_failed``) and re-reads from its last durable checkpoint, as it did when
  the commit ran inline (at-least-once, in order). Until it has done so (``recover``), what it
  queued later is dropped, not committed: a later checkpoint would skip the records (and the
  OnFailure record) of the failed transaction.
- ``flush(sink)`` returns once everything ``sink`` queued before the call is committed (or has
  failed); a worker flushes before it ends and before it marks its shard finished, so a shard's
  children start only after its last checkpoint is durable and ``StreamPoller.stop()`` still
  means "in-flight batches are committed".
- The committer thread exists only while there is work (it leaves after ``idle_s`` without any).
- Progress is gathered for ``gather_s`` (50 ms) after the first entry of a transaction arrives,
  unless someone flushes: a mapping commits its checkpoints at most ~20 times a second however
  many batches its shards finish, instead of once per batch (measured: one more fsync and
  write-lock turn per batch of 100 records was ~15% of the ESM benchmark's rate with
  ParallelizationFactor 1). A crash loses at most that much more progress, which is re-read
  and re-invoked from the last durable checkpoint (at-least-once, as Lambda documents).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.deliver import deliver
from lambdamaker.services.lambda_.mappings import checkpoints

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.lambda.esm")


class ShardSink(Protocol):
    """What the queue reports back to a shard worker."""

    shard_id: str

    def committed(self, checkpoint: str) -> None: ...

    def commit_failed(self, error: BaseException) -> None: ...


@dataclass(frozen=True)
class Failure:
    """A failed batch's OnFailure record."""

    destination: str
    body: str
    records: int


@dataclass(frozen=True)
class _Entry:
    sink: ShardSink
    checkpoint: str | None
    failure: Failure | None


class CommitQueue:
    idle_s = 1.0
    """How long the committer thread waits for more work before it leaves."""
    gather_s = 0.05
    """How long progress gathers before it is committed (see the module's invariants)."""

    def __init__(
        self, platform: Platform, uuid: str, now_ms: Callable[[], int], name: str = "esm-commit"
    ) -> None:
        self.platform = platform
        self.uuid = uuid
        self.now_ms = now_ms
        self.name = name
        self._cond = threading.Condition()
        self._entries: list[_Entry] = []
        self._queued = 0
        """Entries ever queued; an entry's ticket is the count after it was queued."""
        self._settled = 0
        """Entries whose transaction has ended (committed or failed), in queue order."""
        self._running = False
        self._flushing = 0
        """Callers in ``flush``: the committer takes what is queued without gathering more."""
        self._broken: set[ShardSink] = set()
        """Sinks whose commit failed and that have not recovered yet."""

    def put(self, sink: ShardSink, checkpoint: str | None, failure: Failure | None) -> None:
        with self._cond:
            self._entries.append(_Entry(sink, checkpoint, failure))
            self._queued += 1
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name=self.name, daemon=True).start()
            else:
                self._cond.notify_all()

    def recover(self, sink: ShardSink) -> None:
        """``sink`` reads again from its durable checkpoint: commit what it queues from now on."""
        with self._cond:
            self._broken.discard(sink)

    def flush(self) -> None:
        """Wait until everything queued so far has been committed (or has failed)."""
        with self._cond:
            ticket = self._queued
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._settled < ticket:
                    self._cond.wait()
            finally:
                self._flushing -= 1

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._entries:
                    self._cond.wait(self.idle_s)
                if not self._entries:
                    self._running = False
                    return
                gathered = time.monotonic() + self.gather_s
                while not self._flushing and (left := gathered - time.monotonic()) > 0:
                    self._cond.wait(left)
                taken, self._entries = self._entries, []
                broken = set(self._broken)
            try:
                self._commit([e for e in taken if e.sink not in broken])
            finally:
                with self._cond:
                    self._settled += len(taken)
                    self._cond.notify_all()

    def _commit(self, taken: list[_Entry]) -> None:
        if not taken:
            return
        newest: dict[str, tuple[ShardSink, str]] = {}
        for entry in taken:
            if entry.checkpoint is not None:
                newest[entry.sink.shard_id] = (entry.sink, entry.checkpoint)

        def work(conn: Connection) -> None:
            for entry in taken:
                if entry.failure is not None:
                    self._deliver(conn, entry.failure)
            now = self.now_ms()
            for shard_id, (_, checkpoint) in newest.items():
                checkpoints.advance(conn, self.uuid, shard_id, checkpoint, now)

        try:
            # With the process's other hot writes (the function's own, often): one commit.
            self.platform.committer.run(work)
        except BaseException as exc:
            log.warning("esm %s: committing checkpoints failed: %s", self.uuid, exc)
            sinks = {e.sink for e in taken}
            with self._cond:
                self._broken |= sinks
            for sink in sinks:
                sink.commit_failed(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for sink, checkpoint in newest.values():
            sink.committed(checkpoint)

    def _deliver(self, conn: Connection, failure: Failure) -> None:
        try:
            deliver(self.platform, conn, failure.destination, failure.body)
        except ServiceError as exc:
            log.warning(
                "esm %s: OnFailure %s failed (%s); %d record(s) dropped",
                self.uuid,
                failure.destination,
                exc,
                failure.records,
            )
