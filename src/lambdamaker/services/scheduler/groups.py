"""Schedule groups (Create, Get, Delete, List) and their tags (TagResource, UntagResource,
ListTagsForResource). The ``default`` group has no row: it always exists, cannot be created or
deleted, and has no creation date. Deleting a group deletes its schedules in the same
transaction (AWS does it asynchronously, showing the group as DELETING meanwhile)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.scheduler import tables as t
from lambdamaker.services.scheduler.common import (
    DEFAULT_GROUP,
    SchedulerConflictError,
    SchedulerValidationError,
    decode_token,
    encode_token,
    group_arn,
    group_not_found,
)

if TYPE_CHECKING:
    from lambdamaker.services.scheduler.loop import SchedulerLoop

_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:scheduler:([a-z0-9\-]+):(\d{12}):schedule-group/(.+)")


def group_exists(conn: Connection, ctx: RequestContext, name: str) -> bool:
    if name == DEFAULT_GROUP:
        return True
    row = conn.execute(
        sa.select(t.groups.c.name).where(
            t.groups.c.account == ctx.account_id,
            t.groups.c.region == ctx.region,
            t.groups.c.name == name,
        )
    ).first()
    return row is not None


def _group_shape(ctx: RequestContext, name: str, row: Any | None) -> dict[str, Any]:
    out: dict[str, Any] = {"Arn": group_arn(ctx, name), "Name": name, "State": "ACTIVE"}
    if row is not None:
        out["CreationDate"] = datetime.fromtimestamp(row.created_at, UTC)
        out["LastModificationDate"] = datetime.fromtimestamp(row.modified_at, UTC)
    return out


class GroupOperations(Provider):
    loop: SchedulerLoop

    def _group_of_arn(self, conn: Connection, ctx: RequestContext, arn: str) -> str:
        match = _GROUP_ARN.fullmatch(arn)
        if match is None or match.group(1) != ctx.region or match.group(2) != ctx.account_id:
            raise group_not_found(arn.rpartition("/")[2])
        name = match.group(3)
        if not group_exists(conn, ctx, name):
            raise group_not_found(name)
        return name

    def _write_tags(self, conn: Connection, ctx: RequestContext, group: str, tags: Any) -> None:
        for tag in tags or ():
            where = (
                t.tags.c.account == ctx.account_id,
                t.tags.c.region == ctx.region,
                t.tags.c.group_name == group,
                t.tags.c.key == tag["Key"],
            )
            conn.execute(sa.delete(t.tags).where(*where))
            conn.execute(
                sa.insert(t.tags).values(
                    account=ctx.account_id,
                    region=ctx.region,
                    group_name=group,
                    key=tag["Key"],
                    value=tag["Value"],
                )
            )

    def create_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        now = self.loop.clock()
        with self.platform.store.begin() as conn:
            if group_exists(conn, ctx, name):
                raise SchedulerConflictError(f"Schedule group {name} already exists.")
            conn.execute(
                sa.insert(t.groups).values(
                    account=ctx.account_id,
                    region=ctx.region,
                    name=name,
                    created_at=now,
                    modified_at=now,
                )
            )
            self._write_tags(conn, ctx, name, params.get("Tags"))
        return {"ScheduleGroupArn": group_arn(ctx, name)}

    def get_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if name == DEFAULT_GROUP:
            return _group_shape(ctx, name, None)
        with self.platform.store.read() as conn:
            row = conn.execute(
                sa.select(t.groups).where(
                    t.groups.c.account == ctx.account_id,
                    t.groups.c.region == ctx.region,
                    t.groups.c.name == name,
                )
            ).first()
        if row is None:
            raise group_not_found(name)
        return _group_shape(ctx, name, row)

    def delete_schedule_group(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if name == DEFAULT_GROUP:
            raise SchedulerValidationError("You cannot delete the default schedule group.")
        with self.platform.store.begin() as conn:
            if not group_exists(conn, ctx, name):
                raise group_not_found(name)
            for table, column in (
                (t.schedules, t.schedules.c.group_name),
                (t.tags, t.tags.c.group_name),
                (t.groups, t.groups.c.name),
            ):
                conn.execute(
                    sa.delete(table).where(
                        table.c.account == ctx.account_id,
                        table.c.region == ctx.region,
                        column == name,
                    )
                )
            self.platform.store.after_commit(conn, self.loop.notify)
        return {}

    def list_schedule_groups(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("MaxResults") or 100)
        prefix = params.get("NamePrefix") or ""
        after = decode_token(params["NextToken"])[0] if params.get("NextToken") else None
        with self.platform.store.read() as conn:
            rows: dict[str, Any] = {
                row.name: row
                for row in conn.execute(
                    sa.select(t.groups).where(
                        t.groups.c.account == ctx.account_id, t.groups.c.region == ctx.region
                    )
                )
            }
        names = sorted(
            n
            for n in {DEFAULT_GROUP, *rows}
            if n.startswith(prefix) and (after is None or n > after)
        )
        out: dict[str, Any] = {
            "ScheduleGroups": [_group_shape(ctx, n, rows.get(n)) for n in names[:limit]]
        }
        if len(names) > limit:
            out["NextToken"] = encode_token(names[limit - 1])
        return out

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            group = self._group_of_arn(conn, ctx, params["ResourceArn"])
            self._write_tags(conn, ctx, group, params["Tags"])
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            group = self._group_of_arn(conn, ctx, params["ResourceArn"])
            if params["TagKeys"]:
                conn.execute(
                    sa.delete(t.tags).where(
                        t.tags.c.account == ctx.account_id,
                        t.tags.c.region == ctx.region,
                        t.tags.c.group_name == group,
                        t.tags.c.key.in_(params["TagKeys"]),
                    )
                )
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            group = self._group_of_arn(conn, ctx, params["ResourceArn"])
            rows = conn.execute(
                sa.select(t.tags.c.key, t.tags.c.value)
                .where(
                    t.tags.c.account == ctx.account_id,
                    t.tags.c.region == ctx.region,
                    t.tags.c.group_name == group,
                )
                .order_by(t.tags.c.key)
            ).all()
        return {"Tags": [{"Key": k, "Value": v} for k, v in rows]}
