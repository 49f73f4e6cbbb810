"""Amazon DynamoDB Streams: the ``dynamodbstreams`` service provider (json 1.0,
``DynamoDBStreams_20120810``, signed as ``dynamodb``: the gateway routes by the target prefix).

Streams and records are written by the DynamoDB provider (``services/dynamodb/streams``) in each
item write's transaction and read here (``services/dynamodb/stream_reads``); this package only
translates the API. Its tables belong to the ``dynamodb-streams`` component, which the DynamoDB
provider migrates: enable ``dynamodb`` with ``dynamodbstreams``.
"""

from lambdamaker.services.dynamodbstreams.provider import DynamoDBStreamsProvider

__all__ = ["DynamoDBStreamsProvider"]
