"""Activities: Create/Delete/Describe/ListActivities (workers and tasks live in ``callbacks``).

Invariants:
- CreateActivity is idempotent on the name: a repeat returns the first creation's ARN and date
  and ignores its tags, as AWS does;
- DeleteActivity of an activity that does not exist succeeds (AWS models no error for it);
  its tags go with it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.stepfunctions import tables as t
from lambdamaker.services.stepfunctions.common import (
    activity_arn,
    activity_not_found,
    check_name,
    dumps,
    name_after,
    once_more_on_conflict,
    owned,
    page,
    page_size,
    parse_arn,
)
from lambdamaker.services.stepfunctions.machines import timestamp
from lambdamaker.services.stepfunctions.tags import delete_tags, write_tags


class ActivityOperations(Provider):
    def create_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        check_name(name)
        arn = activity_arn(ctx, name)
        encryption = params.get("encryptionConfiguration") or {"type": "AWS_OWNED_KEY"}
        now = time.time()

        def attempt() -> dict[str, Any]:
            with self.platform.store.begin() as conn:
                row = conn.execute(
                    sa.select(t.activities.c.created_at).where(t.activities.c.arn == arn)
                ).first()
                if row is not None:
                    return {"activityArn": arn, "creationDate": timestamp(row.created_at)}
                conn.execute(
                    sa.insert(t.activities).values(
                        arn=arn,
                        account=ctx.account_id,
                        region=ctx.region,
                        name=name,
                        encryption=dumps(encryption),
                        created_at=now,
                    )
                )
                write_tags(conn, arn, params.get("tags"))
            return {"activityArn": arn, "creationDate": timestamp(now)}

        return once_more_on_conflict(attempt)

    def delete_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["activityArn"]
        if not owned(ctx, parse_arn(arn, "activity")):
            return {}
        with self.platform.store.begin() as conn:
            conn.execute(sa.delete(t.activities).where(t.activities.c.arn == arn))
            delete_tags(conn, arn)
        return {}

    def describe_activity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["activityArn"]
        parsed = parse_arn(arn, "activity")
        row = None
        if owned(ctx, parsed):
            with self.platform.store.read() as conn:
                row = conn.execute(sa.select(t.activities).where(t.activities.c.arn == arn)).first()
        if row is None:
            raise activity_not_found(arn)
        return {
            "activityArn": row.arn,
            "name": row.name,
            "creationDate": timestamp(row.created_at),
            "encryptionConfiguration": json.loads(row.encryption),
        }

    def list_activities(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = page_size(params)
        after = name_after(params)
        a = t.activities
        query = (
            sa.select(a.c.arn, a.c.name, a.c.created_at)
            .where(a.c.account == ctx.account_id, a.c.region == ctx.region)
            .order_by(a.c.name)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(a.c.name > after)
        with self.platform.store.read() as conn:
            rows = conn.execute(query).all()
        return page(
            rows,
            limit,
            "activities",
            lambda r: {
                "activityArn": r.arn,
                "name": r.name,
                "creationDate": timestamp(r.created_at),
            },
            lambda r: r.name,
        )
