"""``ApiGatewayV2Provider``: API Gateway HTTP APIs (rest-json, ``apigatewayv2``, signing name
``apigateway``) over the store, and the server that proxies requests to Lambda.

Supported: Create/Get/Update/Delete and the Get* list of APIs (``apis``, with CORS and
DeleteCorsConfiguration), routes and integrations (``routes``), stages (``stages``),
deployments (``deployments``) and authorizers (``authorizers``). Serving: ``serving`` (with
``throttling``, ``cors``, ``jwtauth``, ``lambdaauth``, ``proxy``). Not modelled: tags
operations, WebSocket APIs, other integration types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from lambdamaker.services.apigatewayv2.apis import ApiOperations
from lambdamaker.services.apigatewayv2.authorizers import AuthorizerOperations
from lambdamaker.services.apigatewayv2.deployments import DeploymentOperations
from lambdamaker.services.apigatewayv2.routes import RouteOperations
from lambdamaker.services.apigatewayv2.serving import HttpApiServer
from lambdamaker.services.apigatewayv2.stages import StageOperations
from lambdamaker.services.apigatewayv2.tables import MIGRATIONS
from lambdamaker.store import Migration

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class ApiGatewayV2Provider(
    ApiOperations, RouteOperations, StageOperations, DeploymentOperations, AuthorizerOperations
):
    service = "apigatewayv2"
    migrations: ClassVar[tuple[Migration, ...]] = MIGRATIONS

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.server = HttpApiServer(platform)
