"""A refused service call as the Task error AWS reports: the error name and its cause text.

AWS names integration errors after the Java SDK exception the call raised, and the two kinds of
integration use two SDK generations:

- optimized integrations (``lambda:invoke``, ``sqs:sendMessage``, ``dynamodb:putItem``...) use
  SDK v1: ``<Prefix>.<ModelledException>`` (``DynamoDB.ConditionalCheckFailedException``,
  ``SNS.NotFoundException``), or ``<Prefix>.Amazon<Service>Exception`` for an error the model
  does not declare (``SQS.AmazonSQSException`` for ``MissingParameter``); the cause is
  ``<message> (Service: AmazonSQS; Status Code: 400; Error Code: MissingParameter; Request ID:
  <id>; Proxy: null)``;
- ``aws-sdk:*`` integrations use SDK v2: ``<Service>.<ModelledException>`` with the v2 client
  name (``DynamoDb.ResourceNotFoundException``, ``S3.NoSuchKeyException``), or
  ``<Service>.<Service>Exception`` (``DynamoDb.DynamoDbException``); the cause is ``<message>
  (Service: DynamoDb, Status Code: 400, Request ID: <id>)``, followed by `` (SDK Attempt Count:
  1)`` for the clients AWS's recordings show it on (``ATTEMPT_COUNT_CLIENTS``).
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.gateway.protocol.models import exception_shapes
from lambdamaker.services.stepfunctions.integrations.calls import CallFailed, protocol_for


@functools.cache
def _modelled(service: str) -> dict[str, str]:
    """Error code (and shape name) -> the modelled exception's name, ending in Exception."""
    shapes = exception_shapes(protocol_for(service).service_model)
    out: dict[str, str] = {}
    for name, shape in shapes.items():
        java = name if name.endswith("Exception") else f"{name}Exception"
        out[name] = java
        code = shape.metadata.get("error", {}).get("code")
        if code:
            out.setdefault(code, java)
    return out


def modelled_exception(service: str, code: str) -> str | None:
    return _modelled(service).get(code)


def sdk_v1_error(failure: CallFailed, prefix: str, label: str, fallback: str) -> StatesError:
    """The Task error of an optimized integration (SDK v1 naming)."""
    error = failure.error
    name = modelled_exception(failure.service, error.code) or fallback
    cause = (
        f"{error.message} (Service: {label}; Status Code: {error.status}; Error Code: "
        f"{error.code}; Request ID: {failure.request_id}; Proxy: null)"
    )
    return StatesError(f"{prefix}.{name}", cause)


# SDK v2 clients whose exception messages end with `` (SDK Attempt Count: <n>)``. The Java SDK
# v2 appends the attempt count since its 2025 releases (aws-sdk-java-v2 PR 5834); AWS's
# recordings show it on ``Sfn`` errors (recorded 2024) but not on ``DynamoDb`` ones (recorded
# 2023), so which integration clients carry it is known per client only from recordings.
ATTEMPT_COUNT_CLIENTS = frozenset({"Sfn"})


def sdk_v2_error(failure: CallFailed, client: str) -> StatesError:
    """The Task error of an ``aws-sdk:*`` integration (SDK v2 naming)."""
    error = failure.error
    name = modelled_exception(failure.service, error.code) or f"{client}Exception"
    cause = (
        f"{error.message} (Service: {client}, Status Code: {error.status}, "
        f"Request ID: {failure.request_id})"
    )
    if client in ATTEMPT_COUNT_CLIENTS:
        cause += " (SDK Attempt Count: 1)"  # one attempt: a refused call is not retried here
    return StatesError(f"{client}.{name}", cause)


MAX_RESULT_BYTES = 256 * 1024
"""A Task result larger than this (as UTF-8 JSON) fails with ``States.DataLimitExceeded``."""


def check_result_size(result: Any, resource: str) -> Any:
    """``result``, or ``States.DataLimitExceeded`` naming ``resource`` as AWS does (``lambda``
    for ``lambda:invoke``, the function ARN for a plain function resource). Unlike an oversized
    state output this one is not terminal: a Catch ``States.ALL`` takes it on AWS."""
    if len(orjson.dumps(result)) > MAX_RESULT_BYTES:
        raise StatesError(
            "States.DataLimitExceeded",
            f"The state/task '{resource}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
            terminal=False,
        )
    return result
