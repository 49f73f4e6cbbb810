"""Helpers the Step Functions service tests share (boto3 against the session server)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

ROLE = "arn:aws:iam::000000000000:role/sfn"


def definition(result: Any = "done") -> str:
    return json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}}
    )


def unique(prefix: str = "sm") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def create(sfn: Any, name: str | None = None, **extra: Any) -> str:
    arn: str = sfn.create_state_machine(
        name=name or unique(),
        definition=extra.pop("definition", definition()),
        roleArn=ROLE,
        **extra,
    )["stateMachineArn"]
    return arn
