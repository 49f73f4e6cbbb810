"""SQS for the platform's own pollers (Lambda event source mappings), by queue ARN, in-process.

Blocking calls for a poller's own thread: ``receive`` (with a long-poll wait) and ``delete``.
They run the same code as ReceiveMessage / DeleteMessage (``receive_ops`` / ``visibility_ops``)
in their own transactions, so every invariant of those holds here too: a receive hides the
message for the queue's VisibilityTimeout and bumps its receive count, redrives to the DLQ past
``maxReceiveCount``, and a FIFO group with an in-flight message delivers nothing else.

A long poll parks a thread waiter (``waiters.ThreadWaiter``) in the provider's ``Waiters``, so
a send wakes it at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

from lambdamaker.services.base import RequestContext
from lambdamaker.services.sqs.common import parse_queue_arn
from lambdamaker.services.sqs.errors import queue_does_not_exist
from lambdamaker.services.sqs.waiters import ThreadWaiter

if TYPE_CHECKING:
    from lambdamaker.platform import Platform
    from lambdamaker.services.sqs.provider import SqsProvider

_IDLE_RECHECK_S = 1.0
"""A parked poll looks again this often even without a wake-up (another process's sends)."""

_STOP_CHECK_S = 0.25


def provider(platform: Platform) -> SqsProvider:
    return cast("SqsProvider", platform.providers["sqs"])


def _context(platform: Platform, account: str) -> RequestContext:
    return RequestContext(
        request_id="",
        service="sqs",
        operation="",
        region=platform.config.region,
        account_id=account,
    )


def queue_exists(platform: Platform, queue_arn: str) -> bool:
    parsed = parse_queue_arn(queue_arn)
    if parsed is None or "sqs" not in platform.providers:
        return False
    with platform.store.read() as conn:
        return provider(platform).find_queue(conn, *parsed) is not None


def receive(
    platform: Platform,
    queue_arn: str,
    limit: int,
    wait_s: float,
    stop: threading.Event,
) -> list[dict[str, Any]]:
    """Up to ``limit`` (1..10) messages in ReceiveMessage's output shape, with every system
    and message attribute; waits up to ``wait_s`` for the first one (returns early on
    ``stop``). Raises ``QueueDoesNotExist`` when the queue is gone."""
    parsed = parse_queue_arn(queue_arn)
    if parsed is None:
        raise queue_does_not_exist()
    sqs = provider(platform)
    ctx = _context(platform, parsed[0])
    url = f"/{parsed[0]}/{parsed[1]}"
    params: dict[str, Any] = {
        "QueueUrl": url,
        "AttributeNames": ["All"],
        "MessageAttributeNames": ["All"],
    }
    deadline = None
    queue_id: int | None = None
    waiter = ThreadWaiter()
    while True:
        waiter.event.clear()
        # Registered before the look (once the queue is known): a send committed after the
        # look wakes us (the waiters' no-lost-wake-up rule).
        if queue_id is not None:
            sqs.waiters.add(queue_id, waiter)
        try:
            now = sqs.now_ms()
            # An empty queue costs a read, not a write transaction (idle mappings poll often).
            looked = sqs._look(ctx, url, now)
            if looked is None:
                with platform.store.begin() as conn:
                    looked = sqs._receive_in(conn, ctx, params, limit, now)
            queue, out, next_ms = looked
            if out or stop.is_set():
                return out
            if queue_id is None:
                queue_id = queue.id
                continue  # look again, registered
            if deadline is None:
                deadline = now + int(wait_s * 1000)
            remaining_ms = deadline - sqs.now_ms()
            if remaining_ms <= 0:
                return []
            timeout_ms = min(remaining_ms, int(_IDLE_RECHECK_S * 1000))
            if next_ms is not None:
                timeout_ms = min(timeout_ms, max(next_ms - sqs.now_ms(), 1))
            # Sends wake us at once; a stop request is seen within a quarter second.
            waiter.event.wait(min(timeout_ms / 1000, _STOP_CHECK_S))
        finally:
            if queue_id is not None:
                sqs.waiters.unregister(queue_id, waiter)


def delete(platform: Platform, queue_arn: str, receipts: list[str]) -> None:
    """Delete received messages by receipt handle (stale handles are ignored, as SQS does)."""
    if not receipts:
        return
    parsed = parse_queue_arn(queue_arn)
    if parsed is None:
        return
    sqs = provider(platform)
    with platform.store.begin() as conn:
        queue = sqs.find_queue(conn, *parsed)
        if queue is None:
            return
        for handle in receipts:
            sqs._delete(conn, queue, handle)
