"""IAM's error codes (the botocore model's ``error.code`` and status of each exception shape).

STS shares ``ValidationError``, ``AccessDenied`` and ``MalformedPolicyDocument`` (the last lives
in ``security.policy`` beside the parser that raises it).
"""

from __future__ import annotations

from lambdamaker.errors import ServiceError


class NoSuchEntityError(ServiceError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExistsError(ServiceError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflictError(ServiceError):
    code = "DeleteConflict"
    status = 409


class LimitExceededError(ServiceError):
    code = "LimitExceeded"
    status = 409


class InvalidInputError(ServiceError):
    code = "InvalidInput"
    status = 400


class IamValidationError(ServiceError):
    """Query services (IAM, STS) call a constraint violation ``ValidationError``."""

    code = "ValidationError"
    status = 400


class IamAccessDeniedError(ServiceError):
    code = "AccessDenied"
    status = 403
