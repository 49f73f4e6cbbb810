"""ReceiveMessage, with long polling (deletes and visibility changes: ``visibility_ops``).

Invariants:

- A receive is one write transaction (shared with concurrent requests by ``group_commit``):
  the chosen messages get a new receipt token, a new ``visible_at_ms`` and
  ``receive_count + 1`` before any of them is returned. Receives in one group run one after
  the other, so they never hand out the same message.
- Standard queues hand out the oldest visible message first by the ``(queue_id,
  visible_at_ms, id)`` index, without sorting the backlog; FIFO queues strictly by ``id``.
- A message received more than ``maxReceiveCount`` times (its queue has a RedrivePolicy whose
  target exists) is moved to the dead-letter queue in the same transaction instead of being
  returned; its id, body, attributes and SentTimestamp move with it.
- Messages older than the queue's MessageRetentionPeriod are dropped when a receive meets them.
- FIFO: a message group with an in-flight message delivers nothing until that message is
  deleted or visible again, so a group is consumed in order.
- Long polling waits on the event loop (``Waiters``), not in a worker thread and not by
  re-querying in a loop: it looks again when a send wakes it, when the next delayed or
  in-flight message becomes visible, or after ``RECHECK_SECONDS``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs import attributes as qa
from lambdamaker.services.sqs.common import (
    Queue,
    SqsBase,
    encode_receipt,
    parse_queue_arn,
)
from lambdamaker.services.sqs.errors import invalid_parameter
from lambdamaker.services.sqs.messages import attributes_md5, select_attributes, wire_attributes
from lambdamaker.services.sqs.tables import messages
from lambdamaker.services.sqs.waiters import RECHECK_SECONDS, Waiters

_VISIBLE_WHERE = (
    messages.c.queue_id == sa.bindparam("queue_id"),
    messages.c.visible_at_ms <= sa.bindparam("now"),
)
_VISIBLE = (
    sa.select(messages).where(*_VISIBLE_WHERE).order_by(messages.c.id).limit(sa.bindparam("limit"))
)
# Standard queues: oldest visibility first, the index's own order. Ordering a deep backlog by id
# would sort every visible message on each receive.
_VISIBLE_STANDARD = (
    sa.select(messages)
    .where(*_VISIBLE_WHERE)
    .order_by(messages.c.visible_at_ms, messages.c.id)
    .limit(sa.bindparam("limit"))
)
_ANY_VISIBLE = (
    sa.select(messages.c.id)
    .where(
        messages.c.queue_id == sa.bindparam("queue_id"),
        messages.c.visible_at_ms <= sa.bindparam("now"),
    )
    .limit(1)
)
_BLOCKED_GROUPS = (
    sa.select(messages.c.group_id)
    .where(
        messages.c.queue_id == sa.bindparam("queue_id"),
        messages.c.visible_at_ms > sa.bindparam("now"),
        messages.c.receive_count > 0,
    )
    .distinct()
)
_NEXT_VISIBLE = sa.select(sa.func.min(messages.c.visible_at_ms)).where(
    messages.c.queue_id == sa.bindparam("queue_id"),
    messages.c.visible_at_ms > sa.bindparam("now"),
)
_MARK_RECEIVED = (
    sa.update(messages)
    .where(messages.c.id == sa.bindparam("row_id"))
    .values(
        receipt=sa.bindparam("token"),
        visible_at_ms=sa.bindparam("visible_at"),
        receive_count=messages.c.receive_count + 1,
        first_receive_ms=sa.func.coalesce(messages.c.first_receive_ms, sa.bindparam("now")),
    )
)


def _int_param(params: dict[str, Any], name: str, low: int, high: int, reason: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not low <= int(value) <= high:
        raise invalid_parameter(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
    return int(value)


class ReceiveOperations(SqsBase):
    waiters: Waiters
    backlogged: set[str]
    """Queue URLs whose last receive returned messages (a hint; see ``_receive``)."""

    async def receive_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _int_param(params, "MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided.")
        _int_param(
            params, "VisibilityTimeout", 0, 43_200, "Must be between 0 and 43200, if provided."
        )
        wait = _int_param(params, "WaitTimeSeconds", 0, 20, "Must be >= 0 and <= 20, if provided.")
        queue, out, next_ms = await self._receive(ctx, params)
        if wait is None:
            wait = queue.int_attribute("ReceiveMessageWaitTimeSeconds")
        if out or wait <= 0:
            return {"Messages": out} if out else {}
        deadline = time.monotonic() + wait
        while True:
            entry = self.waiters.register(queue.id)
            try:
                queue, out, next_ms = await self._receive(ctx, params)
                remaining = deadline - time.monotonic()
                if out or remaining <= 0:
                    return {"Messages": out} if out else {}
                timeout = min(remaining, RECHECK_SECONDS)
                if next_ms is not None:
                    timeout = min(timeout, max((next_ms - self.now_ms()) / 1000, 0.001))
                try:
                    await asyncio.wait_for(entry.event.wait(), timeout)
                except TimeoutError:
                    pass
                if self.waiters.closed:  # shutting down: the store is about to close
                    return {}
            finally:
                self.waiters.unregister(queue.id, entry)

    async def _receive(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> tuple[Queue, list[dict[str, Any]], int | None]:
        """One look at the queue: (queue, messages received, when the next hidden message
        becomes visible)."""
        limit = int(params.get("MaxNumberOfMessages") or 1)
        now = self.now_ms()
        url = params["QueueUrl"]
        if url not in self.backlogged:
            empty = await anyio.to_thread.run_sync(self._look, ctx, url, now)
            if empty is not None:
                return empty
        try:
            queue, out, next_ms = await self.committer.run_async(
                lambda conn: self._receive_in(conn, ctx, params, limit, now)
            )
        except ServiceError:
            self.backlogged.discard(url)  # the queue is gone
            raise
        # A hint, not state: while a queue keeps answering with messages, skip the look above.
        if out:
            self.backlogged.add(url)
        else:
            self.backlogged.discard(url)
        return queue, out, next_ms

    def _look(
        self, ctx: RequestContext, url: str, now: int
    ) -> tuple[Queue, list[dict[str, Any]], int | None] | None:
        """An empty queue's answer (the common case for idle long polls), which costs no write
        lock; None when the queue has a visible message."""
        with self.platform.store.read() as conn:
            queue = self.queue_of(conn, ctx, url)
            if conn.execute(_ANY_VISIBLE, {"queue_id": queue.id, "now": now}).first() is None:
                return (
                    queue,
                    [],
                    conn.execute(_NEXT_VISIBLE, {"queue_id": queue.id, "now": now}).scalar(),
                )
        return None

    def _receive_in(
        self, conn: Connection, ctx: RequestContext, params: dict[str, Any], limit: int, now: int
    ) -> tuple[Queue, list[dict[str, Any]], int | None]:
        queue = self.queue_of(conn, ctx, params["QueueUrl"])
        timeout = params.get("VisibilityTimeout")
        visibility = (
            int(timeout) if timeout is not None else queue.int_attribute("VisibilityTimeout")
        )
        retention_ms = queue.int_attribute("MessageRetentionPeriod") * 1000
        redrive = self._redrive(conn, queue)
        blocked: set[str | None] = set()
        if queue.fifo:
            blocked = set(
                conn.execute(_BLOCKED_GROUPS, {"queue_id": queue.id, "now": now}).scalars()
            )
        # Over-fetch a little: some candidates expire or move to the DLQ.
        query = _VISIBLE if queue.fifo else _VISIBLE_STANDARD
        if blocked:
            query = query.where(messages.c.group_id.not_in(blocked))
        rows = conn.execute(
            query, {"queue_id": queue.id, "now": now, "limit": limit * 2 + 10}
        ).all()
        chosen: list[Any] = []
        expired: list[int] = []
        to_dlq: list[Any] = []
        for row in rows:
            if len(chosen) >= limit:
                break
            if row.sent_ms + retention_ms <= now:
                expired.append(row.id)
            elif redrive is not None and row.receive_count >= redrive[1]:
                to_dlq.append(row)
            else:
                # A FIFO group's later messages may come in this same batch: in order.
                chosen.append(row)
        if expired:
            conn.execute(sa.delete(messages).where(messages.c.id.in_(expired)))
        if to_dlq and redrive is not None:
            self._move_to_dlq(conn, queue, redrive[0], to_dlq, now)
        out = []
        if chosen:
            updates = []
            for row in chosen:
                token = uuid.uuid4().hex
                updates.append(
                    {
                        "row_id": row.id,
                        "token": token,
                        "visible_at": now + visibility * 1000,
                        "now": now,
                    }
                )
                out.append(self._shape(queue, row, token, params, now))
            conn.execute(_MARK_RECEIVED, updates)
        next_ms = None
        if not out:  # only a long poll that found nothing needs it
            next_ms = conn.execute(_NEXT_VISIBLE, {"queue_id": queue.id, "now": now}).scalar()
        return queue, out, next_ms

    def _redrive(self, conn: Connection, queue: Queue) -> tuple[Queue, int] | None:
        target = qa.redrive_target(queue.attributes)
        if target is None:
            return None
        parsed = parse_queue_arn(target[0])
        dlq = self.find_queue(conn, *parsed) if parsed is not None else None
        return (dlq, target[1]) if dlq is not None else None

    def _move_to_dlq(
        self, conn: Connection, source: Queue, dlq: Queue, rows: list[Any], now: int
    ) -> None:
        moved = []
        for row in rows:
            values = dict(row._mapping)
            del values["id"]
            system = json.loads(values["system"]) if values["system"] else {}
            system["DeadLetterQueueSourceArn"] = {
                "DataType": "String",
                "StringValue": self.arn(source),
            }
            values.update(
                queue_id=dlq.id,
                system=json.dumps(system),
                visible_at_ms=now,
                receive_count=0,
                first_receive_ms=None,
                receipt=None,
            )
            moved.append(values)
        conn.execute(sa.delete(messages).where(messages.c.id.in_([r.id for r in rows])))
        conn.execute(sa.insert(messages), moved)
        dlq_id = dlq.id
        self.platform.store.after_commit(conn, lambda: self.waiters.notify(dlq_id))

    def _shape(
        self, queue: Queue, row: Any, token: str, params: dict[str, Any], now: int
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "MessageId": row.message_id,
            "ReceiptHandle": encode_receipt(row.id, token),
            "MD5OfBody": row.body_md5,
            "Body": row.body,
        }
        names = {
            *(params.get("AttributeNames") or []),
            *(params.get("MessageSystemAttributeNames") or []),
        }
        if names:
            system = json.loads(row.system) if row.system else {}
            values = {
                "SenderId": row.sender_id,
                "SentTimestamp": str(row.sent_ms),
                "ApproximateReceiveCount": str(row.receive_count + 1),
                "ApproximateFirstReceiveTimestamp": str(row.first_receive_ms or now),
            }
            for key, attr in system.items():
                values[key] = attr["StringValue"]
            if queue.fifo:
                values.update(
                    SequenceNumber=f"{row.id:020d}",
                    MessageDeduplicationId=row.dedup_id,
                    MessageGroupId=row.group_id,
                )
            if "All" not in names:
                values = {k: v for k, v in values.items() if k in names}
            if values:
                out["Attributes"] = values
        stored = json.loads(row.attributes) if row.attributes else {}
        selected = select_attributes(stored, list(params.get("MessageAttributeNames") or []))
        if selected:
            out["MessageAttributes"] = wire_attributes(selected)
            out["MD5OfMessageAttributes"] = attributes_md5(selected)
        return out
