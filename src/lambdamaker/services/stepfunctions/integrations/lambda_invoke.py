"""Lambda: ``arn:aws:states:::lambda:invoke`` (optimized) and plain function ARNs (legacy).

The function runs through the Lambda provider's own ``Invoke`` in-process (throttling,
versions, aliases and the recursion guard included).

- Payload sent: the ``Payload`` parameter (optimized) or the whole effective input (legacy); a
  string that is valid JSON is sent as is, anything else as its compact JSON (``None`` -> ``{}``).
- ``lambda:invoke`` result: ``{ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
  StatusCode}`` with ``Payload`` parsed from JSON (kept as text when it is not JSON); a plain
  function ARN's result is the parsed payload alone.
- A function error fails the Task with the function's ``errorType`` as the error name (falling
  back to ``Exception``); the cause is the error document: compact JSON for ``lambda:invoke``,
  the payload as the function wrote it for a plain ARN.
- A refused call (no such function, throttled...) fails with ``Lambda.<Exception>`` and the
  SDK v1 cause text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.services.stepfunctions.integrations.calls import CallFailed, CallResult, call
from lambdamaker.services.stepfunctions.integrations.faults import (
    check_result_size,
    sdk_v1_error,
)
from lambdamaker.services.stepfunctions.integrations.metadata import sdk_metadata

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

INVOKE = "arn:aws:states:::lambda:invoke"
FUNCTION_PREFIX = "arn:aws:lambda:"


def payload_bytes(payload: Any) -> bytes:
    if payload is None:
        return b"{}"
    if isinstance(payload, str):
        try:
            orjson.loads(payload)
        except orjson.JSONDecodeError:
            return orjson.dumps(payload)
        return payload.encode()
    return orjson.dumps(payload)


def parse_payload(raw: Any) -> Any:
    data = bytes(raw) if isinstance(raw, bytes | bytearray) else str(raw or "").encode()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode("utf-8", errors="replace")


def _raw_text(raw: Any) -> str:
    if isinstance(raw, bytes | bytearray):
        return bytes(raw).decode("utf-8", errors="replace")
    return str(raw or "")


def function_error(output: dict[str, Any], *, compact: bool) -> StatesError:
    raw = output.get("Payload")
    document = parse_payload(raw)
    error = "Exception"
    if isinstance(document, dict) and isinstance(document.get("errorType"), str):
        error = document["errorType"]
    cause = orjson.dumps(document).decode() if compact else _raw_text(raw)
    return StatesError(error, cause)


async def _invoke(platform: Platform, request: TaskRequest, params: dict[str, Any]) -> CallResult:
    try:
        return await call(
            platform,
            "lambda",
            "Invoke",
            params,
            region=request.region,
            account_id=request.account_id,
        )
    except CallFailed as failure:
        raise sdk_v1_error(failure, "Lambda", "AWSLambda", "AWSLambdaException") from None


def invoke_handler(platform: Platform) -> TaskHandler:
    """The ``arn:aws:states:::lambda:invoke`` handler (request-response and
    ``.waitForTaskToken``)."""

    async def handle(request: TaskRequest) -> Any:
        if request.pattern not in ("", ".waitForTaskToken"):
            raise StatesError(
                "States.Runtime",
                f"The resource '{request.resource}' does not support the integration pattern "
                f"'{request.pattern}'.",
            )
        params = dict(request.parameters) if isinstance(request.parameters, dict) else {}
        if "Payload" in params:
            params["Payload"] = payload_bytes(params["Payload"])
        result = await _invoke(platform, request, params)
        output = result.output
        if output.get("FunctionError"):
            raise function_error(output, compact=True)
        version = str(output.get("ExecutedVersion") or "$LATEST")
        answer: dict[str, Any] = {
            "ExecutedVersion": version,
            "Payload": parse_payload(output.get("Payload")),
            **sdk_metadata("lambda", result, executed_version=version),
            "StatusCode": output.get("StatusCode", 200),
        }
        if output.get("LogResult"):
            answer["LogResult"] = output["LogResult"]
        return check_result_size(answer, "lambda")

    return handle


def function_handler(platform: Platform) -> TaskHandler:
    """The handler of plain function ARNs (``arn:aws:lambda:<region>:<account>:function:f``)."""

    async def handle(request: TaskRequest) -> Any:
        params = {"FunctionName": request.base, "Payload": payload_bytes(request.parameters)}
        result = await _invoke(platform, request, params)
        output = result.output
        if output.get("FunctionError"):
            raise function_error(output, compact=False)
        return check_result_size(parse_payload(output.get("Payload")), request.base)

    return handle
