"""Helpers of the DynamoDB tests."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of the ClientError a ``pytest.raises`` caught."""
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]
