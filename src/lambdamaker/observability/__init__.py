"""Observability: function logs (CloudWatch Logs' store) and metering.

- ``logs.LogStore``: log groups, streams and events in the metadata store. Environments append
  through the ``LogSink`` protocol without I/O; a writer thread commits batches. The CloudWatch
  Logs provider (``services.logs``) reads and writes through it.
- ``filter_pattern``: the CloudWatch Logs filter pattern language, parsed into matchers.
- ``metering.Meter``: per-minute usage of each function (requests, errors, throttles, cold
  starts, durations, GB-seconds), batched off the invoke path, for cost reports.

Metrics (CloudWatch, Prometheus) and traces come later and belong here too.
"""

from lambdamaker.observability.filter_pattern import (
    FilterPattern,
    FilterPatternError,
    compile_pattern,
)
from lambdamaker.observability.logs import LogStore
from lambdamaker.observability.metering import Meter, MeterSink, Usage, UsageMinute

__all__ = [
    "FilterPattern",
    "FilterPatternError",
    "LogStore",
    "Meter",
    "MeterSink",
    "Usage",
    "UsageMinute",
    "compile_pattern",
]
