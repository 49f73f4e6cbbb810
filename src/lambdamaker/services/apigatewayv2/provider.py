"""``ApiGatewayV2Provider``: API Gateway HTTP APIs (rest-json, ``apigatewayv2``, signing name
``apigateway``) over the store, and the server that proxies requests to Lambda.

Supported: Create/Get/Update/Delete and the Get* list of APIs (``apis``), routes and
integrations (``routes``) and stages (``stages``). Serving: ``serving``. Not modelled:
deployments (every stage serves the current routes, as with AutoDeploy), authorizers, tags
operations, CORS, WebSocket APIs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from lambdamaker.services.apigatewayv2.apis import ApiOperations
from lambdamaker.services.apigatewayv2.routes import RouteOperations
from lambdamaker.services.apigatewayv2.serving import HttpApiServer
from lambdamaker.services.apigatewayv2.stages import StageOperations
from lambdamaker.services.apigatewayv2.tables import MIGRATIONS
from lambdamaker.store import Migration

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class ApiGatewayV2Provider(ApiOperations, RouteOperations, StageOperations):
    service = "apigatewayv2"
    migrations: ClassVar[tuple[Migration, ...]] = MIGRATIONS

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.server = HttpApiServer(platform)
