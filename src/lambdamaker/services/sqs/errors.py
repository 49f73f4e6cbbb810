"""SQS errors. Codes are the model's shape names; the protocol layer adds the legacy query codes
(``AWS.SimpleQueueService.NonExistentQueue``...) in ``x-amzn-query-error``."""

from __future__ import annotations

from lambdamaker.errors import ServiceError


def queue_does_not_exist() -> ServiceError:
    return ServiceError("The specified queue does not exist.", code="QueueDoesNotExist")


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError(message, code="InvalidParameterValue")


def invalid_attribute_value(name: str, reason: str = "") -> ServiceError:
    suffix = f" Reason: {reason}" if reason else ""
    return ServiceError(
        f"Invalid value for the parameter {name}.{suffix}", code="InvalidAttributeValue"
    )


def invalid_attribute_name(name: str) -> ServiceError:
    return ServiceError(f"Unknown Attribute {name}.", code="InvalidAttributeName")


def receipt_handle_invalid(handle: str) -> ServiceError:
    return ServiceError(
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
        code="ReceiptHandleIsInvalid",
    )
