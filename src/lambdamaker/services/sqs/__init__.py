"""Amazon SQS: the ``sqs`` service provider, queues and messages durable in the store."""

from lambdamaker.services.sqs.provider import SqsProvider

__all__ = ["SqsProvider"]
