"""What the EventBridge operations share: errors, ARNs, bus names, schedule syntax, tokens."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from lambdamaker.engines.events.patterns import EventPattern, InvalidEventPattern
from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext

DEFAULT_BUS = "default"
MAX_TARGETS_PER_RULE = 5


class EventsValidationError(ServiceError):
    code = "ValidationException"
    status = 400


class EventsNotFoundError(ServiceError):
    code = "ResourceNotFoundException"
    status = 400


class AlreadyExistsError(ServiceError):
    code = "ResourceAlreadyExistsException"
    status = 400


class InvalidPatternError(ServiceError):
    code = "InvalidEventPatternException"
    status = 400


class LimitExceededError(ServiceError):
    code = "LimitExceededException"
    status = 400


BUS_ARN = re.compile(r"arn:aws[\w-]*:events:([\w-]+):(\d{12}):event-bus/([\w/.\-]+)")
_ARN = re.compile(r"arn:aws[\w-]*:[a-z0-9\-]+:[\w-]*:(\d{12})?:.+")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")


def bus_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:events:{ctx.region}:{ctx.account_id}:event-bus/{name}"


def rule_arn(ctx: RequestContext, bus: str, name: str) -> str:
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{ctx.region}:{ctx.account_id}:rule/{path}"


def bus_name_of(ctx: RequestContext, value: str | None) -> str:
    """A bus name from ``EventBusName`` (a name or an ARN, absent meaning ``default``)."""
    if not value:
        return DEFAULT_BUS
    if not value.startswith("arn:"):
        return value
    m = BUS_ARN.fullmatch(value)
    if m is None:
        raise EventsValidationError(
            f"Parameter {value} is not valid. Reason: Provided Arn is not in correct format."
        )
    if m.group(2) != ctx.account_id or m.group(1) != ctx.region:
        raise EventsNotFoundError(f"Event bus {m.group(3)} does not exist.")
    return m.group(3)


def bus_not_found(name: str) -> EventsNotFoundError:
    return EventsNotFoundError(f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus: str) -> EventsNotFoundError:
    return EventsNotFoundError(f"Rule {name} does not exist on EventBus {bus}.")


def compile_pattern(text: str) -> EventPattern:
    try:
        return EventPattern.compile(text)
    except InvalidEventPattern as exc:
        raise InvalidPatternError(str(exc)) from exc


def is_valid_arn(text: str) -> bool:
    return _ARN.fullmatch(text) is not None


def check_schedule(expression: str) -> None:
    """The syntax AWS accepts: ``rate(1 minute)``/``rate(N minutes)``... or a six-field cron."""
    m = _RATE.fullmatch(expression)
    if m is not None:
        value, unit = int(m.group(1)), m.group(2)
        if value > 0 and (value == 1) == (not unit.endswith("s")):
            return
    elif expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        # Day-of-month and day-of-week can't both be given: one of them must be '?'.
        if len(fields) == 6 and "?" in (fields[2], fields[4]):
            return
    raise EventsValidationError("Parameter ScheduleExpression is not valid.")


def encode_token(name: str) -> str:
    return "lm1." + base64.urlsafe_b64encode(name.encode()).decode()


def decode_token(token: str) -> str:
    if not token.startswith("lm1."):
        raise EventsValidationError("The NextToken provided is invalid.")
    try:
        return base64.urlsafe_b64decode(token[4:].encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise EventsValidationError("The NextToken provided is invalid.") from exc


def page_limit(params: dict[str, Any], default: int = 100) -> int:
    return int(params.get("Limit") or default)
