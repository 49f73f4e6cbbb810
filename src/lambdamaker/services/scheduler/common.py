"""What the Scheduler operations share: errors, ARNs, paging tokens, and the definition.

A *definition* is what CreateSchedule and UpdateSchedule carry (expression, zone, dates, state,
target, flexible window, completion action). ``parse_definition`` validates it as Scheduler
does and returns a ``Definition``; its ``document`` is what GetSchedule echoes back.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdamaker.engines.events.schedule import (
    RateSchedule,
    Schedule,
    ScheduleExpressionError,
    parse_schedule_expression,
    resolve_timezone,
)
from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext

DEFAULT_GROUP = "default"
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE = 86400
# Scheduler refuses a StartDate further in the past than this.
START_DATE_GRACE = timedelta(minutes=5)


class SchedulerValidationError(ServiceError):
    code = "ValidationException"
    status = 400


class SchedulerNotFoundError(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class SchedulerConflictError(ServiceError):
    code = "ConflictException"
    status = 409


def schedule_arn(ctx: RequestContext, group: str, name: str) -> str:
    return f"arn:aws:scheduler:{ctx.region}:{ctx.account_id}:schedule/{group}/{name}"


def group_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:scheduler:{ctx.region}:{ctx.account_id}:schedule-group/{name}"


def schedule_not_found(name: str) -> SchedulerNotFoundError:
    return SchedulerNotFoundError(f"Schedule {name} does not exist.")


def group_not_found(name: str) -> SchedulerNotFoundError:
    return SchedulerNotFoundError(f"Schedule group {name} does not exist.")


def encode_token(*parts: str) -> str:
    return "lm1." + base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


def decode_token(token: str) -> list[str]:
    try:
        if not token.startswith("lm1."):
            raise ValueError(token)
        parts = json.loads(base64.urlsafe_b64decode(token[4:].encode()))
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise ValueError(token)
        return parts
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SchedulerValidationError("Invalid NextToken.") from None


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


@dataclass(frozen=True)
class Definition:
    document: dict[str, Any]  # the API members as stored and echoed by GetSchedule
    schedule: Schedule
    tz: str
    start_us: int | None
    end_us: int | None
    window_minutes: int  # 0 when the flexible time window is OFF

    @property
    def state(self) -> str:
        return str(self.document.get("State", "ENABLED"))

    @property
    def is_rate(self) -> bool:
        return isinstance(self.schedule, RateSchedule)


_DEFINITION_MEMBERS = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "Description",
    "State",
    "KmsKeyArn",
    "Target",
    "FlexibleTimeWindow",
    "ActionAfterCompletion",
)


def parse_definition(params: dict[str, Any], now: datetime) -> Definition:
    """Validate a CreateSchedule/UpdateSchedule request's definition, as Scheduler does."""
    expression = params["ScheduleExpression"]
    try:
        schedule = parse_schedule_expression(expression)
    except ScheduleExpressionError as exc:
        raise SchedulerValidationError(exc.scheduler_message) from None
    tz = params.get("ScheduleExpressionTimezone") or "UTC"
    try:
        resolve_timezone(tz)
    except ScheduleExpressionError as exc:
        raise SchedulerValidationError(exc.message) from None
    start, end = params.get("StartDate"), params.get("EndDate")
    start_us = to_us(start) if start is not None else None
    end_us = to_us(end) if end is not None else None
    if start_us is not None and start_us < to_us(now - START_DATE_GRACE):
        raise SchedulerValidationError(
            "The StartDate you specify cannot be earlier than 5 minutes prior to the current time."
        )
    if end_us is not None and end_us <= to_us(now):
        raise SchedulerValidationError(
            "The EndDate you specify cannot be earlier than the current time."
        )
    if start_us is not None and end_us is not None and end_us <= start_us:
        raise SchedulerValidationError("The StartDate must come before the EndDate.")
    window = params["FlexibleTimeWindow"]
    minutes = window.get("MaximumWindowInMinutes")
    if window["Mode"] == "FLEXIBLE" and minutes is None:
        raise SchedulerValidationError(
            "MaximumWindowInMinutes must be provided when the FlexibleTimeWindow Mode is FLEXIBLE."
        )
    if window["Mode"] == "OFF" and minutes is not None:
        raise SchedulerValidationError(
            "MaximumWindowInMinutes must not be provided when the FlexibleTimeWindow Mode is OFF."
        )
    target = dict(params["Target"])
    _check_target(target)
    target.setdefault(
        "RetryPolicy",
        {
            "MaximumEventAgeInSeconds": DEFAULT_EVENT_AGE,
            "MaximumRetryAttempts": DEFAULT_RETRY_ATTEMPTS,
        },
    )
    document: dict[str, Any] = {
        k: params[k] for k in _DEFINITION_MEMBERS if params.get(k) is not None
    }
    document["Target"] = target
    document.setdefault("State", "ENABLED")
    document.setdefault("ActionAfterCompletion", "NONE")
    for key in ("StartDate", "EndDate"):
        if key in document:
            document[key] = to_us(document[key])
    return Definition(document, schedule, tz, start_us, end_us, int(minutes or 0))


def _check_target(target: dict[str, Any]) -> None:
    arn = str(target["Arn"])
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise SchedulerValidationError(f"Invalid target ARN {arn}.")
    if target.get("EventBridgeParameters") is not None and parts[2] != "events":
        raise SchedulerValidationError(
            "EventBridgeParameters can only be specified for EventBridge PutEvents targets."
        )
    if target.get("SqsParameters") is not None and parts[2] != "sqs":
        raise SchedulerValidationError(
            "SqsParameters can only be specified for Amazon SQS targets."
        )
    fifo = parts[2] == "sqs" and parts[5].endswith(".fifo")
    if fifo and not (target.get("SqsParameters") or {}).get("MessageGroupId"):
        raise SchedulerValidationError("MessageGroupId is required for FIFO queue targets.")


def document_out(document: dict[str, Any]) -> dict[str, Any]:
    """A stored document in the API's shape (dates back to datetimes)."""
    out = dict(document)
    for key in ("StartDate", "EndDate"):
        if key in out:
            out[key] = from_us(int(out[key]))
    return out
