"""Dead-letter queue management: ListDeadLetterSourceQueues and the message move tasks
(StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask).

A move task runs to completion inside StartMessageMoveTask's transaction: the messages visible
in the dead-letter queue at that moment move atomically (each back to the queue it was
dead-lettered from, or all to ``DestinationArn``), and the task is recorded as COMPLETED. So a
task is never half done, even across a crash, and CancelMessageMoveTask never finds one
running. ``MaxNumberOfMessagesPerSecond`` is validated and reported but does not slow the move.
Moved messages keep their id, body, attributes and SentTimestamp; their receive count restarts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs import attributes as qa
from lambdamaker.services.sqs.common import Queue, SqsBase, parse_queue_arn
from lambdamaker.services.sqs.errors import invalid_parameter
from lambdamaker.services.sqs.tables import messages, move_tasks, queues
from lambdamaker.services.sqs.waiters import Waiters


def _not_found(message: str) -> ServiceError:
    return ServiceError(message, code="ResourceNotFoundException")


class RedriveOperations(SqsBase):
    waiters: Waiters

    def _sources_of(self, conn: Connection, account: str, dlq_arn: str) -> list[Queue]:
        """The queues whose RedrivePolicy names ``dlq_arn``, by name."""
        names = conn.execute(
            sa.select(queues.c.name)
            .where(
                queues.c.account == account, queues.c.attributes.contains(dlq_arn, autoescape=True)
            )
            .order_by(queues.c.name)
        ).scalars()
        out = []
        for name in names:
            queue = self.find_queue(conn, account, name)
            target = qa.redrive_target(queue.attributes) if queue is not None else None
            if queue is not None and target is not None and target[0] == dlq_arn:
                out.append(queue)
        return out

    def list_dead_letter_source_queues(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        limit = params.get("MaxResults")
        if limit is not None and not 1 <= int(limit) <= 1000:
            raise invalid_parameter(
                f"Value {limit} for parameter MaxResults is invalid. "
                "Reason: MaxResults must be an integer between 1 and 1000."
            )
        with self.platform.store.read() as conn:
            dlq = self.queue_of(conn, ctx, params["QueueUrl"])
            sources = self._sources_of(conn, dlq.account, self.arn(dlq))
        token = params.get("NextToken")
        if token:
            sources = [q for q in sources if q.name > str(token)]
        page = sources[: int(limit)] if limit is not None else sources[:1000]
        out: dict[str, Any] = {"queueUrls": [self.queue_url(ctx, q) for q in page]}
        if limit is not None and len(sources) > int(limit):
            out["NextToken"] = page[-1].name
        return out

    def _queue_by_arn(self, conn: Connection, arn: str) -> Queue:
        parsed = parse_queue_arn(arn)
        queue = self.find_queue(conn, *parsed) if parsed is not None else None
        if queue is None:
            raise _not_found(
                "The resource that you specified for the SourceArn parameter doesn't exist."
            )
        return queue

    def start_message_move_task(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        rate = params.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and not 1 <= int(rate) <= 500:
            raise invalid_parameter(
                "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be "
                "between 1 and 500."
            )
        source_arn = str(params["SourceArn"])
        destination_arn = params.get("DestinationArn")
        now = self.now_ms()
        handle = uuid.uuid4().hex
        with self.platform.store.begin() as conn:
            dlq = self._queue_by_arn(conn, source_arn)
            if not self._sources_of(conn, dlq.account, source_arn):
                raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
            destination = (
                self._queue_by_arn(conn, str(destination_arn)) if destination_arn else None
            )
            rows = conn.execute(
                sa.select(messages)
                .where(messages.c.queue_id == dlq.id, messages.c.visible_at_ms <= now)
                .order_by(messages.c.id)
            ).all()
            moved, targets = self._move(conn, dlq, destination, rows, now)
            conn.execute(
                sa.insert(move_tasks).values(
                    handle=handle,
                    account=dlq.account,
                    source_arn=source_arn,
                    destination_arn=destination_arn,
                    max_per_second=int(rate) if rate is not None else None,
                    status="COMPLETED",
                    moved=moved,
                    to_move=len(rows),
                    started_ms=now,
                )
            )
            for queue_id in targets:
                self.platform.store.after_commit(conn, partial(self.waiters.notify, queue_id))
        return {"TaskHandle": handle}

    def _move(
        self,
        conn: Connection,
        dlq: Queue,
        destination: Queue | None,
        rows: Sequence[Any],
        now: int,
    ) -> tuple[int, set[int]]:
        """Move ``rows`` out of ``dlq``; (how many moved, the queues that received some)."""
        by_arn: dict[str, Queue | None] = {}
        moved: list[dict[str, Any]] = []
        for row in rows:
            system = json.loads(row.system) if row.system else {}
            origin = system.pop("DeadLetterQueueSourceArn", None)
            target = destination
            if target is None and origin is not None:
                arn = origin["StringValue"]
                if arn not in by_arn:
                    parsed = parse_queue_arn(arn)
                    by_arn[arn] = self.find_queue(conn, *parsed) if parsed else None
                target = by_arn[arn]
            if target is None or target.id == dlq.id:
                continue  # nowhere to go back to: it stays in the dead-letter queue
            values = dict(row._mapping)
            del values["id"]
            values.update(
                queue_id=target.id,
                system=json.dumps(system) if system else None,
                visible_at_ms=now,
                receive_count=0,
                first_receive_ms=None,
                receipt=None,
            )
            moved.append(values)
            conn.execute(sa.delete(messages).where(messages.c.id == row.id))
        if moved:
            conn.execute(sa.insert(messages), moved)
        return len(moved), {v["queue_id"] for v in moved}

    def list_message_move_tasks(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        limit = int(params.get("MaxResults") or 1)
        if not 1 <= limit <= 10:
            raise invalid_parameter(
                f"Value {limit} for parameter MaxResults is invalid. Reason: must be between "
                "1 and 10."
            )
        source_arn = str(params["SourceArn"])
        with self.platform.store.read() as conn:
            self._queue_by_arn(conn, source_arn)
            rows = conn.execute(
                sa.select(move_tasks)
                .where(move_tasks.c.source_arn == source_arn)
                .order_by(move_tasks.c.started_ms.desc(), move_tasks.c.handle)
                .limit(limit)
            ).all()
        results = []
        for row in rows:
            entry: dict[str, Any] = {
                "Status": row.status,
                "SourceArn": row.source_arn,
                "ApproximateNumberOfMessagesMoved": row.moved,
                "ApproximateNumberOfMessagesToMove": row.to_move,
                "StartedTimestamp": row.started_ms,
            }
            if row.destination_arn:
                entry["DestinationArn"] = row.destination_arn
            if row.max_per_second is not None:
                entry["MaxNumberOfMessagesPerSecond"] = row.max_per_second
            results.append(entry)
        return {"Results": results}

    def cancel_message_move_task(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        # Tasks complete inside StartMessageMoveTask, so none is ever running to cancel.
        raise _not_found("Task does not exist or is not running.")
