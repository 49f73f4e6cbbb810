"""SNS: ``arn:aws:states:::sns:publish`` (request-response and ``.waitForTaskToken``).

A ``Message`` that is not a string is published as its compact JSON text. Result:
``{MessageId, SdkHttpMetadata, SdkResponseMetadata}`` (``SequenceNumber`` for FIFO topics).
Errors: ``SNS.NotFoundException`` for a missing topic, ``SNS.AmazonSNSException`` for an error
the model does not declare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdamaker.engines.workflows.tasks import TaskHandler
from lambdamaker.services.stepfunctions.integrations.optimized import (
    ServiceStyle,
    operation_handler,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

STYLE = ServiceStyle("sns", "SNS", "AmazonSNS", "AmazonSNSException")
PUBLISH = "arn:aws:states:::sns:publish"


def handlers(platform: Platform) -> dict[str, TaskHandler]:
    return {PUBLISH: operation_handler(platform, STYLE, "Publish")}
