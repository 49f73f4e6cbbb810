"""The log store's read side: groups, streams and events, from committed rows.

Every read runs in one ``Store.read()`` snapshot. Event reads walk an index in
``(timestamp_ms, id)`` order from a ``Position`` and stop at a row or byte budget, so a page
costs the same however large the group is; the caller turns the returned position into a token.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.observability.filter_pattern import FilterPattern
from lambdamaker.observability.log_tables import log_events, log_groups, log_streams
from lambdamaker.observability.log_types import (
    LogEvent,
    LogGroupInfo,
    LogGroupNotFoundError,
    LogStreamInfo,
    LogStreamNotFoundError,
    Position,
)
from lambdamaker.store import Store

PAGE_BYTES = 1_048_576
"""A page of events holds at most 1 MB of messages, as in CloudWatch."""
_SCAN_CHUNK = 1_000


def _prefix(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix``, case-sensitively and index-friendly on both backends
    (LIKE is case-insensitive on SQLite). Names compare in code point order, which is the
    order of their UTF-8 bytes."""
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return sa.func.substr(column, 1, len(prefix)) == prefix
    return sa.and_(column >= prefix, column < prefix[:-1] + chr(last + 1))


def _after(
    ts: sa.ColumnElement[int], ident: sa.ColumnElement[int], pos: Position
) -> sa.ColumnElement[bool]:
    # ``ts >= a AND (ts > a OR id > b)``: the leading range keeps the index usable.
    return sa.and_(ts >= pos[0], sa.or_(ts > pos[0], ident > pos[1]))


def _before(
    ts: sa.ColumnElement[int], ident: sa.ColumnElement[int], pos: Position
) -> sa.ColumnElement[bool]:
    return sa.and_(ts <= pos[0], sa.or_(ts < pos[0], ident < pos[1]))


