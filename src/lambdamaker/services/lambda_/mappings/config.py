"""Validating an event source mapping's settings as Lambda does, and building what it returns.

Invariants:

- ``validate`` returns the complete stored settings (``config`` column): every setting of the
  source's kind with its default filled in, in the response's member names, so Get returns the
  same members AWS does whether or not the caller set them. Settings of the other kind are
  refused with ``InvalidParameterValueException`` and never stored.
- An update validates the merged settings (old ones overlaid by the request) as a create would,
  so a mapping never holds settings a create would refuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from lambdamaker.errors import InvalidParameterValueError
from lambdamaker.services.lambda_.mappings.filters import compile_filters
from lambdamaker.services.lambda_.mappings.model import Mapping

STREAM_KINDS = frozenset({"kinesis", "dynamodb"})

# Settings only streams take (refused for SQS), with their defaults in the response.
_STREAM_DEFAULTS: dict[str, Any] = {
    "ParallelizationFactor": 1,
    "DestinationConfig": {"OnFailure": {}},
    "MaximumRecordAgeInSeconds": -1,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "TumblingWindowInSeconds": 0,
}
_UPDATABLE = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FilterCriteria",
    "ScalingConfig",
    "FunctionResponseTypes",
    *_STREAM_DEFAULTS,
)


def source_kind(arn: str) -> str:
    """``sqs``, ``kinesis`` or ``dynamodb`` for a supported event source ARN."""
    parts = arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn":
        service, resource = parts[2], ":".join(parts[5:])
        if service == "sqs" and len(parts) == 6 and resource:
            return "sqs"
        if service == "kinesis" and resource.startswith("stream/"):
            return "kinesis"
        if service == "dynamodb" and "/stream/" in resource:
            return "dynamodb"
    raise InvalidParameterValueError(f"Unrecognized event source: {arn}.")


def _bad(message: str) -> InvalidParameterValueError:
    return InvalidParameterValueError(message)


def _int(settings: dict[str, Any], name: str) -> int:
    return int(settings[name])


def validate(
    kind: str, source_arn: str, request: dict[str, Any], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The stored settings of a mapping of ``kind``: ``current`` (an update) overlaid by the
    request's settings, validated and completed with defaults."""
    given = {
        k: request[k]
        for k in (*_UPDATABLE, "StartingPosition", "StartingPositionTimestamp")
        if request.get(k) is not None
    }
    stream = kind in STREAM_KINDS
    if not stream:
        refused = [
            k
            for k in (*_STREAM_DEFAULTS, "StartingPosition", "StartingPositionTimestamp")
            if k in given
        ]
        if refused:
            if refused[0] == "StartingPosition":
                raise _bad("StartingPosition is not valid for SQS event sources.")
            raise _bad(f"Unsupported {refused[0]} parameter for given event source mapping type.")
    elif "ScalingConfig" in given:
        raise _bad("Unsupported ScalingConfig parameter for given event source mapping type.")
    settings: dict[str, Any] = dict(current or {})
    if current is None:
        settings["BatchSize"] = 10 if kind == "sqs" else 100
        settings["MaximumBatchingWindowInSeconds"] = 0
        settings["FunctionResponseTypes"] = []
        if stream:
            settings.update(orjson.loads(orjson.dumps(_STREAM_DEFAULTS)))
    settings.update(given)

    window = _int(settings, "MaximumBatchingWindowInSeconds")
    if not 0 <= window <= 300:
        raise _bad("MaximumBatchingWindowInSeconds must be between 0 and 300.")
    batch = _int(settings, "BatchSize")
    if kind == "sqs":
        fifo = source_arn.endswith(".fifo")
        if fifo and batch > 10:
            raise _bad("Batch size for FIFO queue sources must be between 1 and 10.")
        if batch > 10 and window == 0:
            raise _bad(
                "Maximum batch window in seconds must be greater than 0 if maximum batch "
                "size is greater than 10"
            )
        if not 1 <= batch <= 10000:
            raise _bad("Batch size for SQS queue sources must be between 1 and 10000.")
        scaling = settings.get("ScalingConfig")
        if scaling:
            maximum = scaling.get("MaximumConcurrency")
            if maximum is not None and not 2 <= int(maximum) <= 1000:
                raise _bad("MaximumConcurrency must be between 2 and 1000.")
    else:
        high = 10000 if kind == "kinesis" else 1000
        if not 1 <= batch <= high:
            label = "Kinesis stream" if kind == "kinesis" else "DynamoDB stream"
            raise _bad(f"BatchSize must be between 1 and {high} for {label} event sources.")
        _validate_stream(kind, source_arn, settings, current is None)
    types = settings.get("FunctionResponseTypes") or []
    if any(t != "ReportBatchItemFailures" for t in types):
        raise _bad("Invalid FunctionResponseTypes: only ReportBatchItemFailures is supported.")
    criteria = settings.get("FilterCriteria")
    if criteria is not None:
        compile_filters(criteria)
        if not criteria.get("Filters"):
            settings.pop("FilterCriteria")
    return settings


