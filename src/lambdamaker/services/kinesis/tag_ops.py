"""Stream tags: AddTagsToStream, RemoveTagsFromStream, ListTagsForStream (and CreateStream's
``Tags``).

Invariants: a stream's tags are one JSON object in its row, changed in one transaction; a stream
has at most 50 tags, checked after the change is applied (so overwriting a key is free).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from lambdamaker.services.base import RequestContext
from lambdamaker.services.kinesis.common import KinesisBase, invalid_argument
from lambdamaker.services.kinesis.tables import streams

MAX_TAGS = 50


def check_tags(current: dict[str, str], added: dict[str, Any]) -> dict[str, str]:
    merged = {**current, **{str(k): str(v) for k, v in added.items()}}
    if len(merged) > MAX_TAGS:
        raise invalid_argument(
            f"A stream cannot have more than {MAX_TAGS} tags associated with it."
        )
    return merged


class TagOperations(KinesisBase):
    def _tags(self, conn: Any, stream_id: int) -> dict[str, str]:
        raw = conn.execute(sa.select(streams.c.tags).where(streams.c.id == stream_id)).scalar()
        tags: dict[str, str] = json.loads(raw or "{}")
        return tags

    def add_tags_to_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            stream = self.stream_of(conn, ctx, params)
            tags = check_tags(self._tags(conn, stream.id), dict(params["Tags"]))
            conn.execute(
                sa.update(streams).where(streams.c.id == stream.id).values(tags=json.dumps(tags))
            )
        return {}

    def remove_tags_from_stream(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            stream = self.stream_of(conn, ctx, params)
            tags = self._tags(conn, stream.id)
            for key in params["TagKeys"]:
                tags.pop(str(key), None)
            conn.execute(
                sa.update(streams).where(streams.c.id == stream.id).values(tags=json.dumps(tags))
            )
        return {}

    def list_tags_for_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("Limit") or 50)
        after = params.get("ExclusiveStartTagKey")
        with self.platform.store.read() as conn:
            stream = self.stream_of(conn, ctx, params)
            tags = self._tags(conn, stream.id)
        keys = sorted(k for k in tags if after is None or k > str(after))
        return {
            "Tags": [{"Key": k, "Value": tags[k]} for k in keys[:limit]],
            "HasMoreTags": len(keys) > limit,
        }
