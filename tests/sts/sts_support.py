"""Helpers for the STS tests: a caller for provider operations and an error check.

(The same small helpers as ``tests/iam/iam_support.py``; test directories here are not
packages, so each keeps its own uniquely named support module.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from lambdamaker.errors import ServiceError
from lambdamaker.platform import Platform
from lambdamaker.services.base import Principal, RequestContext

ACCOUNT = "000000000000"
TRUST_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class Caller:
    """Calls one provider's operations as boto3 would name them: ``sts("AssumeRole", ...)``."""

    def __init__(self, platform: Platform, service: str, principal: Principal | None = None):
        self.platform = platform
        self.service = service
        self.principal = principal

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        method = self.platform.providers[self.service].operation(operation)
        if method is None:
            raise AssertionError(f"{self.service} does not implement {operation}")
        ctx = RequestContext(
            request_id="test",
            service=self.service,
            operation=operation,
            region="us-east-1",
            account_id=ACCOUNT,
            principal=self.principal,
        )
        return method(ctx, params)

    def as_principal(self, principal: Principal | None) -> Caller:
        return Caller(self.platform, self.service, principal)


@contextmanager
def aws_error(code: str, status: int, match: str | None = None) -> Iterator[None]:
    with pytest.raises(ServiceError) as info:
        yield
    err = info.value
    assert (err.code, err.status) == (code, status), repr(err)
    if match is not None:
        assert match in err.message, err.message
