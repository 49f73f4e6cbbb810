"""DynamoDB: ``arn:aws:states:::dynamodb:putItem`` / ``getItem`` / ``updateItem`` /
``deleteItem`` (request-response only: AWS offers no other pattern for them).

Items are typed attribute values (``{"S": "x"}``) in and out. Results carry
``SdkHttpMetadata``/``SdkResponseMetadata``. Errors: ``DynamoDB.<Modelled>Exception``
(``DynamoDB.ResourceNotFoundException``, ``DynamoDB.ConditionalCheckFailedException``) or
``DynamoDB.AmazonDynamoDBException`` (validation), with ``Service: AmazonDynamoDBv2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdamaker.engines.workflows.tasks import TaskHandler
from lambdamaker.services.stepfunctions.integrations.optimized import (
    ServiceStyle,
    operation_handler,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

STYLE = ServiceStyle("dynamodb", "DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException")
OPERATIONS = {
    "putItem": "PutItem",
    "getItem": "GetItem",
    "updateItem": "UpdateItem",
    "deleteItem": "DeleteItem",
}


def handlers(platform: Platform) -> dict[str, TaskHandler]:
    return {
        f"arn:aws:states:::dynamodb:{action}": operation_handler(
            platform, STYLE, operation, patterns=("",)
        )
        for action, operation in OPERATIONS.items()
    }
