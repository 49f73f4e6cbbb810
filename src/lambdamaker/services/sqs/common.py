"""What the SQS operation groups share: the clock, queue lookup, URLs, ARNs, receipt handles.

Queue URLs point at this platform: ``<endpoint>/<account>/<name>``. Only the last two path
segments identify a queue, so a URL minted for another host name of the same server (or one of
AWS's ``https://sqs.<region>.amazonaws.com/...``) still works.

A receipt handle is ``base64url("<message row id>:<receipt token>")``: opaque to clients, and
stale once the message is received again (the token changes).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.sqs.errors import queue_does_not_exist, receipt_handle_invalid
from lambdamaker.services.sqs.tables import queues
from lambdamaker.store.group_commit import GROUP_SCOPE, GroupCommitter


@dataclass
class Queue:
    id: int
    account: str
    name: str
    fifo: bool
    attributes: dict[str, str]
    created_ms: int
    modified_ms: int
    purged_ms: int | None

    def int_attribute(self, name: str) -> int:
        return int(self.attributes[name])


_BY_NAME = sa.select(queues).where(
    queues.c.account == sa.bindparam("account"), queues.c.name == sa.bindparam("name")
)


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def parse_queue_arn(arn: str) -> tuple[str, str] | None:
    """(account, name) of an SQS queue ARN."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sqs":
        return None
    return parts[4], parts[5]


def encode_receipt(row_id: int, token: str) -> str:
    return base64.urlsafe_b64encode(f"{row_id}:{token}".encode()).decode()


def decode_receipt(handle: str) -> tuple[int, str]:
    try:
        row_id, _, token = base64.urlsafe_b64decode(handle.encode()).decode().partition(":")
        return int(row_id), token
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise receipt_handle_invalid(handle) from None


class SqsBase(Provider):
    service = "sqs"
    committer: GroupCommitter
    """Hot writes (send, receive, delete, visibility) share transactions across requests."""

    clock: Callable[[], float] = staticmethod(time.time)
    """Seconds since the epoch; tests replace it on the instance to move time."""

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def queue_url(self, ctx: RequestContext, queue: Queue) -> str:
        return f"{ctx.endpoint_url}/{queue.account}/{queue.name}"

    def arn(self, queue: Queue) -> str:
        return queue_arn(self.platform.config.region, queue.account, queue.name)

    @staticmethod
    def find_queue(conn: Connection, account: str, name: str) -> Queue | None:
        scope: dict[str, Any] | None = conn.info.get(GROUP_SCOPE)
        if scope is not None:
            cache: dict[tuple[str, str], Queue] = scope.setdefault("sqs.queues", {})
            queue = cache.get((account, name))
            if queue is None:
                queue = SqsBase._load_queue(conn, account, name)
                if queue is not None:
                    cache[(account, name)] = queue
            return queue
        return SqsBase._load_queue(conn, account, name)

    @staticmethod
    def _load_queue(conn: Connection, account: str, name: str) -> Queue | None:
        row = conn.execute(_BY_NAME, {"account": account, "name": name}).first()
        if row is None:
            return None
        return Queue(
            id=row.id,
            account=row.account,
            name=row.name,
            fifo=row.fifo,
            attributes=json.loads(row.attributes),
            created_ms=row.created_ms,
            modified_ms=row.modified_ms,
            purged_ms=row.purged_ms,
        )

    def queue_of(self, conn: Connection, ctx: RequestContext, url: str) -> Queue:
        """The queue a ``QueueUrl`` names, or ``QueueDoesNotExist``."""
        path = urlsplit(url).path if "://" in url else url
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2:
            account, name = segments[-2], segments[-1]
        elif len(segments) == 1:
            account, name = ctx.account_id, segments[0]
        else:
            raise queue_does_not_exist()
        queue = self.find_queue(conn, account, name)
        if queue is None:
            raise queue_does_not_exist()
        return queue


def non_empty(out: dict[str, Any], key: str, value: Any) -> None:
    """Set ``out[key]`` only when there is something to say (AWS omits empty members)."""
    if value:
        out[key] = value
