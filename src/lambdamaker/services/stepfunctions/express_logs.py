"""An execution's events in CloudWatch Logs, as Step Functions logs them when a state machine's
``loggingConfiguration`` has a level other than OFF.

One JSON line per event (``id``, ``type``, ``details``, ``previous_event_id``,
``event_timestamp`` in epoch milliseconds, ``execution_arn``, ``redrive_count``), to the log
group named by the first destination's ``logGroupArn``. ``ALL`` logs every event, ``ERROR``
the failing ones, ``FATAL`` only the execution's own failure; ``includeExecutionData: false``
drops inputs and outputs. The log store buffers the lines (``LogStore.append``): shipping
never blocks an execution on the store.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.execution import ExecutionSpec
from lambdamaker.engines.workflows.history import HistoryEvent

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

FATAL_TYPES = frozenset({"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
DATA_KEYS = ("input", "output", "parameters")


def wanted(level: str, event_type: str) -> bool:
    if level == "ALL":
        return True
    if level == "FATAL":
        return event_type in FATAL_TYPES
    if level == "ERROR":
        return event_type.endswith(("Failed", "TimedOut", "Aborted", "ScheduleFailed"))
    return False


def group_name(log_group_arn: str) -> str | None:
    """``arn:aws:logs:<region>:<account>:log-group:<name>[:*]`` -> ``<name>``."""
    _, marker, rest = log_group_arn.partition(":log-group:")
    if not marker or not rest:
        return None
    return rest[:-2] if rest.endswith(":*") else rest


def log_lines(
    spec: ExecutionSpec, events: list[HistoryEvent], config: dict[str, Any]
) -> list[tuple[int, str]]:
    level = str(config.get("level", "OFF"))
    include_data = bool(config.get("includeExecutionData", False))
    lines: list[tuple[int, str]] = []
    for event in events:
        if not wanted(level, event.type):
            continue
        details = dict(event.details)
        if not include_data:
            for key in DATA_KEYS:
                details.pop(key, None)
        millis = round(event.timestamp.timestamp() * 1000)
        line = {
            "id": str(event.id),
            "type": event.type,
            "details": details,
            "previous_event_id": str(event.previous_event_id),
            "event_timestamp": str(millis),
            "execution_arn": spec.execution_arn,
            "redrive_count": str(spec.redrive_count),
        }
        lines.append((millis, json.dumps(line, separators=(",", ":"))))
    return lines


def ship_events(
    platform: Platform, spec: ExecutionSpec, events: list[HistoryEvent], config: dict[str, Any]
) -> int:
    """Append the wanted events to the configured group; returns how many lines."""
    destinations = config.get("destinations") or []
    arn = ""
    for destination in destinations:
        arn = (destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn", "")
        if arn:
            break
    group = group_name(arn) if arn else None
    if group is None:
        return 0
    lines = log_lines(spec, events, config)
    if not lines:
        return 0
    kind = "express" if spec.type == "EXPRESS" else "states"
    day = spec.start_time.strftime("%Y/%m/%d")
    stream = f"{kind}/{spec.state_machine_name}/{day}/{spec.execution_arn.rsplit(':', 1)[-1]}"
    platform.logs.append(group, stream, lines)
    return len(lines)
