"""FilterCriteria: which records reach the function.

Each filter is an EventBridge pattern (``engines.events.patterns``) matched against the record
as Lambda describes it: the record's metadata as the event carries it, with the payload decoded
for matching (never changed in what the function receives):

- SQS: ``body`` is matched as parsed JSON when it is a JSON object or array; otherwise as the
  plain string.
- Kinesis: the fields of the record's ``kinesis`` object at the top level, with ``data``
  base64-decoded and matched as parsed JSON; when it is not JSON the record can only match
  filters that say nothing about ``data``.
- DynamoDB Streams: the record as it is (``dynamodb.NewImage`` etc., typed values).

A record passes when any filter matches (filters are ORed); no filters pass everything.
Invariant: a record that no filter matches is dropped and counted as processed: for streams
the checkpoint moves past it, for SQS the message is deleted.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from lambdamaker.engines.events.patterns import EventPattern, InvalidEventPattern
from lambdamaker.errors import InvalidParameterValueError

MAX_FILTERS = 5
_MISSING = object()


def compile_filters(criteria: dict[str, Any] | None) -> tuple[EventPattern, ...]:
    """The FilterCriteria of a request, compiled (``InvalidParameterValueException`` if bad)."""
    filters = (criteria or {}).get("Filters") or []
    if len(filters) > MAX_FILTERS:
        raise InvalidParameterValueError(
            f"Invalid filter criteria: at most {MAX_FILTERS} filters are allowed."
        )
    compiled = []
    for entry in filters:
        pattern = entry.get("Pattern")
        if not isinstance(pattern, str):
            raise InvalidParameterValueError("Invalid filter pattern definition.")
        try:
            compiled.append(EventPattern.compile(pattern))
        except InvalidEventPattern as exc:
            raise InvalidParameterValueError(
                f"Invalid filter pattern definition. {exc.reason}"
            ) from exc
    return tuple(compiled)


def _json(text: str | bytes) -> Any:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _MISSING
    return value if isinstance(value, dict | list) else _MISSING


def matchable(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as the filters see it."""
    if kind == "sqs":
        body = record.get("body", "")
        parsed = _json(body)
        return record | {"body": body if parsed is _MISSING else parsed}
    if kind == "kinesis":
        inner = record.get("kinesis") or {}
        try:
            data = base64.b64decode(inner.get("data", ""), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        parsed = _json(data)
        # Lambda matches Kinesis filters against the ``kinesis`` object's fields (partitionKey,
        # sequenceNumber, data...) at the top level, with ``data`` decoded.
        view = {k: v for k, v in record.items() if k != "kinesis"}
        view.update({k: v for k, v in inner.items() if k != "data"})
        if parsed is not _MISSING:
            view["data"] = parsed
        return view
    return record


def passes(filters: tuple[EventPattern, ...], kind: str, record: dict[str, Any]) -> bool:
    if not filters:
        return True
    view = matchable(kind, record)
    return any(f.matches(view) for f in filters)
