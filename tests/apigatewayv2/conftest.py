"""Shared fixtures of the API Gateway tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture()
def apigw(boto_client: Callable[..., Any]) -> Any:
    return boto_client("apigatewayv2")
