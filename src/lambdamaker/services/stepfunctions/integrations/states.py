"""Nested executions: ``arn:aws:states:::states:startExecution`` (request-response, ``.sync``,
``.sync:2`` and ``.waitForTaskToken``), on this platform's stepfunctions provider in-process.

- request-response / ``.waitForTaskToken``: ``{ExecutionArn, StartDate, SdkHttpMetadata,
  SdkResponseMetadata}`` once the child is started (``StartDate`` in epoch milliseconds);
- ``.sync``: DescribeExecution's answer for the finished child, members in PascalCase and
  ``Input``/``Output`` as JSON text; ``.sync:2``: the same with ``Input``/``Output`` parsed;
- a child that ends FAILED, TIMED_OUT or ABORTED fails the Task with ``States.TaskFailed`` and
  that description (with its ``Error``/``Cause``) as compact JSON cause;
- when the parent's Task is cancelled (timeout, abort) while waiting, the child is stopped.

The provider offers ``start_execution(ctx, params)`` (StartExecution) and ``async def
await_execution(execution_arn) -> dict`` (DescribeExecution's output once terminal).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.errors import ServiceError
from lambdamaker.services.stepfunctions.integrations.calls import (
    CallFailed,
    NotProvided,
    call,
    compact_json,
    operation_model,
    to_json,
)
from lambdamaker.services.stepfunctions.integrations.faults import check_result_size, sdk_v1_error
from lambdamaker.services.stepfunctions.integrations.optimized import (
    ServiceStyle,
    call_optimized,
    unsupported_pattern,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

STYLE = ServiceStyle(
    "stepfunctions", "StepFunctions", "AWSStepFunctions", "AWSStepFunctionsException", recase=True
)
START_EXECUTION = "arn:aws:states:::states:startExecution"
_PATTERNS = ("", ".sync", ".sync:2", ".waitForTaskToken")


def _parsed(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def describe_as_task_result(description: dict[str, Any], *, parse: bool) -> dict[str, Any]:
    """DescribeExecution's answer (provider convention) as ``.sync`` / ``.sync:2`` return it."""
    shape = operation_model("stepfunctions", "DescribeExecution").output_shape
    answer = to_json(description, shape, recase=True, epoch_millis=True)
    out = dict(answer) if isinstance(answer, dict) else {}
    if parse:
        for key in ("Input", "Output"):
            if key in out:
                out[key] = _parsed(out[key])
    return out


def handlers(platform: Platform) -> dict[str, TaskHandler]:
    async def start_execution(request: TaskRequest) -> Any:
        if request.pattern not in _PATTERNS:
            raise unsupported_pattern(request)
        params = dict(request.parameters) if isinstance(request.parameters, dict) else {}
        _, answer = await call_optimized(platform, request, STYLE, "StartExecution", params)
        if request.pattern not in (".sync", ".sync:2"):
            return answer
        execution_arn = str(answer.get("ExecutionArn", ""))
        provider: Any = platform.providers.get("stepfunctions")
        try:
            description = await provider.await_execution(execution_arn)
        except ServiceError as exc:
            failure = CallFailed(exc, str(uuid.uuid4()), "stepfunctions")
            raise sdk_v1_error(failure, STYLE.prefix, STYLE.label, STYLE.fallback) from None
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(_stop(platform, request, execution_arn))
            raise
        result = describe_as_task_result(description, parse=request.pattern == ".sync:2")
        if result.get("Status") != "SUCCEEDED":
            raise StatesError("States.TaskFailed", compact_json(result))
        return check_result_size(result, "states")

    return {START_EXECUTION: start_execution}


async def _stop(platform: Platform, request: TaskRequest, execution_arn: str) -> None:
    """Stop a child whose parent Task ended first (best effort: it may have just finished)."""
    with contextlib.suppress(CallFailed, NotProvided):
        await call(
            platform,
            "stepfunctions",
            "StopExecution",
            {"executionArn": execution_arn},
            region=request.region,
            account_id=request.account_id,
        )
