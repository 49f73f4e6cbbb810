"""Events that other services hand to a function (S3 notifications, SNS, EventBridge targets,
Lambda destinations, schedules): Event invocations queued inside the caller's transaction.

Invariants:
- The event row is written on the caller's connection, so it commits exactly with the caller's
  own change (the S3 object, the SNS delivery record, the EventBridge delivery mark): it is
  never lost and never queued for a change that rolled back.
- The function, version or alias must exist when the event is queued
  (``ResourceNotFoundException`` otherwise): the caller decides whether that is a failed
  delivery. What runs is resolved later by the dispatcher, as for an ``Invoke`` of type Event.
- The dispatcher is woken after the commit, not before: a wake-up before the commit could find
  nothing and sleep past the event.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ResourceNotFoundError
from lambdamaker.services.lambda_.arns import LATEST, is_alias
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.records import select_alias, select_version
from lambdamaker.services.lambda_.tables import events


class InboundOperations(LambdaBase):
    def enqueue_from(
        self,
        conn: Connection,
        function: str,
        payload: bytes,
        *,
        request_id: str | None = None,
        trace: str | None = None,
    ) -> str:
        """Queue an Event invocation of ``function`` (name or ARN, optionally qualified) on
        ``conn``; returns its request id. ``trace`` is the X-Ray header of the invocation that
        caused this one, if any (recursive loop detection, ``lineage``)."""
        name, qualifier = self.arns.parse_function(function)
        if qualifier is not None and is_alias(qualifier):
            found = select_alias(conn, name, qualifier) is not None
        else:
            found = select_version(conn, name, qualifier or LATEST) is not None
        if not found:
            raise ResourceNotFoundError(
                f"Function not found: {self.arns.function(name, qualifier)}"
            )
        request_id = request_id or str(uuid.uuid4())
        now_ms = self.dispatcher.now_ms()
        conn.execute(
            sa.insert(events).values(
                request_id=request_id,
                function_name=name,
                qualifier=qualifier,
                invoked_arn=self.arns.function(name, qualifier),
                payload=payload,
                created_ms=now_ms,
                next_attempt_ms=now_ms,
                attempts=0,
                lease_until_ms=0,
                trace=trace,
                throttles=0,
            )
        )
        self.store.after_commit(conn, self.dispatcher.notify)
        return request_id
