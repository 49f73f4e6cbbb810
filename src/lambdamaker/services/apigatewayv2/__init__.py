"""API Gateway HTTP APIs: the ``apigatewayv2`` service provider.

Modules: ``apis``, ``routes`` (routes and integrations), ``stages`` (the control plane, over
``tables``); ``routekeys`` (route key parsing and AWS's route precedence, pure); ``payloads``
(the Lambda proxy event, format 2.0 and 1.0, and the response mapping, pure); ``serving`` (the
ASGI handler the gateway gives ``/_apis/<apiId>/...`` and ``<apiId>.execute-api.localhost``).
"""

from lambdamaker.services.apigatewayv2.provider import ApiGatewayV2Provider

__all__ = ["ApiGatewayV2Provider"]
