"""Helpers for the IAM tests: a caller for provider operations, error checks, sample documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

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
S3_READ = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


class Caller:
    """Calls one provider's operations as boto3 would name them: ``iam("CreateRole", ...)``."""

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
    """Expect a ``ServiceError`` with this AWS code and status (and message substring)."""
    with pytest.raises(ServiceError) as info:
        yield
    err = info.value
    assert (err.code, err.status) == (code, status), repr(err)
    if match is not None:
        assert match in err.message, err.message


def decode(document: str) -> Any:
    """What botocore's ``json_decode_policies`` does to a document in an IAM response."""
    return json.loads(unquote(document))


def make_role(iam: Caller, name: str = "fn-role", **params: Any) -> dict[str, Any]:
    params.setdefault("AssumeRolePolicyDocument", TRUST_LAMBDA)
    role: dict[str, Any] = iam("CreateRole", RoleName=name, **params)["Role"]
    return role


def make_policy(iam: Caller, name: str = "s3-read", **params: Any) -> dict[str, Any]:
    params.setdefault("PolicyDocument", S3_READ)
    policy: dict[str, Any] = iam("CreatePolicy", PolicyName=name, **params)["Policy"]
    return policy
