"""Metering: what each function used, per minute, for cost reports and dashboards.

The functions engine reports every invocation and throttle to a ``MeterSink``. ``Meter``, the
real sink, folds each report into an in-memory accumulator keyed by (function ARN, version,
minute) under a lock: no I/O on the invoke path, and memory bounded by the number of distinct
keys (functions x versions x minutes between flushes), not by the request rate. A writer thread
merges the accumulators into ``function_usage`` every ``flush_interval`` (1 s) in one
transaction. If that transaction fails, the accumulators are merged back and retried: counts
are never lost while the process lives. On a crash, at most the last interval's counts are
lost (they are metrics, not acknowledged work).

Recorded raw facts (DESIGN.md, "Observability"): requests, errors (any ``function_error``),
throttles, cold starts, duration sum and max, billed milliseconds, GB-seconds (configured
memory in GB x billed seconds, as Lambda bills), init duration, max memory used.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from lambdamaker.store import Migration, Store
from lambdamaker.store.migrations import create_tables

if TYPE_CHECKING:
    # Only for annotations: the engine imports this module for ``MeterSink``.
    from lambdamaker.engines.functions.spec import FunctionSpec, InvokeResult

__all__ = ["MIGRATIONS", "Meter", "MeterSink", "Usage", "UsageMinute"]

log = logging.getLogger(__name__)


class MeterSink(Protocol):
    """Where the functions engine reports usage. Both calls must not block on I/O."""

    def record_invocation(self, spec: FunctionSpec, result: InvokeResult) -> None: ...

    def record_throttle(self, function_arn: str, version: str, reason: str) -> None: ...


metadata = sa.MetaData()
function_usage = sa.Table(
    "function_usage",
    metadata,
    sa.Column("function_arn", sa.String(256), primary_key=True),
    sa.Column("version", sa.String(32), primary_key=True),
    sa.Column("minute_ms", sa.BigInteger, primary_key=True),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("throttles", sa.BigInteger, nullable=False),
    sa.Column("cold_starts", sa.BigInteger, nullable=False),
    sa.Column("duration_ms_sum", sa.Float, nullable=False),
    sa.Column("duration_ms_max", sa.Float, nullable=False),
    sa.Column("billed_ms_sum", sa.BigInteger, nullable=False),
    sa.Column("gb_seconds_sum", sa.Float, nullable=False),
    sa.Column("init_ms_sum", sa.Float, nullable=False),
    sa.Column("max_memory_used_mb", sa.Integer, nullable=False),
    sa.Index("ix_function_usage_minute", "minute_ms"),
)

MIGRATIONS = (Migration("metering", 1, create_tables(function_usage), "per-minute usage"),)


@dataclass
class UsageMinute:
    """One (function, version, minute) row; also the in-memory accumulator."""

    function_arn: str
    version: str
    minute_ms: int
    requests: int = 0
    errors: int = 0
    throttles: int = 0
    cold_starts: int = 0
    duration_ms_sum: float = 0.0
    duration_ms_max: float = 0.0
    billed_ms_sum: int = 0
    gb_seconds_sum: float = 0.0
    init_ms_sum: float = 0.0
    max_memory_used_mb: int = 0

    def merge(self, other: UsageMinute) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.throttles += other.throttles
        self.cold_starts += other.cold_starts
        self.duration_ms_sum += other.duration_ms_sum
        self.duration_ms_max = max(self.duration_ms_max, other.duration_ms_max)
        self.billed_ms_sum += other.billed_ms_sum
        self.gb_seconds_sum += other.gb_seconds_sum
        self.init_ms_sum += other.init_ms_sum
        self.max_memory_used_mb = max(self.max_memory_used_mb, other.max_memory_used_mb)


_KEY_FIELDS = ("function_arn", "version", "minute_ms")
_COUNT_FIELDS = tuple(f.name for f in fields(UsageMinute) if f.name not in _KEY_FIELDS)


@dataclass
class Usage:
    """``Meter.usage``'s answer: the minutes, oldest first, and their totals."""

    minutes: list[UsageMinute] = field(default_factory=list)

    def total(self) -> UsageMinute:
        out = UsageMinute("*", "*", 0)
        for m in self.minutes:
            out.merge(m)
        return out


