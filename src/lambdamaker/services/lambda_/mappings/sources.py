"""The event sources a mapping reads, looked up by ARN.

The stream sources live in their services (``services/kinesis/source``,
``services/dynamodb/stream_source``) and are imported lazily: Lambda runs without those
services, and a source that is not available makes the check permissive (its poller then
reports the stream as missing) rather than refusing every mapping.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from lambdamaker.services.sqs import inprocess

if TYPE_CHECKING:
    from lambdamaker.platform import Platform
    from lambdamaker.services.lambda_.mappings.model import StreamSource

log = logging.getLogger("lambdamaker.lambda")

_STREAM_SOURCES = {
    "kinesis": ("kinesis", "lambdamaker.services.kinesis.source", "KinesisSource"),
    "dynamodb": (
        "dynamodb",
        "lambdamaker.services.dynamodb.stream_source",
        "DynamoDBStreamSource",
    ),
}


def stream_source(platform: Platform, kind: str, arn: str) -> StreamSource | None:
    """The stream source of ``arn``, or None when that service is not running here."""
    service, module_name, class_name = _STREAM_SOURCES[kind]
    if service not in platform.providers:
        return None
    try:
        module: Any = importlib.import_module(module_name)
    except ImportError:
        log.warning("lambda: no %s stream source in this build", kind)
        return None
    source: StreamSource = getattr(module, class_name)(platform, arn)
    return source


def source_exists(platform: Platform, kind: str, arn: str) -> bool:
    if kind == "sqs":
        return inprocess.queue_exists(platform, arn)  # no SQS here: no queue either
    source = stream_source(platform, kind, arn)
    return source is None or source.exists()
