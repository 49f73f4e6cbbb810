"""TagResource, UntagResource and ListTagsForResource for state machines and activities.

Invariant: a resource carries at most ``MAX_TAGS`` tags; a write that would exceed it fails
with TooManyTags and changes nothing (it runs in the caller's transaction).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.stepfunctions import tables as t
from lambdamaker.services.stepfunctions.common import (
    owned,
    parse_arn,
    resource_not_found,
    sfn_error,
)
from lambdamaker.services.stepfunctions.machines import machine_row

MAX_TAGS = 50


def write_tags(conn: Connection, arn: str, tags: list[dict[str, Any]] | None) -> None:
    """Add or overwrite ``tags`` (the API's ``[{key, value}]``) on the resource ``arn``."""
    if not tags:
        return
    wanted = {tag["key"]: tag.get("value", "") for tag in tags}
    have = {
        key for (key,) in conn.execute(sa.select(t.tags.c.key).where(t.tags.c.resource_arn == arn))
    }
    if len(have | wanted.keys()) > MAX_TAGS:
        raise sfn_error(
            "TooManyTags",
            f"Too many tags: a resource can have at most {MAX_TAGS} tags.",
            resourceName=arn,
        )
    conn.execute(
        sa.delete(t.tags).where(t.tags.c.resource_arn == arn, t.tags.c.key.in_(list(wanted)))
    )
    conn.execute(
        sa.insert(t.tags),
        [{"resource_arn": arn, "key": k, "value": v} for k, v in wanted.items()],
    )


def delete_tags(conn: Connection, arn: str) -> None:
    conn.execute(sa.delete(t.tags).where(t.tags.c.resource_arn == arn))


def _resource_exists(conn: Connection, ctx: RequestContext, arn: str) -> bool:
    kind = "activity" if ":activity:" in arn else "stateMachine"
    parsed = parse_arn(arn, kind)
    if parsed.qualifier is not None or not owned(ctx, parsed):
        # Versions and aliases carry no tags of their own: AWS finds no such resource.
        return False
    if kind == "stateMachine":
        return machine_row(conn, arn) is not None
    row = conn.execute(sa.select(t.activities.c.arn).where(t.activities.c.arn == arn)).first()
    return row is not None


class TagOperations(Provider):
    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]
        with self.platform.store.begin() as conn:
            if not _resource_exists(conn, ctx, arn):
                raise resource_not_found(arn)
            write_tags(conn, arn, params["tags"])
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]
        with self.platform.store.begin() as conn:
            if not _resource_exists(conn, ctx, arn):
                raise resource_not_found(arn)
            if params["tagKeys"]:
                conn.execute(
                    sa.delete(t.tags).where(
                        t.tags.c.resource_arn == arn, t.tags.c.key.in_(params["tagKeys"])
                    )
                )
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["resourceArn"]
        with self.platform.store.read() as conn:
            if not _resource_exists(conn, ctx, arn):
                raise resource_not_found(arn)
            rows = conn.execute(
                sa.select(t.tags.c.key, t.tags.c.value)
                .where(t.tags.c.resource_arn == arn)
                .order_by(t.tags.c.key)
            ).all()
        return {"tags": [{"key": k, "value": v} for k, v in rows]}