class Meter:
    """The ``MeterSink`` over the metadata store, with a read API for reports."""

    def __init__(
        self,
        store: Store,
        *,
        flush_interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.flush_interval = flush_interval
        self.clock = clock
        self._lock = threading.Lock()
        self._acc: dict[tuple[str, str, int], UsageMinute] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()

    # --- the sink -----------------------------------------------------------------------------

    def _slot(self, function_arn: str, version: str) -> UsageMinute:
        """The accumulator of this minute; the caller holds ``_lock``."""
        minute = int(self.clock() // 60) * 60_000
        key = (function_arn, version, minute)
        acc = self._acc.get(key)
        if acc is None:
            acc = self._acc[key] = UsageMinute(function_arn, version, minute)
        return acc

    def record_invocation(self, spec: FunctionSpec, result: InvokeResult) -> None:
        billed = int(result.billed_duration_ms)
        gb_seconds = spec.memory_mb / 1024 * billed / 1000
        with self._lock:
            acc = self._slot(spec.function_arn, spec.version)
            acc.requests += 1
            if result.function_error is not None:
                acc.errors += 1
            if result.cold_start:
                acc.cold_starts += 1
            acc.duration_ms_sum += result.duration_ms
            if result.duration_ms > acc.duration_ms_max:
                acc.duration_ms_max = result.duration_ms
            acc.billed_ms_sum += billed
            acc.gb_seconds_sum += gb_seconds
            if result.init_duration_ms:
                acc.init_ms_sum += result.init_duration_ms
            if result.max_memory_used_mb > acc.max_memory_used_mb:
                acc.max_memory_used_mb = result.max_memory_used_mb

    def record_throttle(self, function_arn: str, version: str, reason: str) -> None:
        # ``reason`` (reserved vs account limit) is not kept apart yet: reports want the total.
        with self._lock:
            self._slot(function_arn, version).throttles += 1

    # --- the writer ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="lambdamaker-meter", daemon=True)
            self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        try:
            self.flush()
        except Exception:
            log.exception("final usage flush failed; the last interval's usage is lost")

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:
                log.warning("usage flush failed; retrying", exc_info=True)

    def flush(self) -> None:
        """Merge the accumulated usage into the store now (raises if the store fails; the
        usage is then kept for the next try)."""
        with self._flush_lock:
            with self._lock:
                batch, self._acc = self._acc, {}
            if not batch:
                return
            try:
                self._write(list(batch.values()))
            except Exception:
                with self._lock:
                    for key, acc in batch.items():
                        newer = self._acc.get(key)
                        if newer is not None:
                            acc.merge(newer)
                        self._acc[key] = acc
                raise

    _SELECT = sa.select(function_usage).where(
        function_usage.c.function_arn == sa.bindparam("b_arn"),
        function_usage.c.version == sa.bindparam("b_version"),
        function_usage.c.minute_ms == sa.bindparam("b_minute"),
    )
    _UPDATE = (
        sa.update(function_usage)
        .where(
            function_usage.c.function_arn == sa.bindparam("b_arn"),
            function_usage.c.version == sa.bindparam("b_version"),
            function_usage.c.minute_ms == sa.bindparam("b_minute"),
        )
        .values({name: sa.bindparam(f"v_{name}") for name in _COUNT_FIELDS})
    )
    _INSERT = sa.insert(function_usage)

    def _write(self, minutes: list[UsageMinute]) -> None:
        # Writers are serialized by the store, so read-merge-write in one transaction is safe.
        with self.store.begin() as conn:
            for m in minutes:
                key = {"b_arn": m.function_arn, "b_version": m.version, "b_minute": m.minute_ms}
                row = conn.execute(self._SELECT, key).first()
                if row is None:
                    conn.execute(self._INSERT, _as_row(m))
                    continue
                merged = _from_row(row._mapping)
                merged.merge(m)
                values = {f"v_{name}": getattr(merged, name) for name in _COUNT_FIELDS}
                conn.execute(self._UPDATE, {**key, **values})

    # --- reads --------------------------------------------------------------------------------

    def usage(
        self,
        function_arn: str | None = None,
        since: float | None = None,
        until: float | None = None,
        *,
        version: str | None = None,
    ) -> Usage:
        """Per-minute usage of one function (all of its versions unless ``version``), or of
        every function when ``function_arn`` is None, for minutes starting in
        overlapping [``since``, ``until``) (epoch seconds). Includes usage not yet flushed."""
        self.flush()
        c = function_usage.c
        q = sa.select(function_usage).order_by(c.minute_ms, c.function_arn, c.version)
        if function_arn is not None:
            q = q.where(c.function_arn == function_arn)
        if version is not None:
            q = q.where(c.version == version)
        if since is not None:
            q = q.where(c.minute_ms >= int(since // 60) * 60_000)
        if until is not None:
            q = q.where(c.minute_ms < int(until * 1000))
        with self.store.read() as conn:
            return Usage([_from_row(r._mapping) for r in conn.execute(q)])


def _as_row(m: UsageMinute) -> dict[str, object]:
    return {f.name: getattr(m, f.name) for f in fields(UsageMinute)}


def _from_row(row: object) -> UsageMinute:
    mapping = dict(row)  # type: ignore[call-overload]
    return UsageMinute(**{f.name: mapping[f.name] for f in fields(UsageMinute)})


if TYPE_CHECKING:

    def _is_a_meter_sink(meter: Meter) -> MeterSink:  # checked by mypy, never called
        return meter
