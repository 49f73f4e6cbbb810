"""The log store: CloudWatch Logs' groups, streams and events in the metadata store.

Two ways in:

- ``append(group, stream, events)`` is the ``LogSink`` of the functions engine. It never touches
  the database: it puts the events in an in-memory buffer and returns (a lock and a list append).
  A writer thread commits the buffer every ``flush_interval`` (200 ms) or as soon as
  ``batch_events`` (1,000) are waiting, in one transaction per batch, creating groups and
  streams as needed. The invoke path therefore does no SQL (DESIGN.md, "Performance").
- ``put_events`` (the PutLogEvents API) commits synchronously before returning: an acknowledged
  PutLogEvents is durable (DESIGN.md, decision 4).

Consistency of reads: readers see committed rows. Every read first nudges the writer and waits
(at most ``read_sync_timeout``, 2 s) until everything appended before the read is committed, so
a reader sees its own process's appended lines; under a stalled store a read proceeds without
them, and they show up within a flush interval of the store recovering (the eventual
consistency CloudWatch documents for its own reads).

Bounded memory: the buffer holds at most ``max_buffered_events`` events and
``max_buffered_bytes`` of messages. When the store falls that far behind, further ``append``
calls drop their events instead of blocking the invoke path; drops are counted (``dropped``)
and a notice line ``[lambdamaker] N log events dropped ...`` is written to each affected stream
once the store catches up. A batch the store keeps refusing (after ``write_attempts`` tries) is
dropped and counted the same way. Acknowledged PutLogEvents never go through the buffer.

Lifecycle: ``start()`` launches the writer (before it, ``flush()`` writes in the caller's
thread); ``close()`` stops it after a final flush. Retention policies are applied by the writer
too, every ``sweep_interval`` seconds, in small delete transactions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.observability.log_reads import LogReads
from lambdamaker.observability.log_tables import (
    MIGRATIONS,
    log_events,
    log_groups,
    log_streams,
)
from lambdamaker.observability.log_types import (
    LogGroupExistsError,
    LogGroupNotFoundError,
    LogStreamExistsError,
    LogStreamNotFoundError,
)
from lambdamaker.store import Store
from lambdamaker.store.group_commit import GroupCommitter
from lambdamaker.store.raw import RawStatement

__all__ = ["MIGRATIONS", "LogStore"]

log = logging.getLogger(__name__)

MAX_EVENT_CHARS = 1_048_576
"""CloudWatch's largest event (1 MB); longer messages are truncated before storing."""
_WRITE_CHUNK = 10_000
_SWEEP_CHUNK = 5_000

_Append = tuple[str, str, list[tuple[int, str]]]


def _clean(message: str) -> str:
    """A message both backends store: no NUL (PostgreSQL text refuses it), valid UTF-8."""
    if len(message) > MAX_EVENT_CHARS:
        message = message[:MAX_EVENT_CHARS]
    if "\x00" in message:
        message = message.replace("\x00", "\ufffd")
    if not message.isascii():
        try:
            message.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates, e.g. from surrogateescape decoding
            message = message.encode("utf-8", "replace").decode("utf-8")
    return message


