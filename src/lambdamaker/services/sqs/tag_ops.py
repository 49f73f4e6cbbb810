"""Queue tags: TagQueue, UntagQueue, ListQueueTags (and CreateQueue's ``tags``).

Invariant: a queue has at most 50 tags; a failing TagQueue changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs.common import SqsBase
from lambdamaker.services.sqs.errors import invalid_parameter
from lambdamaker.services.sqs.messages import dumps
from lambdamaker.services.sqs.tables import queues

MAX_TAGS = 50


def check_tags(tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
            raise invalid_parameter(f"Tag {key!r} is invalid.")
    if len(tags) > MAX_TAGS:
        raise invalid_parameter(f"Too many tags added for queue: at most {MAX_TAGS}.")


class TagOperations(SqsBase):
    def _update_tags(
        self, ctx: RequestContext, url: str, add: dict[str, str], remove: list[str]
    ) -> None:
        with self.platform.store.begin() as conn:
            queue = self.queue_of(conn, ctx, url)
            current = json.loads(
                conn.execute(sa.select(queues.c.tags).where(queues.c.id == queue.id)).scalar_one()
            )
            for key in remove:
                current.pop(key, None)
            current.update(add)
            check_tags(current)
            conn.execute(
                sa.update(queues).where(queues.c.id == queue.id).values(tags=dumps(current))
            )

    def tag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._update_tags(ctx, params["QueueUrl"], dict(params.get("Tags") or {}), [])
        return {}

    def untag_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._update_tags(ctx, params["QueueUrl"], {}, list(params.get("TagKeys") or []))
        return {}

    def list_queue_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            tags = json.loads(
                conn.execute(sa.select(queues.c.tags).where(queues.c.id == queue.id)).scalar_one()
            )
        return {"Tags": tags} if tags else {}
