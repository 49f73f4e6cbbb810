"""Helpers for the Lambda tests: an in-process caller, zip builders, sample handlers."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import ServiceProtocol
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext
from lambdamaker.testing import zip_files as make_zip

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"

ECHO = """
def handler(event, context):
    return {"event": event, "version": context.function_version}
"""


def echo_zip(extra: str = "") -> bytes:
    return make_zip({"app.py": ECHO + extra})


class Caller:
    """Calls Lambda operations as boto3 names them, after the model's checks (as the gateway
    does): ``lam("CreateFunction", FunctionName=...)``."""

    def __init__(self, platform: Platform, service: str = "lambda") -> None:
        self.platform = platform
        self.service = service
        self.protocol = ServiceProtocol.for_service(service)

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        provider = self.platform.providers[self.service]
        method = provider.operation(operation)
        if method is None:
            raise AssertionError(f"{self.service} does not implement {operation}")
        self.protocol.validate(self.protocol.service_model.operation_model(operation), params)
        ctx = RequestContext(
            request_id=f"req-{operation}",
            service=self.service,
            operation=operation,
            region=REGION,
            account_id=ACCOUNT,
        )
        result = method(ctx, params)
        if inspect.iscoroutine(result):  # an operation the gateway awaits (Invoke)
            out: dict[str, Any] = asyncio.run(result)
            return out
        return result

    def create(self, name: str, code: bytes | None = None, **params: Any) -> dict[str, Any]:
        params.setdefault("Runtime", "python3.12")
        params.setdefault("Handler", "app.handler")
        params.setdefault("Role", ROLE)
        return self(
            "CreateFunction",
            FunctionName=name,
            Code={"ZipFile": code if code is not None else echo_zip()},
            **params,
        )

    def wait_active(
        self, name: str, qualifier: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        extra = {"Qualifier": qualifier} if qualifier else {}
        while True:
            config = self("GetFunctionConfiguration", FunctionName=name, **extra)
            if config["State"] == "Active" and config.get("LastUpdateStatus") != "InProgress":
                return config
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not become Active: {config}")
            time.sleep(0.01)


@contextmanager
def aws_error(code: str, status: int, match: str | None = None) -> Iterator[None]:
    """Expect a ``ServiceError`` with this AWS code and status (and message substring)."""
    with pytest.raises(ServiceError) as info:
        yield
    err = info.value
    assert (err.code, err.status) == (code, status), repr(err)
    if match is not None:
        assert match in err.message, err.message
