"""Shared fixtures of the DynamoDB tests: a boto3 client on the session's server, a fresh table
and that table through boto3's resource API.

``table`` here is the default (keyed by ``id`` alone); a module that needs other keys or seeded
items defines its own ``table``, and ``resource_table`` then wraps that one, since pytest
resolves a fixture's dependencies from the requesting test's module first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from ddb_support import create_table

from lambdamaker.testing import ServerProcess


@pytest.fixture()
def ddb(boto_client: Callable[..., Any]) -> Any:
    return boto_client("dynamodb")


@pytest.fixture()
def table(ddb: Any) -> str:
    """A new on-demand table keyed by ``id`` (S) alone; its name."""
    return create_table(ddb, "id", None, hash_key="id")


@pytest.fixture()
def resource_table(lm_server: ServerProcess, table: str) -> Any:
    """The test's ``table`` as a ``boto3.resource("dynamodb").Table``, signed with the server's
    admin key."""
    key, secret = lm_server.credentials()
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=lm_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    return resource.Table(table)
