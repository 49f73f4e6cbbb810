"""Wait-state time arithmetic and the one timestamp parser ASL uses.

``parse_timestamp`` is shared by the Wait state and the Choice state's ``IsTimestamp`` /
``Timestamp*`` comparators, so the two never disagree about what a timestamp is.

What counts as a timestamp (AWS's docs: "the RFC3339 profile of ISO 8601, with the further
restrictions that an uppercase T must separate the date and time portions, and an uppercase Z
must denote that a numeric time zone offset is not present"; its run-time causes name Java's
"ISO-8601 extended offset date-time" parser):

- ``YYYY-MM-DDTHH:MM[:SS[.fraction]]`` then ``Z`` or ``+HH:MM`` / ``-HH:MM`` (``[:SS]``);
- the fraction has 1 to 9 digits (nanoseconds); the calendar and clock must be real (no month
  13, hour 24 or February 30); an offset is at most 18 hours;
- a lowercase ``t``/``z``, a space separator, a date alone or a missing offset are not timestamps.

Invariants:
- times are epoch seconds (``float``) read from the ``now`` the caller passes; nothing here
  reads a clock, so the interpreter's fake clock drives every test;
- a Timestamp deadline is truncated to whole seconds (AWS: "Step Functions considers the time
  value up to seconds and truncates milliseconds");
- a deadline may lie in the past; the interpreter then waits zero seconds;
- bad run-time values raise ``StatesError`` with AWS's error name and cause (without the
  ``An error occurred while executing the state ...`` prefix, which the interpreter adds).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from lambdamaker.engines.workflows.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from lambdamaker.engines.workflows.paths import PathError, read_path, to_json

MAX_SECONDS = 99_999_999
"""The largest wait AWS allows for ``Seconds`` (and JSONata ``Seconds`` expressions)."""

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:(Z)|([+-])(\d{2}):(\d{2})(?::(\d{2}))?)"
)

_ISO_CAUSE = "does not reference a valid ISO-8601 extended offset date-time format string"


@functools.lru_cache(maxsize=1024)
def _parse(text: str) -> tuple[datetime, int] | None:
    """(the aware datetime to the second, nanoseconds) of an ASL timestamp, or None."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = match.group(7) or ""
    offset = timedelta(0)
    if not match.group(8):
        off_h, off_m, off_s = int(match.group(10)), int(match.group(11)), int(match.group(12) or 0)
        offset = timedelta(hours=off_h, minutes=off_m, seconds=off_s)
        if off_m > 59 or off_s > 59 or offset > timedelta(hours=18):
            return None
        if match.group(9) == "-":
            offset = -offset
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError:  # no such date or time (month 13, hour 24, February 30 ...)
        return None
    return moment, int(fraction.ljust(9, "0")) if fraction else 0


def timestamp_instant(text: str) -> tuple[int, int] | None:
    """``(epoch seconds, nanoseconds)`` of an ASL timestamp, or None if ``text`` is not one.

    Choice comparisons use this form: it keeps all nine fraction digits, which ``datetime``
    (microseconds) cannot."""
    parsed = _parse(text)
    return None if parsed is None else (int(parsed[0].timestamp()), parsed[1])


def parse_timestamp(text: str) -> datetime | None:
    """The timestamp ``text`` denotes (aware, in its own offset; fraction cut to
    microseconds), or None if it is not an AWS-accepted timestamp."""
    parsed = _parse(text) if isinstance(text, str) else None
    if parsed is None:
        return None
    moment, nanos = parsed
    return moment.replace(microsecond=nanos // 1000)


def _shown(value: Any) -> str:
    """A value as AWS prints it after ``path ==`` in a cause: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else to_json(value)


def _timestamp_deadline(text: Any) -> float | None:
    # Whole seconds only: AWS truncates a Wait timestamp's fraction.
    instant = timestamp_instant(text) if isinstance(text, str) else None
    return None if instant is None else float(instant[0])


def wait_deadline(
    state: Mapping[str, Any],
    data: Any,
    context: Mapping[str, Any],
    variables: Mapping[str, Any],
    now: float,
) -> float:
    """The epoch second a JSONPath Wait state waits until (Seconds | Timestamp | SecondsPath |
    TimestampPath); ``StatesError(States.Runtime)`` for a bad path value."""
    if "Seconds" in state:
        return now + state["Seconds"]
    if "Timestamp" in state:
        deadline = _timestamp_deadline(state["Timestamp"])
        if deadline is None:  # validation rejects this; kept so a bad definition cannot crash
            raise StatesError(
                RUNTIME, f"The Timestamp parameter {_ISO_CAUSE}: {state['Timestamp']}"
            )
        return deadline
    if "SecondsPath" in state:
        path = state["SecondsPath"]
        seconds = _read(path, "SecondsPath", data, context, variables)
        if type(seconds) is not int:
            raise StatesError(
                RUNTIME,
                f"The SecondsPath parameter cannot be parsed as a long value: {path} == {_shown(seconds)}",
            )
        if seconds < 0:
            raise StatesError(
                RUNTIME,
                f"The SecondsPath parameter references a negative value: {path} == {seconds}",
            )
        return now + seconds
    if "TimestampPath" in state:
        path = state["TimestampPath"]
        text = _read(path, "TimestampPath", data, context, variables)
        deadline = _timestamp_deadline(text)
        if deadline is None:
            raise StatesError(
                RUNTIME, f"The TimestampPath parameter {_ISO_CAUSE}: {path} == {_shown(text)}"
            )
        return deadline
    raise StatesError(
        RUNTIME, "The Wait state has none of Seconds, Timestamp, SecondsPath or TimestampPath"
    )


def _read(
    path: str, field: str, data: Any, context: Mapping[str, Any], variables: Mapping[str, Any]
) -> Any:
    try:
        return read_path(path, data, context, variables)
    except PathError:
        raise StatesError(
            RUNTIME, f"The {field} parameter does not reference an input value: {path}"
        ) from None


def deadline_from(seconds: Any, timestamp: Any, now: float) -> float:
    """The deadline of a JSONata Wait whose ``Seconds`` or ``Timestamp`` (the other is None)
    was already evaluated; ``StatesError(States.QueryEvaluationError)`` for a bad value."""
    if seconds is not None:
        # JSONata numbers are doubles, so an integral float (``10 / 2``) is a whole second count.
        whole = type(seconds) is float and math.isfinite(seconds) and seconds.is_integer()
        if not (type(seconds) is int or whole) or not 0 <= seconds <= MAX_SECONDS:
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The Seconds field must be an integer value from 0 to {MAX_SECONDS}: {_shown(seconds)}",
            )
        return now + int(seconds)
    if timestamp is not None:
        deadline = _timestamp_deadline(timestamp)
        if deadline is None:
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format "
                f"string: {_shown(timestamp)}",
            )
        return deadline
    raise StatesError(RUNTIME, "The Wait state has neither Seconds nor Timestamp")
