"""SQS: ``arn:aws:states:::sqs:sendMessage`` (request-response and ``.waitForTaskToken``).

A ``MessageBody`` that is not a string is sent as its compact JSON text (AWS does the same).
Result: ``{MD5OfMessageBody, MessageId, SdkHttpMetadata, SdkResponseMetadata}`` (plus the
attribute digests and sequence number when present). Errors: ``SQS.AmazonSQSException`` for
the undeclared ones (a missing required parameter is ``MissingParameter``, as SQS's query API
says it), ``SQS.<Modelled>Exception`` otherwise.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.errors import ServiceError
from lambdamaker.services.stepfunctions.integrations.calls import CallFailed, operation_model
from lambdamaker.services.stepfunctions.integrations.faults import (
    check_result_size,
    sdk_v1_error,
)
from lambdamaker.services.stepfunctions.integrations.optimized import (
    ServiceStyle,
    call_optimized,
    unsupported_pattern,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

STYLE = ServiceStyle("sqs", "SQS", "AmazonSQS", "AmazonSQSException")
SEND_MESSAGE = "arn:aws:states:::sqs:sendMessage"


def _check_required(params: dict[str, Any]) -> None:
    shape = operation_model("sqs", "SendMessage").input_shape
    for member in shape.required_members if shape is not None else []:
        if params.get(member) is None:
            error = ServiceError(
                f"The request must contain the parameter {member}.", code="MissingParameter"
            )
            failure = CallFailed(error, str(uuid.uuid4()), "sqs")
            raise sdk_v1_error(failure, STYLE.prefix, STYLE.label, STYLE.fallback)


def handlers(platform: Platform) -> dict[str, TaskHandler]:
    async def send_message(request: TaskRequest) -> Any:
        if request.pattern not in ("", ".waitForTaskToken"):
            raise unsupported_pattern(request)
        params = dict(request.parameters) if isinstance(request.parameters, dict) else {}
        _check_required(params)
        _, answer = await call_optimized(platform, request, STYLE, "SendMessage", params)
        return check_result_size(answer, "sqs")

    return {SEND_MESSAGE: send_message}
