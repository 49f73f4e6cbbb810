"""Helpers for the IAM and STS tests: fixtures of an in-process platform with both services, a
caller for provider operations, error checks, sample documents.

This module sits at the top of ``tests`` so that both directories import the one copy (test
directories are not packages; pytest puts ``tests`` itself on ``sys.path`` for its conftest).
The directories' conftests re-export the fixtures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from lambdamaker.config import PlatformConfig
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


def all_pages(caller: Caller, operation: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a marker-paginated listing, following ``Marker`` until one is not truncated."""
    pages: list[dict[str, Any]] = []
    while True:
        out = caller(operation, **params)
        pages.append(out)
        if not out["IsTruncated"]:
            return pages
        params["Marker"] = out["Marker"]


def make_role(iam: Caller, name: str = "fn-role", **params: Any) -> dict[str, Any]:
    params.setdefault("AssumeRolePolicyDocument", TRUST_LAMBDA)
    role: dict[str, Any] = iam("CreateRole", RoleName=name, **params)["Role"]
    return role


def make_policy(iam: Caller, name: str = "s3-read", **params: Any) -> dict[str, Any]:
    params.setdefault("PolicyDocument", S3_READ)
    policy: dict[str, Any] = iam("CreatePolicy", PolicyName=name, **params)["Policy"]
    return policy


# -- fixtures (re-exported by tests/iam/conftest.py and tests/sts/conftest.py) ---------------------


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    with Platform(PlatformConfig(data_dir=tmp_path / "data"), services=["iam", "sts"]) as p:
        yield p


@pytest.fixture()
def iam(platform: Platform) -> Caller:
    return Caller(platform, "iam")


@pytest.fixture()
def sts(platform: Platform) -> Caller:
    return Caller(platform, "sts")
