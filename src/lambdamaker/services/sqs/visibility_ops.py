"""DeleteMessage(Batch) and ChangeMessageVisibility(Batch).

Invariants:

- Each request's writes go through the group committer (one transaction, shared with
  concurrent requests); a batch's entries apply together, a failed entry changes nothing.
- Deleting with a stale receipt handle (the message was received again since) succeeds and
  deletes nothing, as AWS documents; it costs one DELETE statement, no lookup.
- Only the latest receipt of an in-flight message can change its visibility.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs.common import Queue, SqsBase, decode_receipt
from lambdamaker.services.sqs.errors import invalid_parameter
from lambdamaker.services.sqs.send_ops import check_batch_ids
from lambdamaker.services.sqs.tables import messages
from lambdamaker.services.sqs.waiters import Waiters

_BY_ROW = sa.select(messages).where(messages.c.id == sa.bindparam("row_id"))
_SET_VISIBLE_AT = (
    sa.update(messages)
    .where(messages.c.id == sa.bindparam("row_id"))
    .values(visible_at_ms=sa.bindparam("visible_at"))
)
_DELETE_RECEIVED = sa.delete(messages).where(
    messages.c.id == sa.bindparam("row_id"),
    messages.c.queue_id == sa.bindparam("queue_id"),
    messages.c.receipt == sa.bindparam("token"),
)


class VisibilityOperations(SqsBase):
    waiters: Waiters

    def _find_received(self, conn: Connection, queue: Queue, handle: str) -> tuple[Any, bool]:
        """(row or None, whether the handle is the row's latest receipt)."""
        row_id, token = decode_receipt(handle)
        row = conn.execute(_BY_ROW, {"row_id": row_id}).first()
        if row is None or row.queue_id != queue.id:
            return None, False
        return row, row.receipt == token

    async def delete_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        def work(conn: Connection) -> dict[str, Any]:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            self._delete(conn, queue, params["ReceiptHandle"])
            return {}

        return await self.committer.run_async(work)

    def _delete(self, conn: Connection, queue: Queue, handle: str) -> None:
        row_id, token = decode_receipt(handle)
        # One statement: a stale handle (or another queue's) matches nothing and succeeds.
        deleted = conn.execute(
            _DELETE_RECEIVED, {"row_id": row_id, "queue_id": queue.id, "token": token}
        ).rowcount
        if deleted and queue.fifo:  # its group may now deliver the next message
            queue_id = queue.id
            self.platform.store.after_commit(conn, lambda: self.waiters.notify(queue_id))

    async def delete_message_batch(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        entries = list(params.get("Entries") or [])
        check_batch_ids(entries)
        # Handles are decoded up front (a malformed one fails alone, before anything changes);
        # the rest are deleted by one executemany.
        keys: list[tuple[str, int, str]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                row_id, token = decode_receipt(entry["ReceiptHandle"])
            except ServiceError as exc:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "SenderFault": True,
                        "Code": exc.code,
                        "Message": exc.message,
                    }
                )
            else:
                keys.append((entry["Id"], row_id, token))

        def work(conn: Connection) -> dict[str, Any]:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            if keys:
                conn.execute(
                    _DELETE_RECEIVED,
                    [{"row_id": r, "queue_id": queue.id, "token": t} for _, r, t in keys],
                )
                if queue.fifo:  # a group may now deliver its next message (spurious is harmless)
                    queue_id = queue.id
                    self.platform.store.after_commit(conn, lambda: self.waiters.notify(queue_id))
            return {"Successful": [{"Id": entry_id} for entry_id, _, _ in keys], "Failed": failed}

        return await self.committer.run_async(work)

    async def _run_batch(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        apply: Callable[[Connection, Queue, dict[str, Any]], None],
    ) -> dict[str, Any]:
        """Apply ``apply`` to each entry in one transaction; an entry that fails (before it
        changes anything) is reported in ``Failed`` and the others still apply."""
        entries = list(params.get("Entries") or [])
        check_batch_ids(entries)

        def work(conn: Connection) -> dict[str, Any]:
            successful, failed = [], []
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            for entry in entries:
                try:
                    apply(conn, queue, entry)
                    successful.append({"Id": entry["Id"]})
                except ServiceError as exc:
                    failed.append(
                        {
                            "Id": entry["Id"],
                            "SenderFault": True,
                            "Code": exc.code,
                            "Message": exc.message,
                        }
                    )
            return {"Successful": successful, "Failed": failed}

        return await self.committer.run_async(work)

    def _change_visibility(self, conn: Connection, queue: Queue, handle: str, timeout: Any) -> None:
        seconds = int(timeout)
        if not 0 <= seconds <= 43_200:
            raise invalid_parameter(
                f"Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Must be "
                "between 0 and 43200."
            )
        now = self.now_ms()
        row, current = self._find_received(conn, queue, handle)
        if row is None or not current:
            raise invalid_parameter(
                f"Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does "
                "not exist or is not available for visibility timeout change."
            )
        if row.receive_count == 0 or row.visible_at_ms <= now:
            raise ServiceError("Message is not in flight.", code="MessageNotInflight")
        conn.execute(_SET_VISIBLE_AT, {"row_id": row.id, "visible_at": now + seconds * 1000})
        queue_id = queue.id
        self.platform.store.after_commit(conn, lambda: self.waiters.notify(queue_id))

    async def change_message_visibility(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        def work(conn: Connection) -> dict[str, Any]:
            queue = self.queue_of(conn, ctx, params["QueueUrl"])
            self._change_visibility(
                conn, queue, params["ReceiptHandle"], params["VisibilityTimeout"]
            )
            return {}

        return await self.committer.run_async(work)

    async def change_message_visibility_batch(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._run_batch(
            ctx,
            params,
            lambda conn, queue, entry: self._change_visibility(
                conn, queue, entry["ReceiptHandle"], entry.get("VisibilityTimeout", 0)
            ),
        )
