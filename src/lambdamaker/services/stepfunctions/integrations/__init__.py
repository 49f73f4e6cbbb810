"""What Task resources do: the service integrations of Step Functions, on this platform.

``build_registry(platform, mock_test_case=None)`` returns the ``IntegrationRegistry`` one
execution's Tasks resolve against (the engine's interface: ``engines.workflows.tasks``).

Modules (one per integration family):

- ``calls``          in-process provider calls: JSON parameters -> the provider convention
                     (case-insensitive member names, JSON text for non-string members),
                     botocore validation, sync providers in a thread; results back to JSON.
- ``faults``         refused calls as AWS's Task errors (SDK v1 names for optimized
                     integrations, SDK v2 names for ``aws-sdk:*``); States.DataLimitExceeded.
- ``metadata``       ``SdkHttpMetadata`` / ``SdkResponseMetadata`` of optimized results.
- ``optimized``      the shared request-response shape (SQS, SNS, DynamoDB, EventBridge...).
- ``lambda_invoke``  ``lambda:invoke`` and plain function ARNs.
- ``sqs``, ``sns``, ``dynamodb``, ``events``  the optimized integrations of those services.
- ``states``         nested executions: ``states:startExecution`` (``.sync``, ``.sync:2``).
- ``aws_sdk``        ``aws-sdk:<service>:<action>`` routed to this platform's providers.
- ``mocking``        ``MockConfigFile.json`` (Step Functions Local / LocalStack).

A new family (SageMaker's ``createTrainingJob.sync``...) is one module with a
``handlers(platform) -> {base resource ARN: handler}`` function, added to ``FAMILIES``; a
``.sync`` handler starts the job, awaits its terminal state and returns the description.

Invariants:
- a handler never raises anything but ``StatesError`` for a user's input or a service's
  refusal (the error names and causes AWS gives); it never blocks the event loop (blocking
  providers run in a worker thread);
- handlers talk to providers in-process only, never over HTTP, and never write another
  service's tables: they go through that service's operations;
- ``.waitForTaskToken`` handlers only deliver the token (the engine waits for it);
- with a mock test case, a mocked state never reaches its service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import IntegrationRegistry, TaskHandler, TaskRequest
from lambdamaker.services.stepfunctions.integrations import (
    aws_sdk,
    dynamodb,
    events,
    lambda_invoke,
    sns,
    sqs,
    states,
)
from lambdamaker.services.stepfunctions.integrations.mocking import (
    MockConfig,
    MockConfigError,
    MockTestCase,
    load_mock_test_case,
    mocked,
    split_test_case,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

FAMILIES: list[Callable[[Platform], dict[str, TaskHandler]]] = [
    sqs.handlers,
    sns.handlers,
    dynamodb.handlers,
    events.handlers,
    states.handlers,
]
"""Integration families registered by exact base ARN."""


def build_registry(
    platform: Platform, *, mock_test_case: MockTestCase | None = None
) -> IntegrationRegistry:
    """The integrations of ``platform``; with ``mock_test_case``, the states it lists answer
    from the mock configuration (and any resource may be mocked, even one this platform does
    not integrate)."""
    registry = IntegrationRegistry()

    def wrap(handler: TaskHandler, payload_only: bool = False) -> TaskHandler:
        if mock_test_case is None:
            return handler
        return mocked(platform, handler, mock_test_case, payload_only=payload_only)

    registry.register(lambda_invoke.INVOKE, wrap(lambda_invoke.invoke_handler(platform)))
    registry.register_prefix(
        lambda_invoke.FUNCTION_PREFIX,
        wrap(lambda_invoke.function_handler(platform), payload_only=True),
    )
    for family in FAMILIES:
        for base, handler in family(platform).items():
            registry.register(base, wrap(handler))
    registry.register_prefix(aws_sdk.PREFIX, wrap(aws_sdk.handler(platform)))
    if mock_test_case is not None:
        registry.register_prefix("arn:", wrap(_unsupported))
    return registry


async def _unsupported(request: TaskRequest) -> Any:
    raise StatesError(
        "States.Runtime",
        f"The resource '{request.resource}' of state '{request.state_name}' is not supported "
        "by this platform and is not mocked in this test case.",
    )


__all__ = [
    "FAMILIES",
    "MockConfig",
    "MockConfigError",
    "MockTestCase",
    "build_registry",
    "load_mock_test_case",
    "mocked",
    "split_test_case",
]
