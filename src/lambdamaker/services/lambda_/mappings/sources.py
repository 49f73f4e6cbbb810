"""The event sources a mapping reads, looked up by ARN.

The stream sources live in their services (``services/kinesis/source``,
``services/dynamodb/stream_source``); a source whose service is not running on this platform
does not exist (a mapping to it is refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdamaker.services.sqs import inprocess

if TYPE_CHECKING:
    from lambdamaker.platform import Platform
    from lambdamaker.services.lambda_.mappings.model import StreamSource


def stream_source(platform: Platform, kind: str, arn: str) -> StreamSource | None:
    """The stream source of ``arn``, or None when that service is not running here."""
    # Imported here: the sources implement ``mappings.model``, whose package imports the
    # Lambda provider, which imports this module.
    from lambdamaker.services.dynamodb.stream_source import DynamoDBStreamSource
    from lambdamaker.services.kinesis.source import KinesisSource

    if kind not in platform.providers:
        return None
    if kind == "kinesis":
        return KinesisSource(platform, arn)
    return DynamoDBStreamSource(platform, arn)


def source_exists(platform: Platform, kind: str, arn: str) -> bool:
    if kind == "sqs":
        return inprocess.queue_exists(platform, arn)  # no SQS here: no queue either
    source = stream_source(platform, kind, arn)
    return source is not None and source.exists()
