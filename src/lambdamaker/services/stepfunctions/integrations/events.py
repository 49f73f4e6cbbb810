"""EventBridge: ``arn:aws:states:::events:putEvents`` (request-response and
``.waitForTaskToken``).

A ``Detail`` that is not a string is sent as its compact JSON text. Result: ``{Entries,
FailedEntryCount}`` (no HTTP metadata, as AWS). When any entry failed, the Task fails with
``EventBridge.FailedEntry`` and the whole response (compact JSON) as the cause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.services.stepfunctions.integrations.calls import compact_json
from lambdamaker.services.stepfunctions.integrations.faults import check_result_size
from lambdamaker.services.stepfunctions.integrations.optimized import (
    ServiceStyle,
    call_optimized,
    unsupported_pattern,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

STYLE = ServiceStyle(
    "events", "EventBridge", "AmazonEventBridge", "AmazonEventBridgeException", metadata=False
)
PUT_EVENTS = "arn:aws:states:::events:putEvents"


def handlers(platform: Platform) -> dict[str, TaskHandler]:
    async def put_events(request: TaskRequest) -> Any:
        if request.pattern not in ("", ".waitForTaskToken"):
            raise unsupported_pattern(request)
        _, answer = await call_optimized(platform, request, STYLE, "PutEvents", request.parameters)
        if answer.get("FailedEntryCount"):
            raise StatesError("EventBridge.FailedEntry", compact_json(answer))
        return check_result_size(answer, "events")

    return {PUT_EVENTS: put_events}
