"""Amazon DynamoDB: the ``dynamodb`` service provider, tables and items durable in the store."""

from lambdamaker.services.dynamodb.provider import DynamoDBProvider

__all__ = ["DynamoDBProvider"]
