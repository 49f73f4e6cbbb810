"""Helpers of the Task integration tests: one in-process platform per test module, resources
created through the providers' own operations, and handlers called with a ``TaskRequest``."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from lambdamaker.config import PlatformConfig
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskRequest, split_pattern
from lambdamaker.platform import Platform
from lambdamaker.services.stepfunctions.integrations import MockTestCase, build_registry
from lambdamaker.testing import zip_source
from lambdamaker.testing.inprocess import call_operation

ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn-integration-role"
MACHINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sfn-role"
SERVICES = ["s3", "iam", "sts", "logs", "lambda", "sqs", "sns", "events", "dynamodb"]
EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:machine:run-1"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:machine"


@contextmanager
def started_platform(data: Path, services: list[str]) -> Iterator[Platform]:
    """An in-process platform of ``services`` on ``data``, started, and closed on exit."""
    p = Platform(PlatformConfig(data_dir=data), services=services)
    p.start()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with started_platform(tmp_path_factory.mktemp("sfn-integrations") / "data", SERVICES) as p:
        yield p


def call(platform: Platform, service: str, operation: str, **params: Any) -> dict[str, Any]:
    return call_operation(platform, service, operation, account=ACCOUNT, region=REGION, **params)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_machine(
    platform: Platform, states: dict[str, Any], start: str, name: str | None = None
) -> str:
    """A new state machine running ``states`` from ``start`` (named ``name``, or a unique
    name); its ARN."""
    created = call(
        platform,
        "stepfunctions",
        "CreateStateMachine",
        name=name or unique("m"),
        roleArn=MACHINE_ROLE,
        definition=json.dumps({"StartAt": start, "States": states}),
    )
    return str(created["stateMachineArn"])


def create_function(platform: Platform, source: str, prefix: str = "fn") -> tuple[str, str]:
    """A Python function running ``source`` (handler ``app.handler``), Active; (name, ARN)."""
    name = unique(prefix)
    created = call(
        platform,
        "lambda",
        "CreateFunction",
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": zip_source(source)},
    )
    deadline = time.monotonic() + 60
    while call(platform, "lambda", "GetFunctionConfiguration", FunctionName=name)["State"] != (
        "Active"
    ):
        assert time.monotonic() < deadline, "function did not become Active"
        time.sleep(0.02)
    return name, str(created["FunctionArn"])


def request(
    resource: str, parameters: Any, state_name: str = "Task", task_token: str | None = None
) -> TaskRequest:
    base, pattern = split_pattern(resource)
    return TaskRequest(
        resource=resource,
        base=base,
        pattern=pattern,
        parameters=parameters,
        execution_arn=EXECUTION,
        state_machine_arn=MACHINE,
        state_name=state_name,
        region=REGION,
        account_id=ACCOUNT,
        task_token=task_token,
    )


def run_task(
    registry: IntegrationRegistry,
    resource: str,
    parameters: Any,
    state_name: str = "Task",
) -> Any:
    """The result of the Task (or its ``StatesError``), as the engine would get it."""
    req = request(resource, parameters, state_name)
    handler = registry.resolve(req.base)
    assert handler is not None, f"no handler for {resource}"
    return asyncio.run(handler(req))


def registry_of(platform: Platform, mock: MockTestCase | None = None) -> IntegrationRegistry:
    return build_registry(platform, mock_test_case=mock)
