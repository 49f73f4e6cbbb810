"""One shard of a stream mapping: read from the checkpoint, invoke in order, commit progress.

With ParallelizationFactor 1 the worker reads a chunk of records after its in-memory position
(initially the durable checkpoint), drops those no filter matches, and runs the rest as one lane
(``stream_lane.Lane``), then reads the next chunk. With a higher factor it hands the shard to a
``stream_pipeline.Pipeline``: records are read ahead and queued on ParallelizationFactor lanes
by a hash of their partition key (so the records of one key stay in order on one lane), each
lane running its next batch as soon as its last one ended. The checkpoint is the low-water mark
of done records (``checkpoints.Progress``); each finished batch's checkpoint (with the
OnFailure record of a failed batch) goes to the poller's ``stream_commits.CommitQueue``, which
writes it in one transaction while the next batch is invoked. The worker reads on from its
in-memory position; when a commit fails it reads again from its last durable checkpoint
(at-least-once, in order), and it flushes its commits before it ends or marks the shard
finished.

A closed shard read to its end is marked ``finished`` so its children may start.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from lambdamaker.engines.functions.spec import InvokeResult
from lambdamaker.services.lambda_.mappings import checkpoints
from lambdamaker.services.lambda_.mappings.filters import passes
from lambdamaker.services.lambda_.mappings.model import Mapping, StreamRecord
from lambdamaker.services.lambda_.mappings.stream_commits import Failure
from lambdamaker.services.lambda_.mappings.stream_failures import failure_record
from lambdamaker.services.lambda_.mappings.stream_lane import Lane
from lambdamaker.services.lambda_.mappings.stream_pipeline import Pipeline

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.mappings.stream_poller import StreamPoller

log = logging.getLogger("lambdamaker.lambda.esm")


class ShardWorker:
    def __init__(self, poller: StreamPoller, shard_id: str, checkpoint: str | None) -> None:
        self.poller = poller
        self.shard_id = shard_id
        self.checkpoint = checkpoint
        """The durable checkpoint as last committed for this worker."""
        self.position = checkpoint
        """Where the next read starts: the low-water mark of done records (ahead of
        ``checkpoint`` while its commit is queued)."""
        self._commit_error: BaseException | None = None
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
                    factor = self.poller.mapping.parallelization
                    if factor > 1:
                        if pool is None:
                            pool = ThreadPoolExecutor(10, thread_name_prefix="esm-lane")
                        if not Pipeline(self, factor, pool).run():
                            return
                    elif not self._step():
                        return
                except Exception:
                    log.exception(
                        "esm %s: shard %s failed", self.poller.mapping.uuid, self.shard_id
                    )
                    self._rewind()
                    self.poller.pause(1.0)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
            self.poller.commits.flush()

    # --- what the commit queue reports --------------------------------------------------------

    def committed(self, checkpoint: str) -> None:
        self.checkpoint = checkpoint

    def commit_failed(self, error: BaseException) -> None:
        self._commit_error = error

    def check_commits(self) -> None:
        """Raise a failed commit's error (``_run`` then rewinds to the durable checkpoint)."""
        error = self._commit_error
        if error is not None:
            raise error

    def _rewind(self) -> None:
        """After a failure: once the queued commits settled, read again from the durable
        checkpoint (records done but not committed are delivered again)."""
        self.poller.commits.flush()
        with self._lock:
            self._commit_error = None
            self.position = self.checkpoint
            self.poller.commits.recover(self)

    def _read(self) -> tuple[list[StreamRecord], bool]:
        """The next chunk, waiting up to the batching window (counted from the first record
        seen) for a full one; and whether the shard is closed (known before the read, so a
        closed shard's last chunk is complete)."""
        mapping = self.poller.mapping
        want = mapping.batch_size
        source = self.poller.source
        deadline: float | None = None
        while True:
            closed = self.poller.is_closed(self.shard_id)
            records = source.read(self.shard_id, self.position, want)
            if len(records) >= want or closed or self.poller.stopping:
                return records, closed
            if records:
                now = time.monotonic()
                deadline = now + mapping.window_s if deadline is None else deadline
                if now >= deadline:
                    return records, closed
            if not self.poller.mapping.enabled or self._commit_error is not None:
                return [], closed  # a failed commit: ``_step`` rewinds before reading on
            if not self.poller.pause(self.poller.poll_interval_s):
                return [], closed

    def _step(self) -> bool:
        """One chunk (ParallelizationFactor 1); False when the worker should end (shard
        finished, or stopping)."""
        self.check_commits()
        records, closed = self._read()
        if self.poller.stopping:
            return False
        if not records:
            if closed:
                self.finish_shard()
                return False
            return True
        self.progress.begin(records)
        kept = self.filtered(self.poller.mapping, records)
        if not kept:
            return True
        return Lane(self.poller, self.shard_id, self.done).run(kept)

    def finish_shard(self) -> None:
        """A closed shard read to its end and done: its children start once this row is
        finished, after its last checkpoint."""
        self.poller.commits.flush()
        self.check_commits()
        checkpoints.finish(
            self.poller.store, self.poller.mapping.uuid, self.shard_id, self.poller.now_ms()
        )
        self.finished = True
        self.poller.shard_finished()

    def track(self, records: list[StreamRecord]) -> None:
        """``records`` were read after every record tracked so far (a pipeline reading ahead)."""
        with self._lock:
            self.progress.extend(records)

    def filtered(self, mapping: Mapping, records: list[StreamRecord]) -> list[StreamRecord]:
        """The ``records`` a filter matches (all without filters); the others are done at once,
        uninvoked."""
        filters = self.poller.filters
        if not filters:
            return records
        kept = [r for r in records if passes(filters, mapping.kind, r.record)]
        if len(kept) < len(records):
            passing = {r.sequence_number for r in kept}
            self.done([r for r in records if r.sequence_number not in passing], None, 0, None)
        return kept

    def done(
        self,
        records: list[StreamRecord],
        condition: str | None,
        invoke_count: int,
        last: InvokeResult | None,
    ) -> None:
        """Records done (with ``condition``: failed, to OnFailure); queue the new checkpoint
        and the OnFailure record, which are committed in one transaction."""
        poller = self.poller
        mapping = poller.mapping
        with self._lock:
            self.check_commits()
            moved = self.progress.mark(records)
            failure = None
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
                failure = Failure(mapping.on_failure_arn, body, len(records))
            if moved is None and failure is None:
                return
            if moved is not None:
                self.position = moved
            poller.commits.put(self, moved, failure)
