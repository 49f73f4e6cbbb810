"""Shared fixtures of the DynamoDB tests: a boto3 client on the session's server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture()
def ddb(boto_client: Callable[..., Any]) -> Any:
    return boto_client("dynamodb")
