"""Helpers of the DynamoDB tests."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of the ClientError a ``pytest.raises`` caught."""
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def call(platform: Platform, operation: str, **params: Any) -> dict[str, Any]:
    """An operation of an in-process platform's DynamoDB provider, as the gateway calls it
    (item writes are group-committed coroutines)."""
    method = platform.providers["dynamodb"].operation(operation)
    assert method is not None, operation
    ctx = RequestContext("test", "dynamodb", operation, "us-east-1", "000000000000")
    result = method(ctx, params)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert isinstance(result, dict)
    return result
