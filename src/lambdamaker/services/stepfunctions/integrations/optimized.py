"""The shared shape of AWS's optimized request-response integrations (SQS, SNS, DynamoDB...).

One call of one operation with the Task's parameters; the provider's result with its member
names as the SDK v1 writes them, plus ``SdkHttpMetadata``/``SdkResponseMetadata`` where AWS adds
them; a refused call as ``<Prefix>.<Exception>`` with the SDK v1 cause text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.services.stepfunctions.integrations.calls import (
    CallFailed,
    CallResult,
    NotProvided,
    call,
    to_json,
)
from lambdamaker.services.stepfunctions.integrations.faults import (
    check_result_size,
    sdk_v1_error,
)
from lambdamaker.services.stepfunctions.integrations.metadata import sdk_metadata

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


@dataclass(frozen=True)
class ServiceStyle:
    """How one service's optimized integration names things."""

    service: str
    """botocore's service name (``sqs``)."""
    prefix: str
    """The error name's prefix (``SQS``, ``DynamoDB``)."""
    label: str
    """``Service:`` in the cause (``AmazonSQS``, ``AmazonDynamoDBv2``)."""
    fallback: str
    """The exception of an error the model does not declare (``AmazonSQSException``)."""
    metadata: bool = True
    """Whether results carry ``SdkHttpMetadata``/``SdkResponseMetadata``."""
    recase: bool = False
    """Whether member names are re-cased (Step Functions' own camelCase -> PascalCase)."""


def unsupported_pattern(request: TaskRequest) -> StatesError:
    return StatesError(
        "States.Runtime",
        f"The resource '{request.resource}' does not support the integration pattern "
        f"'{request.pattern}'.",
    )


async def call_optimized(
    platform: Platform, request: TaskRequest, style: ServiceStyle, operation: str, params: Any
) -> tuple[CallResult, dict[str, Any]]:
    """The call's raw result and its JSON form (metadata included when the style has it)."""
    try:
        result = await call(
            platform,
            style.service,
            operation,
            params,
            region=request.region,
            account_id=request.account_id,
        )
    except CallFailed as failure:
        raise sdk_v1_error(failure, style.prefix, style.label, style.fallback) from None
    except NotProvided as missing:
        raise StatesError("States.Runtime", str(missing)) from None
    output_shape = result.operation.output_shape
    answer = to_json(result.output, output_shape, recase=style.recase, epoch_millis=True)
    answer = dict(answer) if isinstance(answer, dict) else {}
    if style.metadata:
        answer.update(sdk_metadata(style.service, result))
    return result, answer


def operation_handler(
    platform: Platform,
    style: ServiceStyle,
    operation: str,
    patterns: tuple[str, ...] = ("", ".waitForTaskToken"),
) -> TaskHandler:
    """A handler running ``operation`` with the Task's parameters as they are."""

    async def handle(request: TaskRequest) -> Any:
        if request.pattern not in patterns:
            raise unsupported_pattern(request)
        _, answer = await call_optimized(platform, request, style, operation, request.parameters)
        return check_result_size(answer, style.service)

    return handle
