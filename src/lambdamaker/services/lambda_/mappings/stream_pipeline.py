"""``Pipeline``: a shard's lanes kept busy when ParallelizationFactor is above 1.

The shard worker reads ahead of its lanes and queues each record on its partition key's lane (a
hash of the key, so the records of one key stay in order on one lane). A lane that finishes a
batch starts its next one at once with what is queued for it, instead of waiting for the other
lanes to finish a common chunk: with a chunk of ``batch_size * factor`` records cut by key
hash, a lane given 110 of 400 records ran a second invocation of 10 while the other lanes sat
idle (measured: lanes idle ~37% of the time with 4 lanes).

Invariants:

- A lane runs one batch at a time (``stream_lane.Lane``), its records in shard order, so the
  records of one partition key are invoked in order and one batch after the other.
- Records are registered with the worker's ``Progress`` in shard order before any lane gets
  them, so a record queued or in flight on any lane holds the checkpoint back (the low-water
  mark of done records); filtered-out records are done at once.
- Read-ahead is bounded: the worker reads only while fewer than ``batch_size * factor``
  records wait in the lanes' queues.
- A lane starts a batch (at most ``batch_size`` records) when that many are queued, when its
  oldest queued record has waited the batching window (MaximumBatchingWindowInSeconds, 0 by
  default: at once), or when the lanes drain (see below) or a closed shard was read to its end.
- ``run()`` returns True when the factor changed, after every queued record ran on the old
  layout (a key's records never straddle two layouts), and when the mapping was disabled,
  after the running batches ended; False when the poller stops (running batches end, queued
  records stay after the checkpoint and are delivered again) or the shard is finished. A
  lane's exception is raised once every other running batch has ended; the worker then reads
  again from its durable checkpoint.
- An idle shard is read every ``poll_interval_s``, no busy loop: a pass that starts and reads
  nothing waits for a lane to finish, the next poll, or the nearest batching window.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from lambdamaker.services.lambda_.mappings.model import Mapping, StreamRecord
from lambdamaker.services.lambda_.mappings.stream_lane import Lane

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.mappings.stream_shard import ShardWorker

_BUSY_WAIT_S = 1.0
"""Longest wait for a running lane with nothing else to do (a lane's end wakes it sooner)."""


class Pipeline:
    def __init__(self, worker: ShardWorker, factor: int, pool: ThreadPoolExecutor) -> None:
        self.worker = worker
        self.poller = worker.poller
        self.factor = factor
        self.pool = pool
        self.queues: list[deque[StreamRecord]] = [deque() for _ in range(factor)]
        self.since = [0.0] * factor
        """When each lane's oldest queued record was queued (monotonic seconds)."""
        self.running: dict[int, Future[bool]] = {}
        self.read_after = worker.position
        """The last record read (ahead of the worker's low-water mark)."""
        self.caught_up = False
        """The last read found fewer records than it asked for: nothing more to read now."""
        self.wake = threading.Event()
        worker.progress.begin([])

    def run(self) -> bool:
        try:
            return self._loop()
        finally:
            # Every running batch ends (and marks what it did) before the worker goes on,
            # rewinds, or ends.
            wait(list(self.running.values()))

    def _loop(self) -> bool:
        worker, poller = self.worker, self.poller
        while True:
            self.wake.clear()  # before looking: a lane that ends from now on sets it again
            if not self._reap() or poller.stopping:
                return False
            worker.check_commits()
            mapping = poller.mapping
            if not mapping.enabled:
                return True
            draining = mapping.parallelization != self.factor
            queued = sum(len(q) for q in self.queues)
            want = mapping.batch_size * self.factor
            read = 0
            if draining:
                if not queued and not self.running:
                    return True
            elif queued < want:
                closed = poller.is_closed(worker.shard_id)
                records = poller.source.read(worker.shard_id, self.read_after, want)
                read = len(records)
                self.caught_up = read < want
                if records:
                    self._queue(mapping, records)
                elif closed and not queued and not self.running:
                    worker.finish_shard()
                    return False
                draining = closed and self.caught_up  # the shard's last records: no waiting
            started = self._start(mapping, draining)
            if not started and not read:
                self._pause(mapping)

    def _reap(self) -> bool:
        """Forget finished batches; False when one stopped for the poller (raises a lane's
        exception)."""
        for lane, future in list(self.running.items()):
            if future.done():
                del self.running[lane]
                if not future.result():
                    return False
        return True

    def _queue(self, mapping: Mapping, records: list[StreamRecord]) -> None:
        self.worker.track(records)
        self.read_after = records[-1].sequence_number
        kept = self.worker.filtered(mapping, records)
        now = time.monotonic()
        n = self.factor
        for record in kept:
            lane = zlib.crc32(record.partition_key.encode()) % n
            queue = self.queues[lane]
            if not queue:
                self.since[lane] = now
            queue.append(record)

    def _start(self, mapping: Mapping, draining: bool) -> int:
        """Start a batch on each idle lane that is due one; how many started."""
        now = time.monotonic()
        started = 0
        for lane, queue in enumerate(self.queues):
            if lane in self.running or not queue:
                continue
            due = (
                draining
                or len(queue) >= mapping.batch_size
                or now - self.since[lane] >= mapping.window_s
            )
            if not due:
                continue
            batch = [queue.popleft() for _ in range(min(mapping.batch_size, len(queue)))]
            self.since[lane] = now
            run = Lane(self.poller, self.worker.shard_id, self.worker.done).run
            future = self.pool.submit(run, batch)
            future.add_done_callback(self._lane_ended)
            self.running[lane] = future
            started += 1
        return started

    def _lane_ended(self, _: Future[bool]) -> None:
        self.wake.set()

    def _pause(self, mapping: Mapping) -> None:
        """Wait for a lane to end, the next poll of the shard, or the nearest batching window."""
        if self.running and not self.caught_up:
            timeout = _BUSY_WAIT_S  # lanes are full: only a lane's end changes anything
        else:
            timeout = self.poller.poll_interval_s
        now = time.monotonic()
        for lane, queue in enumerate(self.queues):
            if queue and lane not in self.running:
                timeout = min(timeout, max(0.0, self.since[lane] + mapping.window_s - now))
        self.wake.wait(timeout)
