"""Lambda's error codes beyond the common ones, and the messages Lambda words them with.

Codes and statuses follow the botocore model's exception shapes; messages follow what Lambda
answers (checked against AWS's documentation and recorded AWS responses).
"""

from __future__ import annotations

from lambdamaker.errors import (
    InvalidParameterValueError,
    ResourceConflictError,
    ResourceNotFoundError,
    ServiceError,
)


class PreconditionFailedError(ServiceError):
    code = "PreconditionFailedException"
    status = 412


class RequestTooLargeError(ServiceError):
    code = "RequestEntityTooLargeException"
    status = 413


class InvalidRequestContentError(ServiceError):
    code = "InvalidRequestContentException"
    status = 400


class RecursiveInvocationError(ServiceError):
    code = "RecursiveInvocationException"
    status = 400


class ProvisionedConfigNotFoundError(ServiceError):
    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404


class LambdaServiceError(ServiceError):
    """Lambda's own failure (``ServiceException``, 500)."""

    code = "ServiceException"
    status = 500
    sender_fault = False


class CodeStorageExceededError(ServiceError):
    code = "CodeStorageExceededException"
    status = 400


def function_not_found(arn: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(f"Function not found: {arn}")


def alias_not_found(arn: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(f"Cannot find alias arn: {arn}")


def resource_not_found() -> ResourceNotFoundError:
    return ResourceNotFoundError("The resource you requested does not exist.")


def revision_mismatch() -> PreconditionFailedError:
    return PreconditionFailedError(
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id"
    )


def update_in_progress(arn: str) -> ResourceConflictError:
    return ResourceConflictError(
        "The operation cannot be performed at this time. An update is in progress for "
        f"resource: {arn}"
    )


def not_invocable(state: str) -> ResourceConflictError:
    return ResourceConflictError(
        "The operation cannot be performed at this time. The function is currently in the "
        f"following state: {state}"
    )


def unzip_failed(detail: str = "") -> InvalidParameterValueError:
    message = "Could not unzip uploaded file. Please check your file, then try to upload again."
    return InvalidParameterValueError(f"{message} {detail}".rstrip())
