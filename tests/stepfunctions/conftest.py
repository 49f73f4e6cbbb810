"""Shared fixture of the Step Functions tests: a boto3 client on the session's server (a test
module that needs another client, e.g. without the ``sync-`` host prefix, overrides it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture()
def sfn(boto_client: Callable[..., Any]) -> Any:
    return boto_client("stepfunctions")
