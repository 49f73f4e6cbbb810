"""Tags on topics: TagResource, UntagResource, ListTagsForResource.

Keys are case-sensitive; a topic holds at most 50 tags, and a request that would go beyond is
refused whole. Tagging a missing topic is ``ResourceNotFound``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sns import tables as t
from lambdamaker.services.sns.common import SnsBase, check_topic_arn

MAX_TAGS = 50


def check_tags(raw: list[dict[str, Any]]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for tag in raw:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise ServiceError("Tag key is invalid", code="InvalidParameter", status=400)
        if not isinstance(value, str) or len(value) > 256:
            raise ServiceError("Tag value is invalid", code="InvalidParameter", status=400)
        pairs.append((key, value))
    return pairs


def _resource_not_found() -> ServiceError:
    return ServiceError("Resource does not exist", code="ResourceNotFound", status=404)


class TagOperations(SnsBase):
    def _tagged_topic(self, conn: Connection, ctx: RequestContext, arn: Any) -> str:
        arn = check_topic_arn(arn, "ResourceArn")
        row = conn.execute(sa.select(t.topics.c.arn).where(t.topics.c.arn == arn)).first()
        if row is None or not arn.startswith(f"arn:aws:sns:{ctx.region}:{ctx.account_id}:"):
            raise _resource_not_found()
        return arn

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pairs = check_tags(params.get("Tags") or [])
        with self.platform.store.begin() as conn:
            arn = self._tagged_topic(conn, ctx, params["ResourceArn"])
            have = set(
                conn.execute(sa.select(t.tags.c.key).where(t.tags.c.resource_arn == arn)).scalars()
            )
            if len(have | {k for k, _ in pairs}) > MAX_TAGS:
                raise ServiceError(
                    "Could not complete request: tag quota of per resource exceeded",
                    code="TagLimitExceeded",
                    status=400,
                )
            for key, value in pairs:
                if key in have:
                    conn.execute(
                        sa.update(t.tags)
                        .where(t.tags.c.resource_arn == arn, t.tags.c.key == key)
                        .values(value=value)
                    )
                else:
                    conn.execute(sa.insert(t.tags).values(resource_arn=arn, key=key, value=value))
                    have.add(key)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys = list(params.get("TagKeys") or [])
        with self.platform.store.begin() as conn:
            arn = self._tagged_topic(conn, ctx, params["ResourceArn"])
            if keys:
                conn.execute(
                    sa.delete(t.tags).where(t.tags.c.resource_arn == arn, t.tags.c.key.in_(keys))
                )
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            arn = self._tagged_topic(conn, ctx, params["ResourceArn"])
            rows = conn.execute(
                sa.select(t.tags.c.key, t.tags.c.value)
                .where(t.tags.c.resource_arn == arn)
                .order_by(t.tags.c.key)
            ).all()
        return {"Tags": [{"Key": r.key, "Value": r.value} for r in rows]}
