"""DynamoDB errors, with the messages DynamoDB sends (all HTTP 400)."""

from __future__ import annotations

from lambdamaker.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError(message, code="ValidationException")


def invalid(message: str) -> ServiceError:
    return validation(f"One or more parameter values were invalid: {message}")


def not_found() -> ServiceError:
    return ServiceError("Requested resource not found", code="ResourceNotFoundException")


def table_not_found(name: str) -> ServiceError:
    return ServiceError(
        f"Requested resource not found: Table: {name} not found",
        code="ResourceNotFoundException",
    )


def in_use(message: str) -> ServiceError:
    return ServiceError(message, code="ResourceInUseException")


def not_supported(parameter: str) -> ServiceError:
    return validation(f"{parameter} is not supported yet")
