"""Helpers for the in-process S3 tests: a boto3-like caller, error assertions, spooled bodies."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol.body import Body, StreamPayload
from lambdamaker.platform import Platform
from lambdamaker.services.base import RequestContext
from lambdamaker.services.s3 import S3Provider

ACCOUNT = "000000000000"


class S3Caller:
    """``s3.put_object(Bucket=..., Key=..., Body=b"...")`` → the provider's result dict.

    Calls go through ``Provider.operation`` exactly as the gateway dispatches them; bytes
    bodies are wrapped in ``Body`` as the gateway would.
    """

    def __init__(self, provider: S3Provider, region: str = "us-east-1", account: str = ACCOUNT):
        self.provider = provider
        self.region = region
        self.account = account

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        operation = _op_name(name)
        method = self.provider.operation(operation)
        if method is None:
            raise AttributeError(name)

        def call(**params: Any) -> dict[str, Any]:
            if isinstance(params.get("Body"), bytes):
                params["Body"] = Body.from_bytes(params["Body"])
            ctx = RequestContext(
                request_id="req-1",
                service="s3",
                operation=operation,
                region=self.region,
                account_id=self.account,
                endpoint_url="http://127.0.0.1:4599",
            )
            return method(ctx, params)

        return call

    def body(self, result: dict[str, Any]) -> bytes:
        payload = result["Body"]
        return payload.read() if isinstance(payload, StreamPayload) else payload


def _op_name(name: str) -> str:
    special = {"list_objects_v2": "ListObjectsV2"}
    return special.get(name) or "".join(part.capitalize() for part in name.split("_"))


@contextlib.contextmanager
def raises(code: str, status: int) -> Iterator[list[ServiceError]]:
    """Assert a ``ServiceError`` with this AWS code and HTTP status; yields it for more checks."""
    caught: list[ServiceError] = []
    with pytest.raises(ServiceError) as info:
        yield caught
    caught.append(info.value)
    assert (info.value.code, info.value.status) == (code, status), repr(info.value)


def spooled(platform: Platform, data: bytes) -> Body:
    """A body spooled to a file in the platform's tmp dir, as the gateway hands over uploads."""
    f, path = platform.blobs("s3").new_temp()
    with f:
        f.write(data)
    return Body(path=path, size=len(data))


@contextlib.contextmanager
def client_error(code: str, status: int) -> Iterator[list[dict[str, Any]]]:
    """Assert a botocore ``ClientError`` with this code and HTTP status; yields its response."""
    from botocore.exceptions import ClientError

    caught: list[dict[str, Any]] = []
    with pytest.raises(ClientError) as info:
        yield caught
    response: dict[str, Any] = info.value.response  # type: ignore[assignment]
    caught.append(response)
    got = (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"])
    assert got == (code, status), response
