"""The one table of protocol-level error codes: what each service answers when a request is
malformed, breaks a model constraint, or names no operation.

The codes differ by protocol family (JSON services say ``ValidationException``, query services
``ValidationError``, S3 ``InvalidArgument``) and a few services deviate from their family
(Lambda reports an unparseable body as ``InvalidRequestContentException``). Providers never
raise these themselves; the protocol layer does, through ``ErrorCodes``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ErrorCodes:
    validation: tuple[str, int]
    """A model constraint (required, length, range, pattern, enum) is violated."""
    malformed: tuple[str, int]
    """The body or a value cannot be parsed into its shape (bad JSON/XML, wrong type)."""
    unknown_operation: tuple[str, int]
    """No operation of the service matches the request."""
    method_not_allowed: tuple[str, int]
    """REST only: the path matches an operation, the method matches none."""
    missing_action: tuple[str, int]
    """Query/JSON only: the request names no operation at all."""
    check_enums: bool = True
    """S3 checks no model enums itself: an unknown value gets S3's own error from the provider
    (``InvalidLocationConstraint``, ``InvalidStorageClass``...), or is accepted, as S3 does."""


_BY_PROTOCOL = {
    "json": ErrorCodes(
        validation=("ValidationException", 400),
        malformed=("SerializationException", 400),
        unknown_operation=("UnknownOperationException", 400),
        method_not_allowed=("UnknownOperationException", 400),
        missing_action=("UnknownOperationException", 400),
    ),
    "rest-json": ErrorCodes(
        validation=("ValidationException", 400),
        malformed=("SerializationException", 400),
        unknown_operation=("UnknownOperationException", 404),
        method_not_allowed=("UnknownOperationException", 404),
        missing_action=("UnknownOperationException", 404),
    ),
    "query": ErrorCodes(
        validation=("ValidationError", 400),
        malformed=("InvalidParameterValue", 400),
        unknown_operation=("InvalidAction", 400),
        method_not_allowed=("InvalidAction", 400),
        missing_action=("MissingAction", 400),
    ),
    "rest-xml": ErrorCodes(
        validation=("InvalidArgument", 400),
        malformed=("MalformedXML", 400),
        unknown_operation=("NotImplemented", 501),
        method_not_allowed=("MethodNotAllowed", 405),
        missing_action=("NotImplemented", 501),
    ),
}

_SERVICE_OVERRIDES: dict[str, dict[str, tuple[str, int] | bool]] = {
    "s3": {"check_enums": False},
    # SQS answers unknown attribute names itself (InvalidAttributeName), and accepts message
    # system attributes in ReceiveMessage's deprecated AttributeNames, whose model enum omits them.
    "sqs": {"check_enums": False},
    # Lambda: "Could not parse request body into json".
    "lambda": {"malformed": ("InvalidRequestContentException", 400)},
    # IAM models its own InvalidInput error for unparseable values.
    "iam": {"malformed": ("InvalidInput", 400)},
    "sns": {"malformed": ("InvalidParameter", 400)},
    # CloudWatch Logs reports model constraint violations as InvalidParameterException.
    "logs": {"validation": ("InvalidParameterException", 400)},
    # API Gateway answers every malformed or invalid request with BadRequestException.
    "apigatewayv2": {
        "validation": ("BadRequestException", 400),
        "malformed": ("BadRequestException", 400),
    },
}


def codes_for(service_name: str, protocol: str) -> ErrorCodes:
    codes = _BY_PROTOCOL[protocol]
    overrides = _SERVICE_OVERRIDES.get(service_name)
    return replace(codes, **overrides) if overrides else codes  # type: ignore[arg-type]


# Query-compatible JSON services (SQS) still report their pre-JSON error codes in the
# ``x-amzn-query-error`` header; clients put that code in ``Error.Code``. The JSON ``__type``
# carries the modelled shape name. Models record most of these as ``error.code``; SQS's model
# lost them when it moved to JSON, so they are listed here.
LEGACY_QUERY_CODES: dict[str, dict[str, str]] = {
    "sqs": {
        "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
        "QueueNameExists": "QueueAlreadyExists",
        "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
        "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
        "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
        "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
        "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
        "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
        "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
        "ReceiptHandleIsInvalid": "ReceiptHandleIsInvalid",
        "InvalidMessageContents": "InvalidMessageContents",
        "InvalidIdFormat": "InvalidIdFormat",
        "InvalidAttributeName": "InvalidAttributeName",
        "OverLimit": "OverLimit",
    },
}

# S3 names the XML root of outputs that have no payload member; the model does not record it
# (clients ignore the root name, but other S3 tools and humans read it).
S3_OUTPUT_ROOTS: dict[str, str] = {
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListParts": "ListPartsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
    "GetObjectTagging": "Tagging",
    "GetBucketTagging": "Tagging",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
    "GetObjectLockConfiguration": "ObjectLockConfiguration",
}

S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