class LogReads:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _sync_for_read(self) -> None:
        """Overridden by the writer: make earlier appends visible before reading."""

    # --- lookups ------------------------------------------------------------------------------

    def _group_id(self, conn: Connection, name: str) -> int | None:
        row = conn.execute(sa.select(log_groups.c.id).where(log_groups.c.name == name)).first()
        return None if row is None else int(row.id)

    def _stream_id(self, conn: Connection, group_id: int, name: str) -> int | None:
        row = conn.execute(
            sa.select(log_streams.c.id).where(
                log_streams.c.group_id == group_id, log_streams.c.name == name
            )
        ).first()
        return None if row is None else int(row.id)

    @staticmethod
    def _group_info(row: sa.Row[tuple[object, ...]]) -> LogGroupInfo:
        m = row._mapping
        return LogGroupInfo(
            name=m["name"],
            created_ms=m["created_ms"],
            retention_days=m["retention_days"],
            arn=m["arn"],
            kms_key_id=m["kms_key_id"],
            log_group_class=m["log_group_class"],
            tags=orjson.loads(m["tags"]),
            stored_bytes=m["stored_bytes"],
        )

    @staticmethod
    def _stream_info(row: sa.Row[tuple[object, ...]]) -> LogStreamInfo:
        m = row._mapping
        return LogStreamInfo(
            name=m["name"],
            created_ms=m["created_ms"],
            first_event_ms=m["first_event_ms"],
            last_event_ms=m["last_event_ms"],
            last_ingestion_ms=m["last_ingestion_ms"],
            upload_sequence=m["upload_sequence"],
            stored_bytes=m["stored_bytes"],
            id=m["id"],
        )

    # --- groups and streams -------------------------------------------------------------------

    def get_group(self, name: str) -> LogGroupInfo:
        self._sync_for_read()
        with self.store.read() as conn:
            row = conn.execute(sa.select(log_groups).where(log_groups.c.name == name)).first()
        if row is None:
            raise LogGroupNotFoundError()
        return self._group_info(row)

    def list_groups(
        self,
        *,
        prefix: str | None = None,
        contains: str | None = None,
        names: Sequence[str] | None = None,
        log_group_class: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[LogGroupInfo]:
        """Groups in name order, after the name ``after``."""
        self._sync_for_read()
        c = log_groups.c
        q = sa.select(log_groups).order_by(c.name).limit(limit)
        if prefix:
            q = q.where(_prefix(c.name, prefix))
        if contains:
            q = q.where(self._contains(c.name, contains))
        if names is not None:
            q = q.where(c.name.in_(list(names)))
        if log_group_class is not None:
            q = q.where(c.log_group_class == log_group_class)
        if after is not None:
            q = q.where(c.name > after)
        with self.store.read() as conn:
            return [self._group_info(r) for r in conn.execute(q)]

    def list_streams(
        self,
        group: str,
        *,
        prefix: str | None = None,
        by_last_event: bool = False,
        descending: bool = False,
        after: tuple[int, int] | str | None = None,
        limit: int = 50,
    ) -> list[LogStreamInfo]:
        """Streams by name, or by (last event time, id) with ``by_last_event``; ``after`` is the
        last key of the previous page (a name, or a (time, id) pair)."""
        self._sync_for_read()
        c = log_streams.c
        with self.store.read() as conn:
            gid = self._group_id(conn, group)
            if gid is None:
                raise LogGroupNotFoundError()
            q = sa.select(log_streams).where(c.group_id == gid).limit(limit)
            if prefix:
                q = q.where(_prefix(c.name, prefix))
            if by_last_event:
                last = sa.func.coalesce(c.last_event_ms, -1)
                order = [last.desc(), c.id.desc()] if descending else [last, c.id]
                q = q.order_by(*order)
                if isinstance(after, tuple):
                    pick = _before if descending else _after
                    q = q.where(pick(last, c.id, after))
            else:
                q = q.order_by(c.name.desc() if descending else c.name)
                if isinstance(after, str):
                    q = q.where(c.name < after if descending else c.name > after)
            return [self._stream_info(r) for r in conn.execute(q)]

    # --- events -------------------------------------------------------------------------------

    def get_events(
        self,
        group: str,
        stream: str,
        *,
        start: int | None = None,
        end: int | None = None,
        after: Position | None = None,
        before: Position | None = None,
        from_tail: bool = False,
        limit: int = 10_000,
    ) -> list[LogEvent]:
        """Events of one stream in ascending order: the first ``limit`` after ``after`` (or from
        the head), or with ``before``/``from_tail`` the last ``limit`` before that point.
        ``end`` is exclusive, as GetLogEvents' ``endTime`` is."""
        self._sync_for_read()
        e = log_events.c
        backward = before is not None or (after is None and from_tail)
        with self.store.read() as conn:
            gid = self._group_id(conn, group)
            if gid is None:
                raise LogGroupNotFoundError()
            sid = self._stream_id(conn, gid, stream)
            if sid is None:
                raise LogStreamNotFoundError()
            q = sa.select(e.id, e.timestamp_ms, e.ingestion_ms, e.message).where(e.stream_id == sid)
            if start is not None:
                q = q.where(e.timestamp_ms >= start)
            if end is not None:
                q = q.where(e.timestamp_ms < end)
            if after is not None:
                q = q.where(_after(e.timestamp_ms, e.id, after))
            if before is not None:
                q = q.where(_before(e.timestamp_ms, e.id, before))
            if backward:
                q = q.order_by(e.timestamp_ms.desc(), e.id.desc())
            else:
                q = q.order_by(e.timestamp_ms, e.id)
            rows = conn.execute(q.limit(limit)).all()
        events: list[LogEvent] = []
        budget = PAGE_BYTES
        for r in rows:
            budget -= len(r.message) + 26
            if budget < 0 and events:
                break
            events.append(LogEvent(r.id, r.timestamp_ms, r.ingestion_ms, r.message))
        if backward:
            events.reverse()
        return events

    def filter_events(
        self,
        group: str,
        *,
        pattern: FilterPattern,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        position: Position | None = None,
        descending: bool = False,
        limit: int = 10_000,
        scan_limit: int = 50_000,
    ) -> tuple[list[LogEvent], Position | None]:
        """Matching events of a group, interleaved across streams in (time, id) order (or the
        reverse), strictly after (before, if descending) ``position``. ``end`` is inclusive, as
        FilterLogEvents' ``endTime`` is. Returns the page and where the next one starts, or None
        when nothing is left. A page stops at ``limit`` events, 1 MB, or ``scan_limit`` rows
        examined (a selective pattern may then return fewer events, even none, and a position)."""
        self._sync_for_read()
        e, s = log_events.c, log_streams.c
        with self.store.read() as conn:
            gid = self._group_id(conn, group)
            if gid is None:
                raise LogGroupNotFoundError()
            q = (
                sa.select(e.id, e.timestamp_ms, e.ingestion_ms, e.message, s.name)
                .join(log_streams, s.id == e.stream_id)
                .where(e.group_id == gid)
            )
            if stream_names is not None or stream_prefix:
                chosen = sa.select(s.id).where(s.group_id == gid)
                if stream_names is not None:
                    chosen = chosen.where(s.name.in_(list(stream_names)))
                if stream_prefix:
                    chosen = chosen.where(_prefix(s.name, stream_prefix))
                ids = [r.id for r in conn.execute(chosen.limit(2))]
                if not ids:
                    return [], None
                if len(ids) == 1:
                    # One stream: its (stream, time) index yields rows already in order.
                    q = q.where(e.stream_id == ids[0])
                else:
                    # Several: walk the group's (group, time) index in order and test the
                    # stream per row. "+ 0" keeps SQLite from picking the stream index, which
                    # would make it sort every remaining event of those streams per page.
                    q = q.where((e.stream_id + 0).in_(chosen.scalar_subquery()))
            if start is not None:
                q = q.where(e.timestamp_ms >= start)
            if end is not None:
                q = q.where(e.timestamp_ms <= end)
            for term in pattern.required_terms:
                q = q.where(self._contains(e.message, term))
            if descending:
                q = q.order_by(e.timestamp_ms.desc(), e.id.desc())
            else:
                q = q.order_by(e.timestamp_ms, e.id)
            pick = _before if descending else _after
            events: list[LogEvent] = []
            budget = PAGE_BYTES
            scanned = 0
            cursor = position
            while True:
                page = q if cursor is None else q.where(pick(e.timestamp_ms, e.id, cursor))
                rows = conn.execute(page.limit(_SCAN_CHUNK)).all()
                for r in rows:
                    scanned += 1
                    cursor = (r.timestamp_ms, r.id)
                    if pattern.matches(r.message):
                        budget -= len(r.message) + 26
                        if budget < 0 and events:
                            return events, (events[-1].position)
                        events.append(
                            LogEvent(r.id, r.timestamp_ms, r.ingestion_ms, r.message, r.name)
                        )
                        if len(events) >= limit:
                            return events, cursor
                    if scanned >= scan_limit:
                        return events, cursor
                if len(rows) < _SCAN_CHUNK:
                    return events, None

    def _contains(self, column: sa.ColumnElement[str], term: str) -> sa.ColumnElement[bool]:
        """Case-sensitive substring test (``instr`` on SQLite, ``strpos`` on PostgreSQL)."""
        fn = sa.func.strpos if self.store.dialect == "postgresql" else sa.func.instr
        return fn(column, term) > 0
