"""What happens after an asynchronous attempt: retry, or end the event and deliver its record.

Policy (as Lambda documents it):
- A function error is retried up to ``MaximumRetryAttempts`` (default 2), the first retry about
  1 minute later and the second about 2 minutes later. ``PlatformConfig.async_retry_scale``
  multiplies these delays and the event's maximum age, so development and tests need not wait.
- An event older than ``MaximumEventAgeInSeconds`` when it is due is not run again: it ends as
  ``EventAgeExceeded``. Ages and due times are on the dispatcher's clock (a fake one in tests).
- A success goes to the OnSuccess destination; a failure (``RetriesExhausted`` or
  ``EventAgeExceeded``) to OnFailure, or when there is none, the message goes to the version's
  ``DeadLetterConfig`` queue (body: the event; attributes RequestID, ErrorCode, ErrorMessage).

Invariants:
- Deliveries run inside the transaction that deletes the event (``Outcome.finish``): the record
  is committed exactly when the event ends, so a crash never loses nor duplicates it beyond the
  event's own at-least-once run.
- A Lambda destination is an Event invocation: a new row of the same durable queue.
- A destination that no longer exists is logged and skipped; the event still ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.functions.spec import InvokeResult
from lambdamaker.errors import ServiceError
from lambdamaker.services.lambda_.arns import LATEST, is_version
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.event_config import (
    EventConfig,
    destination_service,
    load_event_config,
)
from lambdamaker.services.lambda_.events import Outcome, QueuedEvent
from lambdamaker.services.lambda_.records import select_version
from lambdamaker.services.lambda_.tables import events

log = logging.getLogger("lambdamaker.lambda")

FIRST_RETRY_MS = 60_000
"""Lambda's first retry comes about a minute after the failure; each next one waits twice as
long."""


def _json_or_text(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode(errors="replace")


def destination_record(
    event: QueuedEvent,
    function_arn: str,
    condition: str,
    invokes: int,
    result: InvokeResult | None,
    executed_version: str | None,
) -> str:
    """Lambda's destination record (version 1.0) for ``event``."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invokes,
        },
        "requestPayload": _json_or_text(event.payload),
    }
    if result is not None:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
        if result.function_error:
            response["functionError"] = result.function_error
        record["responseContext"] = response
        record["responsePayload"] = _json_or_text(result.payload)
    return orjson.dumps(record).decode()


class DestinationOperations(LambdaBase):
    """The outcome half of ``attempt_event`` (see ``invoke``)."""

    def event_config(self, event: QueuedEvent) -> EventConfig:
        with self.store.read() as conn:
            return load_event_config(conn, event.function_name, event.qualifier)

    def _scaled(self, ms: float) -> int:
        return int(ms * self.platform.config.async_retry_scale)

    def event_expired(self, event: QueuedEvent, config: EventConfig) -> bool:
        now = self.dispatcher.now_ms()
        return now - event.created_ms > self._scaled(config.max_age_s * 1000)

    def _function_arn(self, event: QueuedEvent, version: str | None) -> str:
        return self.arns.function(event.function_name, event.qualifier or version or LATEST)

    def after_attempt(
        self, event: QueuedEvent, config: EventConfig, result: InvokeResult, version: str
    ) -> Outcome:
        """The outcome of an attempt that reached the function."""
        invokes = event.attempts + 1
        if not result.function_error:
            if config.on_success is None:
                return Outcome(done=True)
            body = destination_record(
                event, self._function_arn(event, version), "Success", invokes, result, version
            )
            return Outcome(done=True, finish=self._deliver(config.on_success, body, event))
        if event.attempts < config.max_retries:
            return Outcome(done=False, delay_ms=self._scaled(FIRST_RETRY_MS * 2**event.attempts))
        return self.give_up(event, config, "RetriesExhausted", invokes, result, version)

    def give_up(
        self,
        event: QueuedEvent,
        config: EventConfig,
        condition: str,
        invokes: int,
        result: InvokeResult | None = None,
        version: str | None = None,
    ) -> Outcome:
        log.info("lambda: async event %s failed (%s)", event.request_id, condition)
        if config.on_failure is not None:
            body = destination_record(
                event, self._function_arn(event, version), condition, invokes, result, version
            )
            return Outcome(done=True, finish=self._deliver(config.on_failure, body, event))
        return Outcome(done=True, finish=self._dead_letter(event, condition, result, version))

    def _deliver(self, arn: str, body: str, event: QueuedEvent) -> Callable[[Connection], None]:
        def deliver(conn: Connection) -> None:
            service = destination_service(arn)
            try:
                if service == "sqs":
                    self._to_queue(conn, arn, body, None)
                elif service == "lambda":
                    self._to_function(conn, arn, body)
                else:
                    log.warning("lambda: destination %s is not supported", arn)
            except ServiceError as exc:
                log.warning(
                    "lambda: destination %s of event %s failed: %s", arn, event.request_id, exc
                )

        return deliver

    def _dead_letter(
        self, event: QueuedEvent, condition: str, result: InvokeResult | None, version: str | None
    ) -> Callable[[Connection], None]:
        def dead_letter(conn: Connection) -> None:
            # Without an attempt (EventAgeExceeded) the version is the one invoked; an alias's
            # version is not resolved here and falls back to $LATEST's configuration.
            named = version
            if named is None:
                named = (
                    event.qualifier if event.qualifier and is_version(event.qualifier) else LATEST
                )
            record = select_version(conn, event.function_name, named)
            target = ((record.config if record else {}).get("DeadLetterConfig") or {}).get(
                "TargetArn"
            )
            if not target:
                return
            if destination_service(target) != "sqs":
                log.warning("lambda: dead-letter target %s is not supported", target)
                return
            message = condition
            if result is not None:
                response = _json_or_text(result.payload)
                if isinstance(response, dict) and "errorMessage" in response:
                    response = response["errorMessage"]
                message = str(response)[:1000]
            attributes = {
                "RequestID": {"DataType": "String", "StringValue": event.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": message or condition},
            }
            try:
                self._to_queue(conn, target, event.payload.decode(errors="replace"), attributes)
            except ServiceError as exc:
                log.warning("lambda: dead-letter queue %s failed: %s", target, exc)

        return dead_letter

    def _to_queue(
        self, conn: Connection, arn: str, body: str, attributes: dict[str, Any] | None
    ) -> None:
        sqs = self.platform.providers.get("sqs")
        if sqs is None:
            log.warning("lambda: no SQS service on this platform for %s", arn)
            return
        sqs.enqueue(conn, arn, body, message_attributes=attributes)  # type: ignore[attr-defined]

    def _to_function(self, conn: Connection, arn: str, body: str) -> None:
        name, qualifier = self.arns.parse_function(arn)
        now = self.dispatcher.now_ms()
        conn.execute(
            sa.insert(events).values(
                request_id=str(uuid.uuid4()),
                function_name=name,
                qualifier=qualifier,
                invoked_arn=self.arns.function(name, qualifier),
                payload=body.encode(),
                created_ms=now,
                next_attempt_ms=now,
                attempts=0,
                lease_until_ms=0,
            )
        )
