"""Creating Python functions from source text in tests (through boto3, waiting until Active)."""

from __future__ import annotations

import uuid
from typing import Any

from lambdamaker.testing import zip_source

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def create_function(lam: Any, source: str, prefix: str = "fn", **settings: Any) -> str:
    """A new function ``<prefix>-<8 hex>`` running ``source`` as ``app.py`` (handler
    ``app.handler``), Active when this returns; its ARN."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    arn: str = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_source(source)},
        **settings,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return arn
