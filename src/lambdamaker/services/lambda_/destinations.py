"""What happens after an asynchronous attempt: retry, or end the event and deliver its record.

Policy (as Lambda documents it):
- A function error is retried up to ``MaximumRetryAttempts`` (default 2), the first retry about
  1 minute later and the second about 2 minutes later. ``PlatformConfig.async_retry_scale``
  multiplies these delays, the throttle backoff and the event's maximum age, so development and
  tests need not wait.
- A throttled attempt (no concurrency left: reserved concurrency 0, or all of it in use) is not
  a retry: it is tried again after about 1 s, the wait doubling up to 5 minutes (+-20 % jitter),
  until the event is older than its maximum age.
- An event older than ``MaximumEventAgeInSeconds`` when it is due is not run again: it ends as
  ``EventAgeExceeded``. Ages and due times are on the dispatcher's clock (a fake one in tests).
- An event that would run its function a 17th time in one chain of invocations ends as
  ``RecursiveInvocationException`` without running (``lineage``).
- A success goes to the OnSuccess destination; a failure (``RetriesExhausted``,
  ``EventAgeExceeded``, ``RecursiveInvocationException``) to OnFailure, or when there is none,
  the event goes to the version's ``DeadLetterConfig`` queue or topic (body: the event;
  attributes RequestID, ErrorCode, ErrorMessage).
- Destinations are SQS queues, SNS topics (the record is the message), Lambda functions (the
  record is the event) and EventBridge buses (source ``lambda``, detail-type ``Lambda Function
  Invocation Result - Success`` or ``- Failure``, the record as the detail), all through
  ``services.deliver``.

Invariants:
- Deliveries run inside the transaction that deletes the event (``Outcome.finish``): the record
  is committed exactly when the event ends, so a crash never loses nor duplicates it beyond the
  event's own at-least-once run.
- A Lambda destination is an Event invocation: a new row of the same durable queue, carrying
  the trace header of the attempt, so a chain through destinations is counted too.
- A destination that no longer exists, or whose delivery fails, is logged and skipped inside a
  savepoint (nothing of it is kept); the event still ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from lambdamaker.engines.functions.spec import InvokeResult
from lambdamaker.errors import ServiceError
from lambdamaker.services.deliver import deliver
from lambdamaker.services.lambda_.arns import LATEST, is_version
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.event_policy import ConfigCache, EventConfig
from lambdamaker.services.lambda_.events import Outcome, QueuedEvent
from lambdamaker.services.lambda_.records import select_version

log = logging.getLogger("lambdamaker.lambda")

FIRST_RETRY_MS = 60_000
"""Lambda's first retry comes about a minute after the failure; each next one waits twice as
long."""
FIRST_THROTTLE_MS = 1_000
MAX_THROTTLE_MS = 300_000
"""A throttled event is retried after about 1 s, the wait doubling up to 5 minutes."""


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

    _configs: ConfigCache | None = None

    def event_config(self, event: QueuedEvent) -> EventConfig:
        if self._configs is None:
            self._configs = ConfigCache(self.store)
        return self._configs.get(event.function_name, event.qualifier)

    def _scaled(self, ms: float) -> int:
        return int(ms * self.platform.config.async_retry_scale)

    def event_expired(self, event: QueuedEvent, config: EventConfig) -> bool:
        now = self.dispatcher.now_ms()
        return now - event.created_ms > self._scaled(config.max_age_s * 1000)

    def _function_arn(self, event: QueuedEvent, version: str | None) -> str:
        return self.arns.function(event.function_name, event.qualifier or version or LATEST)

    def throttled(self, event: QueuedEvent) -> Outcome:
        """Refused for concurrency: try again later, without counting an attempt (the event's
        maximum age still ends it, checked before each attempt)."""
        jitter = 0.8 + 0.4 * random.random()  # spread a burst of throttled events apart
        wait = min(MAX_THROTTLE_MS, FIRST_THROTTLE_MS * 2 ** min(event.throttles, 16) * jitter)
        return Outcome(done=False, delay_ms=self._scaled(wait), count_attempt=False, throttled=True)

    def after_attempt(
        self,
        event: QueuedEvent,
        config: EventConfig,
        result: InvokeResult,
        version: str,
        trace: str | None = None,
    ) -> Outcome:
        """The outcome of an attempt that reached the function (which ran with ``trace``)."""
        invokes = event.attempts + 1
        if not result.function_error:
            if config.on_success is None:
                return Outcome(done=True)
            function_arn = self._function_arn(event, version)
            body = destination_record(event, function_arn, "Success", invokes, result, version)
            finish = self._deliver(config.on_success, body, event, "Success", function_arn, trace)
            return Outcome(done=True, finish=finish)
        if event.attempts < config.max_retries:
            return Outcome(done=False, delay_ms=self._scaled(FIRST_RETRY_MS * 2**event.attempts))
        return self.give_up(event, config, "RetriesExhausted", invokes, result, version, trace)

    def give_up(
        self,
        event: QueuedEvent,
        config: EventConfig,
        condition: str,
        invokes: int,
        result: InvokeResult | None = None,
        version: str | None = None,
        trace: str | None = None,
    ) -> Outcome:
        log.info("lambda: async event %s failed (%s)", event.request_id, condition)
        if config.on_failure is not None:
            function_arn = self._function_arn(event, version)
            body = destination_record(event, function_arn, condition, invokes, result, version)
            finish = self._deliver(config.on_failure, body, event, condition, function_arn, trace)
            return Outcome(done=True, finish=finish)
        return Outcome(done=True, finish=self._dead_letter(event, condition, result, version))

    def _deliver(
        self,
        arn: str,
        body: str,
        event: QueuedEvent,
        condition: str,
        function_arn: str,
        trace: str | None,
    ) -> Callable[[Connection], None]:
        def deliver_record(conn: Connection) -> None:
            try:
                # A savepoint: a delivery that fails midway leaves nothing behind, and the
                # event still ends (as on AWS, a record that cannot be delivered is lost).
                with conn.begin_nested():
                    kind = "Success" if condition == "Success" else "Failure"
                    # The trace continues the chain through the destination (loop detection).
                    deliver(
                        self.platform,
                        conn,
                        arn,
                        body,
                        source="lambda",
                        detail_type=f"Lambda Function Invocation Result - {kind}",
                        resources=[function_arn],
                        trace=trace,
                    )
            except ServiceError as exc:
                log.warning(
                    "lambda: destination %s of event %s failed: %s", arn, event.request_id, exc
                )
            except Exception:
                log.exception("lambda: destination %s of event %s failed", arn, event.request_id)

        return deliver_record

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
                with conn.begin_nested():
                    deliver(
                        self.platform,
                        conn,
                        target,
                        event.payload.decode(errors="replace"),
                        attributes=attributes,
                    )
            except ServiceError as exc:
                log.warning("lambda: dead-letter target %s failed: %s", target, exc)
            except Exception:
                log.exception("lambda: dead-letter target %s failed", target)

        return dead_letter
