"""Service providers, one per AWS service. ``PROVIDERS`` maps botocore's service name to the
provider class path; the platform imports only the enabled ones."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdamaker.services.base import Provider

PROVIDERS: dict[str, str] = {
    "s3": "lambdamaker.services.s3:S3Provider",
    "iam": "lambdamaker.services.iam:IamProvider",
    "sts": "lambdamaker.services.sts:StsProvider",
    "lambda": "lambdamaker.services.lambda_:LambdaProvider",
    "logs": "lambdamaker.services.logs:LogsProvider",
    "sqs": "lambdamaker.services.sqs:SqsProvider",
    "sns": "lambdamaker.services.sns:SnsProvider",
    "events": "lambdamaker.services.events:EventsProvider",
    "scheduler": "lambdamaker.services.scheduler:SchedulerProvider",
    "apigatewayv2": "lambdamaker.services.apigatewayv2:ApiGatewayV2Provider",
    "kinesis": "lambdamaker.services.kinesis:KinesisProvider",
    "dynamodb": "lambdamaker.services.dynamodb:DynamoDBProvider",
    "dynamodbstreams": "lambdamaker.services.dynamodbstreams:DynamoDBStreamsProvider",
    "stepfunctions": "lambdamaker.services.stepfunctions:StepFunctionsProvider",
}


def provider_class(service: str) -> type[Provider]:
    module_name, _, attr = PROVIDERS[service].partition(":")
    cls: type[Provider] = getattr(importlib.import_module(module_name), attr)
    return cls
