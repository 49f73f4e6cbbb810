"""``StreamPoller``: Lambda's poller for one Kinesis or DynamoDB Streams event source mapping.

``StreamPoller(provider, mapping, source)``, then ``start()``, ``update(mapping)``, ``stop()``.
A coordinator thread lists the source's shards every poll interval and runs one
``stream_shard.ShardWorker`` (a thread) per shard whose parents are finished; each worker reads
from its durable checkpoint and invokes the function through ``stream_lane.Lane``.

Invariants:

- A shard starts only once all its parents (still within retention) are finished, so records
  of a key are delivered in order across splits and merges.
- The first time a mapping runs (no checkpoint row yet) every shard of the stream gets a row at
  the mapping's StartingPosition (LATEST: after the newest record, AT_TIMESTAMP: before the
  first record at or after the time); shards created later (resharding) start at their
  beginning. After that the durable checkpoint is the only starting point.
- ``stop()`` waits for the workers: an invocation in flight finishes and its batch is committed
  (one transaction: checkpoint and OnFailure record together, written by ``commits`` while
  the shard goes on, and flushed before a worker ends); no new batch starts. Records
  read but not done stay after the checkpoint and are delivered again by the next poller.
- ``update(mapping)`` is read by lanes between batches; disabling ends the workers and no shard
  is polled while the mapping is disabled.
- Idle polling sleeps ``poll_interval_s`` between reads: no busy loop on an idle stream; shards
  are listed every ``discover_interval_s`` (and at once when a shard is finished).
- A deleted stream ends the poller (its workers end too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.events.patterns import EventPattern
from lambdamaker.services.lambda_.mappings import checkpoints
from lambdamaker.services.lambda_.mappings.model import Mapping, StreamSource
from lambdamaker.services.lambda_.mappings.stream_commits import CommitQueue
from lambdamaker.services.lambda_.mappings.stream_shard import ShardWorker

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.provider import LambdaProvider

log = logging.getLogger("lambdamaker.lambda.esm")

OK = "OK"
PROBLEM = "PROBLEM: Function call failed"


class StreamPoller:
    poll_interval_s = 0.25
    """Idle wait between reads of a shard with nothing new, and between shard listings."""
    discover_interval_s = 1.0
    """Between listings of the stream's shards (new shards after a reshard)."""
    retry_delay_s = 0.1
    """First delay before retrying a failed batch (doubles per attempt, at most 2 s)."""
    throttle_delay_s = 0.2
    """First delay after a throttled or not invocable function (doubles, at most 5 s)."""
    clock: Callable[[], float] = staticmethod(time.time)
    """Seconds since the epoch, for record ages and timestamps; tests replace it."""

    def __init__(self, provider: LambdaProvider, mapping: Mapping, source: StreamSource) -> None:
        self.provider = provider
        self.platform = provider.platform
        self.store = provider.platform.store
        self.source = source
        self.mapping = mapping
        self.filters: tuple[EventPattern, ...] = ()
        self._compile(mapping)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._workers: dict[str, ShardWorker] = {}
        self._closed: set[str] = set()
        self._thread: threading.Thread | None = None
        self._throttles = 0
        self._last_result = ""
        self.commits = CommitQueue(
            self.platform, mapping.uuid, self.now_ms, name=f"esm-{mapping.uuid[:8]}-commit"
        )
        """The shards' checkpoints and OnFailure records, committed off the invocation path."""

    # --- control ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._coordinate, name=f"esm-{self.mapping.uuid[:8]}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for worker in list(self._workers.values()):
            worker.thread.join(timeout)

    def update(self, mapping: Mapping) -> None:
        self._compile(mapping)
        self.mapping = mapping
        self._wake.set()

    def _compile(self, mapping: Mapping) -> None:
        self.filters = tuple(EventPattern.compile(f) for f in mapping.filters)

    # --- what workers and lanes use ---------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds`` unless stopped; False when stopping."""
        return not self._stop.wait(seconds)

    def retry_delay(self, attempts: int) -> float:
        return float(min(self.retry_delay_s * 2 ** max(0, attempts - 1), 2.0))

    def backoff_throttled(self) -> None:
        self._throttles += 1
        self.pause(min(self.throttle_delay_s * 2 ** min(self._throttles - 1, 10), 5.0))

    def note_result(self, ok: bool) -> None:
        """LastProcessingResult, through the manager (which writes it only when it changes)."""
        if ok:
            self._throttles = 0
        result = OK if ok else PROBLEM
        if result == self._last_result:
            return
        self._last_result = result
        manager: Any = getattr(self.provider, "esm_manager", None)
        if manager is not None:
            try:
                manager.record_result(self.mapping.uuid, result)
            except Exception:
                log.debug("esm %s: could not record %s", self.mapping.uuid, result, exc_info=True)

    def is_closed(self, shard_id: str) -> bool:
        return shard_id in self._closed

    def shard_finished(self) -> None:
        self._wake.set()

    # --- the coordinator --------------------------------------------------------------------

    def _coordinate(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._tick():
                    return
            except Exception:
                log.exception(
                    "esm %s: polling %s failed", self.mapping.uuid, self.mapping.source_arn
                )
            self._wake.wait(self.discover_interval_s)
            self._wake.clear()

    def _tick(self) -> bool:
        """Start the workers of shards that may run; False once the source is gone."""
        self._workers = {k: w for k, w in self._workers.items() if w.thread.is_alive()}
        if not self.mapping.enabled:
            return True
        if not self.source.exists():
            log.warning("esm %s: %s no longer exists", self.mapping.uuid, self.mapping.source_arn)
            self._stop.set()
            return False
        self._set_identity()
        shards = self.source.shards()
        self._closed = {s.shard_id for s in shards if s.closed}
        rows = checkpoints.load(self.store, self.mapping.uuid)
        if not rows:
            m = self.mapping
            position = m.starting_position or "TRIM_HORIZON"
            starts = {
                s.shard_id: self.source.start_position(
                    s.shard_id, position, m.starting_timestamp_ms
                )
                for s in shards
            }
            checkpoints.create(self.store, m.uuid, starts, self.now_ms())
            rows = checkpoints.load(self.store, m.uuid)
        known = {s.shard_id for s in shards}
        for shard in shards:
            row = rows.get(shard.shard_id)
            if (row is not None and row.finished) or shard.shard_id in self._workers:
                continue
            waiting = [
                p for p in shard.parent_ids if p in known and not (p in rows and rows[p].finished)
            ]
            if waiting:
                continue
            if row is None:
                checkpoints.create(
                    self.store, self.mapping.uuid, {shard.shard_id: None}, self.now_ms()
                )
            worker = ShardWorker(self, shard.shard_id, row.checkpoint if row else None)
            self._workers[shard.shard_id] = worker
            worker.start()
        return True

    def _set_identity(self) -> None:
        """Kinesis records carry the function's role as ``invokeIdentityArn``."""
        source: Any = self.source
        if not hasattr(source, "identity_arn") or source.identity_arn:
            return
        try:
            name, qualifier = self.provider.arns.parse_function(self.mapping.function_arn)
            source.identity_arn = self.provider.targets.get(name, qualifier).primary.spec.role
        except Exception:
            log.debug("esm %s: function role not known yet", self.mapping.uuid, exc_info=True)
