"""Calling a provider's operations in-process, as the gateway would after its checks: for
tests that drive a ``Platform`` directly (on a fake clock, or without a server)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lambdamaker.services.base import RequestContext

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


def call_operation(
    platform: Platform,
    service: str,
    operation: str,
    *,
    account: str = "000000000000",
    region: str = "us-east-1",
    endpoint_url: str = "http://lambdamaker.test",
    **params: Any,
) -> dict[str, Any]:
    """The result of ``service``'s ``operation`` on ``params`` (coroutine operations are run to
    completion on a fresh event loop); the provider's ``ServiceError`` propagates."""
    method = platform.providers[service].operation(operation)
    assert method is not None, f"{service} has no operation {operation}"
    ctx = RequestContext(
        f"test-{operation}", service, operation, region, account, endpoint_url=endpoint_url
    )
    result = method(ctx, params)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert isinstance(result, dict)
    return result