class LogStore(LogReads):
    """Log groups, streams and events; thread-safe. One per platform."""

    def __init__(
        self,
        store: Store,
        *,
        account_id: str = "000000000000",
        region: str = "us-east-1",
        flush_interval: float = 0.2,
        batch_events: int = 1_000,
        max_buffered_events: int = 100_000,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        read_sync_timeout: float = 2.0,
        sweep_interval: float = 600.0,
        write_attempts: int = 5,
        clock: Callable[[], float] = time.time,
        committer: GroupCommitter | None = None,
    ) -> None:
        super().__init__(store, clock)
        self.committer = committer if committer is not None else GroupCommitter(store)
        """Where batches commit: the platform's committer when given (with its other hot
        writes, in one transaction), else one of this store's own."""
        self.account_id = account_id
        self.region = region
        self.flush_interval = flush_interval
        self.batch_events = batch_events
        self.max_buffered_events = max_buffered_events
        self.max_buffered_bytes = max_buffered_bytes
        self.read_sync_timeout = read_sync_timeout
        self.sweep_interval = sweep_interval
        self.write_attempts = write_attempts
        self._cond = threading.Condition()
        self._pending: list[_Append] = []
        self._pending_events = 0
        self._pending_bytes = 0
        self._appended = 0  # appends accepted so far (a sequence number)
        self._written = 0  # appends committed (or given up on) so far
        self._drops: dict[tuple[str, str], int] = {}
        self._dropped = 0
        self._urgent = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()  # one batch writer at a time (thread or inline)

    # --- the sink side ------------------------------------------------------------------------

    def append(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Buffer ``events`` ((ms timestamp, message), in order) for ``group``/``stream``.

        Never blocks on I/O. The store takes ownership of the list."""
        if not events:
            return
        size = 0
        for _, message in events:
            size += len(message)
        with self._cond:
            if (
                self._pending_events + len(events) > self.max_buffered_events
                or self._pending_bytes + size > self.max_buffered_bytes
            ):
                key = (group, stream)
                self._drops[key] = self._drops.get(key, 0) + len(events)
                self._dropped += len(events)
                return
            self._pending.append((group, stream, events))
            self._pending_events += len(events)
            self._pending_bytes += size
            self._appended += 1
            if self._pending_events >= self.batch_events:
                self._cond.notify_all()

    @property
    def dropped(self) -> int:
        """Events dropped so far because the buffer was full or the store kept failing."""
        with self._cond:
            return self._dropped

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Commit everything appended before this call; True once done, False on timeout."""
        with self._cond:
            target = self._appended
            thread = self._thread
            if thread is not None and thread.is_alive():
                self._urgent = True
                self._cond.notify_all()
                return self._cond.wait_for(lambda: self._written >= target, timeout)
        self._drain_inline()
        return True

    def _sync_for_read(self) -> None:
        with self._cond:
            if not self._pending and not self._drops:
                return
        self.flush(self.read_sync_timeout)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="lambdamaker-logs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        thread = self._thread
        if thread is not None:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            thread.join()
            self._thread = None
        self._drain_inline()

    # --- the writer ---------------------------------------------------------------------------

    def _take(self) -> tuple[list[_Append], dict[tuple[str, str], int], int]:
        """Swap out the buffer; the caller holds ``_cond``."""
        batch, drops, upto = self._pending, self._drops, self._appended
        self._pending, self._drops = [], {}
        self._pending_events = self._pending_bytes = 0
        self._urgent = False
        return batch, drops, upto

    def _done(self, upto: int) -> None:
        with self._cond:
            self._written = max(self._written, upto)
            self._cond.notify_all()

    def _drain_inline(self) -> None:
        with self._cond:
            batch, drops, upto = self._take()
        if batch or drops:
            self._write_with_retries(batch, drops, retry_wait=False)
        self._done(upto)

    def _run(self) -> None:
        next_sweep = time.monotonic()
        while True:
            with self._cond:
                deadline = time.monotonic() + self.flush_interval
                while not (
                    self._stopping or self._urgent or self._pending_events >= self.batch_events
                ):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                batch, drops, upto = self._take()
                stopping = self._stopping
            if batch or drops:
                self._write_with_retries(batch, drops, retry_wait=not stopping)
            self._done(upto)
            if stopping:
                return
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_interval
                try:
                    self.sweep_retention()
                except Exception:
                    log.exception(
                        "log retention sweep failed; retrying in %ss", self.sweep_interval
                    )

    def _write_with_retries(
        self, batch: list[_Append], drops: dict[tuple[str, str], int], *, retry_wait: bool
    ) -> None:
        delay = 0.05
        for attempt in range(1, self.write_attempts + 1):
            try:
                with self._write_lock:
                    self._write_batch(batch, drops)
                return
            except Exception:
                if attempt == self.write_attempts or not retry_wait:
                    break
                log.warning("log batch write failed (attempt %d); retrying", attempt, exc_info=True)
                time.sleep(delay)
                delay = min(delay * 4, 2.0)
        lost = sum(len(events) for _, _, events in batch)
        log.exception("dropping %d log events the store keeps refusing", lost)
        with self._cond:
            self._dropped += lost

    def _write_batch(self, batch: list[_Append], drops: dict[tuple[str, str], int]) -> None:
        now = self.now_ms()
        items: list[_Append] = list(batch)
        for (group, stream), n in drops.items():
            notice = f"[lambdamaker] {n} log events dropped: the log store fell behind\n"
            items.append((group, stream, [(now, notice)]))
        # One transaction per chunk of about _WRITE_CHUNK events, never splitting an append.
        chunk: list[_Append] = []
        count = 0
        for item in items:
            chunk.append(item)
            count += len(item[2])
            if count >= _WRITE_CHUNK:
                self._write_chunk(chunk, now)
                chunk, count = [], 0
        if chunk:
            self._write_chunk(chunk, now)

    def _write_chunk(self, items: list[_Append], now: int) -> None:
        def work(conn: Connection) -> None:
            group_ids = self._ensure_groups(conn, {g for g, _, _ in items}, now)
            stream_ids = self._ensure_streams(conn, {(group_ids[g], s) for g, s, _ in items}, now)
            self._insert(
                conn,
                ((group_ids[g], stream_ids[(group_ids[g], s)], events) for g, s, events in items),
                now,
            )

        self.committer.run(work)

    def _ensure_groups(self, conn: Connection, names: set[str], now: int) -> dict[str, int]:
        rows = conn.execute(
            sa.select(log_groups.c.id, log_groups.c.name).where(log_groups.c.name.in_(names))
        ).all()
        ids = {r.name: r.id for r in rows}
        for name in sorted(names - ids.keys()):
            ids[name] = self._insert_group(conn, name, now)
        return ids

    def _ensure_streams(
        self, conn: Connection, keys: set[tuple[int, str]], now: int
    ) -> dict[tuple[int, str], int]:
        ids: dict[tuple[int, str], int] = {}
        by_group: dict[int, set[str]] = {}
        for gid, name in keys:
            by_group.setdefault(gid, set()).add(name)
        for gid, names in by_group.items():
            rows = conn.execute(
                sa.select(log_streams.c.id, log_streams.c.name).where(
                    log_streams.c.group_id == gid, log_streams.c.name.in_(names)
                )
            ).all()
            for r in rows:
                ids[(gid, r.name)] = r.id
            for name in sorted(names - {r.name for r in rows}):
                ids[(gid, name)] = self._insert_stream(conn, gid, name, now)
        return ids

    def _insert_group(self, conn: Connection, name: str, now: int, **extra: object) -> int:
        result = conn.execute(
            sa.insert(log_groups).values(
                name=name, created_ms=now, arn=self.group_arn(name), **extra
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # an INSERT of one row has one
        return int(key[0])

    def _insert_stream(self, conn: Connection, group_id: int, name: str, now: int) -> int:
        result = conn.execute(
            sa.insert(log_streams).values(group_id=group_id, name=name, created_ms=now)
        )
        key = result.inserted_primary_key
        assert key is not None  # an INSERT of one row has one
        return int(key[0])

    _UPDATE_STREAM = (
        sa.update(log_streams)
        .where(log_streams.c.id == sa.bindparam("b_sid"))
        .values(
            first_event_ms=sa.case(
                (log_streams.c.first_event_ms.is_(None), sa.bindparam("b_lo")),
                (log_streams.c.first_event_ms > sa.bindparam("b_lo"), sa.bindparam("b_lo")),
                else_=log_streams.c.first_event_ms,
            ),
            last_event_ms=sa.case(
                (log_streams.c.last_event_ms.is_(None), sa.bindparam("b_hi")),
                (log_streams.c.last_event_ms < sa.bindparam("b_hi"), sa.bindparam("b_hi")),
                else_=log_streams.c.last_event_ms,
            ),
            last_ingestion_ms=sa.bindparam("b_now"),
            upload_sequence=log_streams.c.upload_sequence + 1,
            stored_bytes=log_streams.c.stored_bytes + sa.bindparam("b_bytes"),
        )
    )
    _UPDATE_GROUP_BYTES = (
        sa.update(log_groups)
        .where(log_groups.c.id == sa.bindparam("b_gid"))
        .values(stored_bytes=log_groups.c.stored_bytes + sa.bindparam("b_bytes"))
    )
    # Straight to the driver (store.raw): every invocation's log lines pass here, and
    # SQLAlchemy's per-row parameter processing cost more than the inserts themselves.
    _INSERT_EVENTS = RawStatement(
        sa.insert(log_events).values(
            {
                name: sa.bindparam(name)
                for name in ("group_id", "stream_id", "timestamp_ms", "ingestion_ms", "message")
            }
        )
    )

    def _insert(
        self,
        conn: Connection,
        items: Iterable[tuple[int, int, list[tuple[int, str]]]],
        now: int,
    ) -> None:
        rows: list[dict[str, object]] = []
        streams: dict[int, list[int]] = {}  # stream id -> [lo, hi, bytes]
        group_bytes: dict[int, int] = {}
        for gid, sid, events in items:
            st = streams.get(sid)
            nbytes = 0
            for ts, message in events:
                message = _clean(message)
                nbytes += len(message) if message.isascii() else len(message.encode())
                rows.append(
                    {
                        "group_id": gid,
                        "stream_id": sid,
                        "timestamp_ms": ts,
                        "ingestion_ms": now,
                        "message": message,
                    }
                )
                if st is None:
                    st = streams[sid] = [ts, ts, 0]
                elif ts < st[0]:
                    st[0] = ts
                elif ts > st[1]:
                    st[1] = ts
            if st is not None:
                st[2] += nbytes
            group_bytes[gid] = group_bytes.get(gid, 0) + nbytes
        if not rows:
            return
        self._INSERT_EVENTS.execute_many(conn, rows)
        conn.execute(
            self._UPDATE_STREAM,
            [
                {"b_sid": sid, "b_lo": lo, "b_hi": hi, "b_now": now, "b_bytes": nb}
                for sid, (lo, hi, nb) in streams.items()
            ],
        )
        conn.execute(
            self._UPDATE_GROUP_BYTES,
            [{"b_gid": gid, "b_bytes": nb} for gid, nb in group_bytes.items()],
        )

    # --- groups -------------------------------------------------------------------------------

    def group_arn(self, name: str) -> str:
        """``arn:aws:logs:REGION:ACCOUNT:log-group:NAME`` (``logGroupArn``; ``arn`` adds ``:*``)."""
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}"

    def create_group(
        self,
        name: str,
        *,
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
        log_group_class: str = "STANDARD",
    ) -> None:
        with self.store.begin() as conn:
            if self._group_id(conn, name) is not None:
                raise LogGroupExistsError()
            self._insert_group(
                conn,
                name,
                self.now_ms(),
                tags=orjson.dumps(tags or {}).decode(),
                kms_key_id=kms_key_id,
                log_group_class=log_group_class,
            )

    def delete_group(self, name: str) -> None:
        with self.store.begin() as conn:
            gid = self._require_group(conn, name)
            # Children first and explicitly: not every connection has cascading enabled.
            conn.execute(sa.delete(log_events).where(log_events.c.group_id == gid))
            conn.execute(sa.delete(log_streams).where(log_streams.c.group_id == gid))
            conn.execute(sa.delete(log_groups).where(log_groups.c.id == gid))

    def set_retention(self, name: str, days: int | None) -> None:
        with self.store.begin() as conn:
            gid = self._require_group(conn, name)
            conn.execute(
                sa.update(log_groups).where(log_groups.c.id == gid).values(retention_days=days)
            )

    def update_tags(
        self, name: str, set_tags: dict[str, str] | None = None, remove: Iterable[str] = ()
    ) -> dict[str, str]:
        """Merge ``set_tags`` into the group's tags and drop ``remove``; returns the result."""
        with self.store.begin() as conn:
            row = conn.execute(
                sa.select(log_groups.c.id, log_groups.c.tags).where(log_groups.c.name == name)
            ).first()
            if row is None:
                raise LogGroupNotFoundError()
            tags: dict[str, str] = orjson.loads(row.tags)
            tags.update(set_tags or {})
            for key in remove:
                tags.pop(key, None)
            conn.execute(
                sa.update(log_groups)
                .where(log_groups.c.id == row.id)
                .values(tags=orjson.dumps(tags).decode())
            )
        return tags

    # --- streams ------------------------------------------------------------------------------

    def create_stream(self, group: str, name: str) -> None:
        with self.store.begin() as conn:
            gid = self._require_group(conn, group)
            if self._stream_id(conn, gid, name) is not None:
                raise LogStreamExistsError()
            self._insert_stream(conn, gid, name, self.now_ms())

    def delete_stream(self, group: str, name: str) -> None:
        with self.store.begin() as conn:
            gid = self._require_group(conn, group)
            row = conn.execute(
                sa.select(log_streams.c.id, log_streams.c.stored_bytes).where(
                    log_streams.c.group_id == gid, log_streams.c.name == name
                )
            ).first()
            if row is None:
                raise LogStreamNotFoundError()
            conn.execute(sa.delete(log_events).where(log_events.c.stream_id == row.id))
            conn.execute(sa.delete(log_streams).where(log_streams.c.id == row.id))
            conn.execute(self._UPDATE_GROUP_BYTES, {"b_gid": gid, "b_bytes": -row.stored_bytes})

    # --- events -------------------------------------------------------------------------------

    def put_events(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        """Commit ``events`` to an existing stream before returning (PutLogEvents)."""
        with self.store.begin() as conn:
            gid = self._require_group(conn, group)
            sid = self._stream_id(conn, gid, stream)
            if sid is None:
                raise LogStreamNotFoundError()
            self._insert(conn, [(gid, sid, events)], self.now_ms())

    def sweep_retention(self) -> int:
        """Delete events older than their group's retention; returns how many."""
        with self.store.read() as conn:
            groups = conn.execute(
                sa.select(log_groups.c.id, log_groups.c.retention_days).where(
                    log_groups.c.retention_days.is_not(None)
                )
            ).all()
        deleted = 0
        for gid, days in groups:
            cutoff = self.now_ms() - int(days) * 86_400_000
            while True:
                n = self._sweep_chunk(gid, cutoff)
                deleted += n
                if n < _SWEEP_CHUNK:
                    break
        return deleted

    def _sweep_chunk(self, gid: int, cutoff: int) -> int:
        e = log_events.c
        with self.store.begin() as conn:
            rows = conn.execute(
                sa.select(e.id, e.stream_id, sa.func.length(e.message))
                .where(e.group_id == gid, e.timestamp_ms < cutoff)
                .limit(_SWEEP_CHUNK)
            ).all()
            if not rows:
                return 0
            conn.execute(sa.delete(log_events).where(e.id.in_([r[0] for r in rows])))
            freed: dict[int, int] = {}
            for _, sid, n in rows:
                freed[sid] = freed.get(sid, 0) + int(n or 0)
            first = (
                sa.select(sa.func.min(e.timestamp_ms))
                .where(e.stream_id == log_streams.c.id)
                .scalar_subquery()
            )
            for sid, n in freed.items():
                conn.execute(
                    sa.update(log_streams)
                    .where(log_streams.c.id == sid)
                    .values(stored_bytes=log_streams.c.stored_bytes - n, first_event_ms=first)
                )
            conn.execute(self._UPDATE_GROUP_BYTES, {"b_gid": gid, "b_bytes": -sum(freed.values())})
            return len(rows)

    # --- helpers ------------------------------------------------------------------------------

    def _require_group(self, conn: Connection, name: str) -> int:
        gid = self._group_id(conn, name)
        if gid is None:
            raise LogGroupNotFoundError()
        return gid


if TYPE_CHECKING:
    from lambdamaker.engines.functions.environment import LogSink

    def _is_a_log_sink(store: LogStore) -> LogSink:  # checked by mypy, never called
        return store
