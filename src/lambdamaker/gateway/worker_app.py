"""The ASGI app of a data-plane worker (``lambdamaker.workers``).

A request for a service the worker serves (a JSON-protocol operation whose ``X-Amz-Target``
names it: ``DynamoDB_20120810.*``) runs here through the same ``AwsGateway`` as in the primary:
routing, SigV4, the model-driven parse and serialize, the provider. Everything else (other
services, HTTP APIs, function URLs, ``/_lambdamaker/``) is passed to the primary unchanged
(``gateway.proxy``). The choice is made from the headers alone, before any body is read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from lambdamaker.gateway.app import AwsGateway, serve_lifespan
from lambdamaker.gateway.proxy import UpstreamPool, forward
from lambdamaker.platform import Platform
from lambdamaker.services.apigatewayv2.serving import claims as http_api_claims
from lambdamaker.services.lambda_.url_serving import claims as function_url_claims

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def local_targets(gateway: AwsGateway) -> tuple[bytes, ...]:
    """``X-Amz-Target`` prefixes of the JSON-protocol services this worker serves."""
    prefixes = []
    for protocol in gateway.protocols.values():
        model = protocol.service_model
        if model.protocol != "json":
            raise ValueError(f"workers serve JSON-protocol services only, not {model.service_name}")
        prefixes.append(model.metadata["targetPrefix"].encode() + b".")
    return tuple(prefixes)


class WorkerApp:
    def __init__(
        self, platform: Platform, primary: str, on_ready: Callable[[], None] | None = None
    ) -> None:
        self.platform = platform
        self.aws = AwsGateway(platform)
        self.targets = local_targets(self.aws)
        self.upstream = UpstreamPool(primary)
        self.on_ready = on_ready

    def serves(self, scope: Scope) -> bool:
        if scope["path"].startswith("/_") or http_api_claims(scope) or function_url_claims(scope):
            return False
        for name, value in scope["headers"]:
            if name == b"x-amz-target":
                return bool(value.startswith(self.targets))
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.serves(scope):
                await self.aws(scope, receive, send)
            else:
                await forward(self.upstream, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await serve_lifespan(
            receive,
            send,
            started=self.on_ready,
            shutdown=[self.upstream.close, self.platform.close],
        )
