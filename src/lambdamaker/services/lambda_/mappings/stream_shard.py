"""One shard of a stream mapping: read from the checkpoint, spread over lanes, commit progress.

The worker reads a chunk of records after its in-memory position (initially the durable
checkpoint), drops those no filter matches, and hands the rest to ParallelizationFactor lanes:
a record's lane is a hash of its partition key, so the records of one key stay in order on one
lane. Lanes of a chunk run concurrently; the next chunk is read when all of them are done. The
checkpoint is the low-water mark of done records (``checkpoints.Progress``), written once per
finished batch, in the same transaction as the OnFailure delivery of a failed batch.

A closed shard read to its end is marked ``finished`` so its children may start.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from lambdamaker.engines.functions.spec import InvokeResult
from lambdamaker.errors import ServiceError
from lambdamaker.services.deliver import deliver
from lambdamaker.services.lambda_.mappings import checkpoints
from lambdamaker.services.lambda_.mappings.filters import passes
from lambdamaker.services.lambda_.mappings.model import StreamRecord
from lambdamaker.services.lambda_.mappings.stream_failures import failure_record
from lambdamaker.services.lambda_.mappings.stream_lane import Lane

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.mappings.stream_poller import StreamPoller

log = logging.getLogger("lambdamaker.lambda.esm")


class ShardWorker:
    def __init__(self, poller: StreamPoller, shard_id: str, checkpoint: str | None) -> None:
        self.poller = poller
        self.shard_id = shard_id
        self.checkpoint = checkpoint
        """The durable checkpoint as last committed by this worker."""
        self.progress = checkpoints.Progress(poller.source.order)
        self._lock = threading.Lock()
        self.thread = threading.Thread(
            target=self._run, name=f"esm-{poller.mapping.uuid[:8]}-{shard_id}", daemon=True
        )
        self.finished = False

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        pool: ThreadPoolExecutor | None = None
        try:
            while not self.poller.stopping and self.poller.mapping.enabled:
                try:
                    mapping = self.poller.mapping
                    if mapping.parallelization > 1 and pool is None:
                        pool = ThreadPoolExecutor(10, thread_name_prefix="esm-lane")
                    if not self._step(pool):
                        return
                except Exception:
                    log.exception(
                        "esm %s: shard %s failed", self.poller.mapping.uuid, self.shard_id
                    )
                    self.poller.pause(1.0)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _read(self) -> tuple[list[StreamRecord], bool]:
        """The next chunk, waiting up to the batching window (counted from the first record
        seen) for a full one; and whether the shard is closed (known before the read, so a
        closed shard's last chunk is complete)."""
        mapping = self.poller.mapping
        want = mapping.batch_size * max(1, mapping.parallelization)
        source = self.poller.source
        deadline: float | None = None
        while True:
            closed = self.poller.is_closed(self.shard_id)
            records = source.read(self.shard_id, self.checkpoint, want)
            if len(records) >= want or closed or self.poller.stopping:
                return records, closed
            if records:
                now = time.monotonic()
                deadline = now + mapping.window_s if deadline is None else deadline
                if now >= deadline:
                    return records, closed
            if not self.poller.mapping.enabled:
                return [], closed
            if not self.poller.pause(self.poller.poll_interval_s):
                return [], closed

    def _step(self, pool: ThreadPoolExecutor | None) -> bool:
        """One chunk; False when the worker should end (shard finished, or stopping)."""
        records, closed = self._read()
        if self.poller.stopping:
            return False
        if not records:
            if closed:
                checkpoints.finish(
                    self.poller.store, self.poller.mapping.uuid, self.shard_id, self.poller.now_ms()
                )
                self.finished = True
                self.poller.shard_finished()
                return False
            return True
        mapping = self.poller.mapping
        self.progress.begin(records)
        kept = [r for r in records if passes(self.poller.filters, mapping.kind, r.record)]
        if len(kept) < len(records):
            passing = {r.sequence_number for r in kept}
            self._done([r for r in records if r.sequence_number not in passing], None, 0, None)
        n = max(1, mapping.parallelization)
        lanes: list[list[StreamRecord]] = [[] for _ in range(n)]
        for record in kept:
            lanes[zlib.crc32(record.partition_key.encode()) % n if n > 1 else 0].append(record)
        busy = [lane for lane in lanes if lane]
        if len(busy) <= 1 or pool is None:
            results = [Lane(self.poller, self.shard_id, self._done).run(lane) for lane in busy]
        else:
            futures = [
                pool.submit(Lane(self.poller, self.shard_id, self._done).run, lane) for lane in busy
            ]
            results = [f.result() for f in futures]
        return all(results)

    def _done(
        self,
        records: list[StreamRecord],
        condition: str | None,
        invoke_count: int,
        last: InvokeResult | None,
    ) -> None:
        """Records done (with ``condition``: failed, to OnFailure); commit the new checkpoint
        and the OnFailure record in one transaction."""
        poller = self.poller
        mapping = poller.mapping
        with self._lock:
            moved = self.progress.mark(records)
            body = None
            if condition is not None and mapping.on_failure_arn:
                body = failure_record(
                    kind=mapping.kind,
                    function_arn=mapping.function_arn,
                    stream_arn=mapping.source_arn,
                    shard_id=self.shard_id,
                    batch=records,
                    condition=condition,
                    invoke_count=invoke_count,
                    last=last,
                    now_ms=poller.now_ms(),
                )
            if moved is None and body is None:
                return
            with poller.store.begin() as conn:
                if body is not None and mapping.on_failure_arn:
                    try:
                        deliver(poller.platform, conn, mapping.on_failure_arn, body)
                    except ServiceError as exc:
                        log.warning(
                            "esm %s: OnFailure %s failed (%s); %d record(s) dropped",
                            mapping.uuid,
                            mapping.on_failure_arn,
                            exc,
                            len(records),
                        )
                if moved is not None:
                    checkpoints.advance(conn, mapping.uuid, self.shard_id, moved, poller.now_ms())
            if moved is not None:
                self.checkpoint = moved
