"""Schedules: Create, Get, Update, Delete, List.

Initial cursor (see ``engines.events.schedule_cursor``): the creation time, so no tick at or
before creation fires, except that a ``rate()`` schedule without a StartDate is anchored at its
creation and fires its first tick right away, as Scheduler does. UpdateSchedule keeps the cursor
when the timing (expression, zone, dates, window) is unchanged; otherwise, or when a DISABLED
schedule is enabled, the cursor moves to the update time, so ticks from before the change (or
from while it was disabled) never fire.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import RequestContext
from lambdamaker.services.scheduler import tables as t
from lambdamaker.services.scheduler.common import (
    DEFAULT_GROUP,
    Definition,
    SchedulerConflictError,
    decode_token,
    document_out,
    encode_token,
    group_not_found,
    parse_definition,
    schedule_arn,
    schedule_not_found,
    to_us,
)
from lambdamaker.services.scheduler.groups import GroupOperations, group_exists
from lambdamaker.services.scheduler.timing import timing_of

_TIMING_MEMBERS = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "FlexibleTimeWindow",
)


def _key(ctx: RequestContext, group: str, name: str) -> Any:
    return sa.and_(
        t.schedules.c.account == ctx.account_id,
        t.schedules.c.region == ctx.region,
        t.schedules.c.group_name == group,
        t.schedules.c.name == name,
    )


def _summary(row: Any) -> dict[str, Any]:
    document = json.loads(row.document)
    return {
        "Arn": row.arn,
        "Name": row.name,
        "GroupName": row.group_name,
        "State": row.state,
        "CreationDate": datetime.fromtimestamp(row.created_at, UTC),
        "LastModificationDate": datetime.fromtimestamp(row.modified_at, UTC),
        "Target": {"Arn": document["Target"]["Arn"]},
    }


class ScheduleOperations(GroupOperations):
    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.loop.clock(), UTC)

    def _timing_columns(
        self, arn: str, definition: Definition, now: datetime, cursor_us: int | None
    ) -> dict[str, Any]:
        now_us = to_us(now)
        anchor = definition.start_us if definition.start_us is not None else now_us
        if cursor_us is None:
            # A rate schedule without StartDate fires its first tick at creation.
            fresh = definition.is_rate and definition.start_us is None
            cursor_us = now_us - 1 if fresh else now_us
        timing = timing_of(arn, definition.document, anchor)
        return {
            "anchor_us": anchor,
            "cursor_us": cursor_us,
            "next_due_us": timing.next_due(cursor_us),
        }

    def _notify_after(self, conn: Connection) -> None:
        self.platform.store.after_commit(conn, self.loop.notify)

    def create_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        definition = parse_definition(params, now)
        name, group = params["Name"], params.get("GroupName") or DEFAULT_GROUP
        arn = schedule_arn(ctx, group, name)
        with self.platform.store.begin() as conn:
            if not group_exists(conn, ctx, group):
                raise group_not_found(group)
            if conn.execute(sa.select(t.schedules.c.arn).where(_key(ctx, group, name))).first():
                raise SchedulerConflictError(f"Schedule {name} already exists.")
            conn.execute(
                sa.insert(t.schedules).values(
                    account=ctx.account_id,
                    region=ctx.region,
                    group_name=group,
                    name=name,
                    arn=arn,
                    document=json.dumps(definition.document),
                    state=definition.state,
                    created_at=now.timestamp(),
                    modified_at=now.timestamp(),
                    **self._timing_columns(arn, definition, now, None),
                )
            )
            self._notify_after(conn)
        return {"ScheduleArn": arn}

    def update_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        definition = parse_definition(params, now)
        name, group = params["Name"], params.get("GroupName") or DEFAULT_GROUP
        with self.platform.store.begin() as conn:
            row = conn.execute(sa.select(t.schedules).where(_key(ctx, group, name))).first()
            if row is None:
                raise schedule_not_found(name)
            old = json.loads(row.document)
            same_timing = all(old.get(k) == definition.document.get(k) for k in _TIMING_MEMBERS)
            if same_timing and row.state == "ENABLED":
                timing = timing_of(row.arn, definition.document, row.anchor_us)
                columns = {
                    "anchor_us": row.anchor_us,
                    "cursor_us": row.cursor_us,
                    "next_due_us": timing.next_due(row.cursor_us),
                }
            else:
                cursor = max(row.cursor_us, to_us(now))
                columns = self._timing_columns(row.arn, definition, now, cursor)
            conn.execute(
                sa.update(t.schedules)
                .where(_key(ctx, group, name))
                .values(
                    document=json.dumps(definition.document),
                    state=definition.state,
                    modified_at=now.timestamp(),
                    **columns,
                )
            )
            self._notify_after(conn)
        return {"ScheduleArn": row.arn}

    def get_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, group = params["Name"], params.get("GroupName") or DEFAULT_GROUP
        with self.platform.store.read() as conn:
            row = conn.execute(sa.select(t.schedules).where(_key(ctx, group, name))).first()
        if row is None:
            raise schedule_not_found(name)
        out = document_out(json.loads(row.document))
        out.update(
            Arn=row.arn,
            Name=row.name,
            GroupName=row.group_name,
            CreationDate=datetime.fromtimestamp(row.created_at, UTC),
            LastModificationDate=datetime.fromtimestamp(row.modified_at, UTC),
        )
        return out

    def delete_schedule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, group = params["Name"], params.get("GroupName") or DEFAULT_GROUP
        with self.platform.store.begin() as conn:
            deleted = conn.execute(sa.delete(t.schedules).where(_key(ctx, group, name)))
            if deleted.rowcount == 0:
                raise schedule_not_found(name)
            self._notify_after(conn)
        return {}

    def list_schedules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("MaxResults") or 100)
        query = sa.select(t.schedules).where(
            t.schedules.c.account == ctx.account_id, t.schedules.c.region == ctx.region
        )
        group = params.get("GroupName")
        if group:
            query = query.where(t.schedules.c.group_name == group)
        if params.get("NamePrefix"):
            prefix = params["NamePrefix"]
            # substr, not LIKE: case-sensitive on both backends, and '_' is no wildcard.
            query = query.where(sa.func.substr(t.schedules.c.name, 1, len(prefix)) == prefix)
        if params.get("State"):
            query = query.where(t.schedules.c.state == params["State"])
        if params.get("NextToken"):
            after_name, after_group = decode_token(params["NextToken"])
            query = query.where(
                sa.tuple_(t.schedules.c.name, t.schedules.c.group_name)
                > sa.tuple_(sa.literal(after_name), sa.literal(after_group))
            )
        query = query.order_by(t.schedules.c.name, t.schedules.c.group_name).limit(limit + 1)
        with self.platform.store.read() as conn:
            if group and not group_exists(conn, ctx, group):
                raise group_not_found(group)
            rows = conn.execute(query).all()
        out: dict[str, Any] = {"Schedules": [_summary(r) for r in rows[:limit]]}
        if len(rows) > limit:
            last = rows[limit - 1]
            out["NextToken"] = encode_token(last.name, last.group_name)
        return out
