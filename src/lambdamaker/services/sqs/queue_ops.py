"""Queue operations: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, GetQueueAttributes,
SetQueueAttributes, PurgeQueue.

Invariants: a queue's stored attributes are always complete (defaults filled in at creation)
and valid; a ``RedrivePolicy`` names an existing queue of the same type when it is set (the
target may be deleted later, as on AWS: messages then stay in the source queue).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs import attributes as qa
from lambdamaker.services.sqs.common import SqsBase, parse_queue_arn
from lambdamaker.services.sqs.errors import invalid_attribute_value, invalid_parameter
from lambdamaker.services.sqs.messages import dumps
from lambdamaker.services.sqs.tables import deleted_queues, messages, queues
from lambdamaker.services.sqs.tag_ops import check_tags

PURGE_INTERVAL_MS = 60_000
RECREATE_INTERVAL_MS = 60_000
"""After DeleteQueue, the name cannot be created again for this long (AWS: 60 seconds)."""

_DELETED_AT = sa.select(deleted_queues.c.deleted_ms).where(
    deleted_queues.c.account == sa.bindparam("account"),
    deleted_queues.c.name == sa.bindparam("name"),
)
_FORGET_DELETED = sa.delete(deleted_queues).where(
    deleted_queues.c.account == sa.bindparam("account"),
    deleted_queues.c.name == sa.bindparam("name"),
)
_REMEMBER_DELETED = sa.insert(deleted_queues)

_COUNTS = sa.select(
    sa.func.count()
    .filter(sa.and_(messages.c.visible_at_ms <= sa.bindparam("now")))
    .label("visible"),
    sa.func.count()
    .filter(sa.and_(messages.c.visible_at_ms > sa.bindparam("now"), messages.c.receive_count > 0))
    .label("in_flight"),
    sa.func.count()
    .filter(sa.and_(messages.c.visible_at_ms > sa.bindparam("now"), messages.c.receive_count == 0))
    .label("delayed"),
).where(
    messages.c.queue_id == sa.bindparam("queue_id"),
    messages.c.sent_ms > sa.bindparam("oldest"),  # past retention: gone, if not yet deleted
)


class QueueOperations(SqsBase):
    def _check_redrive(self, conn: Connection, fifo: bool, attrs: dict[str, str]) -> None:
        target = qa.redrive_target(attrs)
        if target is None:
            return
        parsed = parse_queue_arn(target[0])
        dlq = self.find_queue(conn, *parsed) if parsed is not None else None
        if dlq is None:
            raise invalid_attribute_value("RedrivePolicy", "Dead-letter target does not exist.")
        if dlq.fifo != fifo:
            raise invalid_attribute_value(
                "RedrivePolicy",
                "Dead-letter queue must be same type of queue as the source.",
            )

    def create_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name: str = params["QueueName"]
        given = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}
        fifo = given.get("FifoQueue", "false").lower() == "true"
        if name.endswith(".fifo") and not fifo:
            raise invalid_parameter(
                "Can only include alphanumeric characters, hyphens, or underscores. "
                "1 to 80 in length"
            )
        qa.check_queue_name(name, fifo)
        normalized = qa.normalize(given, fifo, creating=True)
        if not fifo:
            normalized.pop("FifoQueue", None)  # standard queues do not report it
        tags = params.get("tags") or {}
        check_tags(tags)
        now = self.now_ms()
        with self.platform.store.begin() as conn:
            existing = self.find_queue(conn, ctx.account_id, name)
            if existing is not None:
                for key, value in normalized.items():
                    if existing.attributes.get(key, "") != value:
                        raise ServiceError(
                            "A queue already exists with the same name and a different value "
                            f"for attribute {key}",
                            code="QueueNameExists",
                        )
                return {"QueueUrl": self.queue_url(ctx, existing)}
            named = {"account": ctx.account_id, "name": name}
            deleted_ms = conn.execute(_DELETED_AT, named).scalar()
            if deleted_ms is not None:
                if now - deleted_ms < RECREATE_INTERVAL_MS:
                    raise ServiceError(
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name.",
                        code="QueueDeletedRecently",
                    )
                conn.execute(_FORGET_DELETED, named)
            self._check_redrive(conn, fifo, normalized)
            stored = qa.defaults(fifo) | normalized
            conn.execute(
                sa.insert(queues).values(
                    account=ctx.account_id,
                    name=name,
                    fifo=fifo,
                    attributes=dumps(stored),
                    tags=dumps(tags),
                    created_ms=now,
                    modified_ms=now,
                )
            )
        return {"QueueUrl": f"{ctx.endpoint_url}/{ctx.account_id}/{name}"}

    def get_queue_url(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        account = params.get("QueueOwnerAWSAccountId") or ctx.account_id
        with self.platform.store.read() as conn:
            queue = self.queue_of(conn, ctx, f"/{account}/{params['QueueName']}")
        return {"QueueUrl": self.queue_url(ctx, queue)}

    def list_queues(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("QueueNamePrefix") or ""
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= int(limit) <= 1000:
            raise invalid_parameter(
                f"Value {limit} for parameter MaxResults is invalid. "
                "Reason: MaxResults must be an integer between 1 and 1000."
            )
        token = params.get("NextToken")
        if token is not None and limit is None:
            raise invalid_parameter(
                "MaxResults is a mandatory parameter when you provide a value for NextToken."
            )
        query = (
            sa.select(queues.c.name)
            .where(
                queues.c.account == ctx.account_id,
                queues.c.name.startswith(prefix, autoescape=True),
            )
            .order_by(queues.c.name)
            .limit((int(limit) if limit is not None else 1000) + 1)
        )
        if token:
            query = query.where(queues.c.name > str(token))
        with self.platform.store.read() as conn:
            names = list(conn.execute(query).scalars())
        out: dict[str, Any] = {}
        page = names[: int(limit)] if limit is not None else names[:1000]
        if page:
            out["QueueUrls"] = [f"{ctx.endpoint_url}/{ctx.account_id}/{n}" for n in page]
        if limit is not None and len(names) > int(limit):
            out["NextToken"] = page[-1]
        return out

    def delete_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            # Explicitly, not by cascade: SQLite's foreign keys may be off in other tools.
            conn.execute(sa.delete(messages).where(messages.c.queue_id == queue.id))
            conn.execute(sa.delete(queues).where(queues.c.id == queue.id))
            key = {"account": queue.account, "name": queue.name}
            conn.execute(_FORGET_DELETED, key)
            conn.execute(_REMEMBER_DELETED, {**key, "deleted_ms": self.now_ms()})
        return {}

    def get_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(params.get("AttributeNames") or [])
        for name in wanted:
            if name != "All" and name not in qa.ALL_NAMES:
                raise ServiceError(f"Unknown Attribute {name}.", code="InvalidAttributeName")
        if not wanted:
            return {}
        now = self.now_ms()
        with self.platform.store.read() as conn:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            oldest = now - queue.int_attribute("MessageRetentionPeriod") * 1000
            counts = conn.execute(
                _COUNTS, {"now": now, "queue_id": queue.id, "oldest": oldest}
            ).one()
        values = {k: v for k, v in queue.attributes.items() if v != ""}
        values.update(
            QueueArn=self.arn(queue),
            ApproximateNumberOfMessages=str(counts.visible),
            ApproximateNumberOfMessagesNotVisible=str(counts.in_flight),
            ApproximateNumberOfMessagesDelayed=str(counts.delayed),
            CreatedTimestamp=str(queue.created_ms // 1000),
            LastModifiedTimestamp=str(queue.modified_ms // 1000),
        )
        if "All" not in wanted:
            values = {k: v for k, v in values.items() if k in wanted}
        return {"Attributes": values} if values else {}

    def set_queue_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        given = {k: str(v) for k, v in (params.get("Attributes") or {}).items()}
        with self.platform.store.begin() as conn:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            normalized = qa.normalize(given, queue.fifo, creating=False)
            self._check_redrive(conn, queue.fifo, normalized)
            conn.execute(
                sa.update(queues)
                .where(queues.c.id == queue.id)
                .values(attributes=dumps(queue.attributes | normalized), modified_ms=self.now_ms())
            )
        return {}

    def purge_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        now = self.now_ms()
        with self.platform.store.begin() as conn:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            if queue.purged_ms is not None and now - queue.purged_ms < PURGE_INTERVAL_MS:
                raise ServiceError(
                    f"Only one PurgeQueue operation on {queue.name} is allowed every 60 seconds.",
                    code="PurgeQueueInProgress",
                )
            conn.execute(sa.delete(messages).where(messages.c.queue_id == queue.id))
            conn.execute(sa.update(queues).where(queues.c.id == queue.id).values(purged_ms=now))
        return {}
