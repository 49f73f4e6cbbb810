"""Errors: one root, with the AWS error code and HTTP status carried on each class.

The hierarchy::

    LambdamakerError                    anything this package raises on purpose
     ├── ConfigError                    bad platform configuration (CLI flags, URLs)
     ├── StoreError                     the durable store failed or is inconsistent
     └── ServiceError                   a user-triggerable AWS error: code + status + message
          ├── ValidationError            ValidationException, 400 (json services)
          ├── InvalidParameterValueError InvalidParameterValueException, 400
          ├── ResourceNotFoundError      ResourceNotFoundException, 404
          ├── ResourceConflictError      ResourceConflictException, 409
          ├── AccessDeniedError          AccessDeniedException, 403
          ├── AuthError                  SigV4 failures (code chosen per service), 403
          ├── TooManyRequestsError       TooManyRequestsException, 429
          ├── UnknownOperationError      the operation exists in no model or is not implemented
          └── InternalFailure            our bug, surfaced in AWS shape with a 500

A provider raises a ``ServiceError`` (or subclass); the gateway maps it to the wire format of
the service's protocol in exactly one place (``gateway.protocol.serializer``). ``fields`` carries
extra members that AWS puts in the error body (S3's ``BucketName``, Lambda's ``Reason``...).
"""

from __future__ import annotations

from typing import Any, ClassVar


class LambdamakerError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(LambdamakerError):
    """The platform's configuration is invalid."""


class StoreError(LambdamakerError):
    """The durable store failed or is inconsistent."""


class ServiceError(LambdamakerError):
    """An AWS-shaped error: ``code`` and ``status`` go on the wire, ``message`` too.

    Subclasses set class defaults; any instance may override them, because AWS services name
    the same condition differently (``NoSuchBucket`` vs ``ResourceNotFoundException``).
    """

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        if status is not None:
            self.status = status  # type: ignore[misc]
        self.headers: dict[str, str] = headers or {}
        self.fields: dict[str, Any] = fields

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class ValidationError(ServiceError):
    code = "ValidationException"
    status = 400


class InvalidParameterValueError(ServiceError):
    code = "InvalidParameterValueException"
    status = 400


class ResourceNotFoundError(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflictError(ServiceError):
    code = "ResourceConflictException"
    status = 409


class AccessDeniedError(ServiceError):
    code = "AccessDeniedException"
    status = 403


class AuthError(ServiceError):
    """A SigV4 failure. The gateway picks the code each service uses for it."""

    code = "SignatureDoesNotMatch"
    status = 403


class TooManyRequestsError(ServiceError):
    code = "TooManyRequestsException"
    status = 429


class UnknownOperationError(ServiceError):
    code = "UnknownOperationException"
    status = 400


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False
