"""Invoke the mapped function synchronously, in-process (no HTTP), as Lambda's pollers do.

Blocking: pollers run on their own threads. Raises ``TooManyRequestsError`` when the function
is throttled (the poller backs off and retries without counting an attempt) and
``ResourceNotFoundError`` when the function no longer exists.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING

from lambdamaker.engines.functions.spec import InvokeRequest, InvokeResult
from lambdamaker.services.lambda_.lineage import next_trace

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.provider import LambdaProvider

_rng = random.Random()


def invoke(
    provider: LambdaProvider, function_arn: str, payload: bytes, trace: str | None = None
) -> InvokeResult:
    """Run ``function_arn`` (qualified or not) on ``payload``. ``trace`` is the X-Ray header
    the records arrived with (recursive loop detection), if any."""
    name, qualifier = provider.arns.parse_function(function_arn)
    target = provider.targets.get(name, qualifier)
    chosen = provider._invocable(target, target.pick(_rng))
    request = InvokeRequest(
        request_id=str(uuid.uuid4()),
        payload=payload,
        invoked_function_arn=target.invoked_arn,
        trace_id=next_trace(trace, chosen.spec.function_arn).header,
    )
    result = provider.engine.invoke(chosen.spec, request)
    result.executed_version = chosen.spec.version
    return result