def _validate_stream(kind: str, source_arn: str, settings: dict[str, Any], creating: bool) -> None:
    position = settings.get("StartingPosition")
    if creating:
        if position is None:
            raise _bad(
                "1 validation error detected: Value null at 'startingPosition' failed to "
                "satisfy constraint: Member must not be null."
            )
        if kind == "dynamodb" and position == "AT_TIMESTAMP":
            raise _bad(f"Unsupported starting position for arn type: {source_arn}")
        stamp = settings.get("StartingPositionTimestamp")
        if position == "AT_TIMESTAMP":
            if stamp is None:
                raise _bad("Need to specify a timestamp")
            if isinstance(stamp, datetime):
                settings["StartingPositionTimestamp"] = stamp.timestamp()
        elif stamp is not None:
            raise _bad(
                "StartingPositionTimestamp is only valid when StartingPosition is AT_TIMESTAMP."
            )
    if not 1 <= _int(settings, "ParallelizationFactor") <= 10:
        raise _bad("ParallelizationFactor must be between 1 and 10.")
    retries = _int(settings, "MaximumRetryAttempts")
    if not -1 <= retries <= 10000:
        raise _bad("MaximumRetryAttempts must be between -1 and 10000.")
    age = _int(settings, "MaximumRecordAgeInSeconds")
    if not (age == -1 or 60 <= age <= 604800):
        raise _bad("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.")
    if not 0 <= _int(settings, "TumblingWindowInSeconds") <= 900:
        raise _bad("TumblingWindowInSeconds must be between 0 and 900.")
    on_failure = (settings.get("DestinationConfig") or {}).get("OnFailure") or {}
    destination = on_failure.get("Destination")
    if destination is not None:
        parts = str(destination).split(":")
        if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("sqs", "sns"):
            raise _bad(
                f"Unsupported DestinationConfig parameter for given event source mapping type: "
                f"{destination}. Only SQS and SNS destinations are supported."
            )
    settings["DestinationConfig"] = {"OnFailure": dict(on_failure)}


def mapping_of(row: Any, region: str) -> Mapping:
    """The poller's view of a mapping row."""
    settings = orjson.loads(row.config)
    kind = settings["Kind"]
    stamp = settings.get("StartingPositionTimestamp")
    filters = tuple(
        orjson.loads(f["Pattern"])
        for f in (settings.get("FilterCriteria") or {}).get("Filters", [])
    )
    on_failure = (settings.get("DestinationConfig") or {}).get("OnFailure") or {}
    return Mapping(
        uuid=row.uuid,
        account=row.account,
        region=region,
        function_arn=row.function_arn,
        source_arn=row.source_arn,
        kind=kind,
        batch_size=int(settings["BatchSize"]),
        window_s=int(settings.get("MaximumBatchingWindowInSeconds") or 0),
        starting_position=settings.get("StartingPosition"),
        starting_timestamp_ms=int(float(stamp) * 1000) if stamp is not None else None,
        parallelization=int(settings.get("ParallelizationFactor") or 1),
        report_item_failures="ReportBatchItemFailures"
        in (settings.get("FunctionResponseTypes") or []),
        bisect=bool(settings.get("BisectBatchOnFunctionError")),
        max_retries=int(settings.get("MaximumRetryAttempts", -1)),
        max_record_age_s=int(settings.get("MaximumRecordAgeInSeconds", -1)),
        on_failure_arn=on_failure.get("Destination"),
        tumbling_window_s=int(settings.get("TumblingWindowInSeconds") or 0),
        filters=filters,
        max_concurrency=(settings.get("ScalingConfig") or {}).get("MaximumConcurrency"),
        enabled=bool(settings.get("Enabled", True)),
    )


def describe(row: Any, region: str) -> dict[str, Any]:
    """EventSourceMappingConfiguration of a mapping row, as Lambda returns it."""
    settings = orjson.loads(row.config)
    out: dict[str, Any] = {"UUID": row.uuid}
    for key, value in settings.items():
        if key not in ("Kind", "Enabled"):
            out[key] = value
    out.update(
        EventSourceArn=row.source_arn,
        FunctionArn=row.function_arn,
        LastModified=row.modified_ms / 1000,
        State=row.state,
        StateTransitionReason=row.state_reason,
        EventSourceMappingArn=(
            f"arn:aws:lambda:{region}:{row.account}:event-source-mapping:{row.uuid}"
        ),
    )
    if row.last_result:
        out["LastProcessingResult"] = row.last_result
    return out
