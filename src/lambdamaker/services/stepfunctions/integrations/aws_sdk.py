"""AWS SDK integrations: ``arn:aws:states:::aws-sdk:<service>:<action>`` routed to this
platform's own providers in-process (request-response and ``.waitForTaskToken``).

- ``<service>`` is the SDK v2 name AWS uses (``s3``, ``dynamodb``, ``sfn``, ``eventbridge``,
  ``cloudwatchlogs``...) or botocore's; ``<action>`` the operation in camelCase
  (``getObject`` -> ``GetObject``);
- parameters are the operation's members in PascalCase, matched to botocore's names
  case-insensitively (see ``calls``);
- the result is the operation's output with structure member names first-letter upper-cased,
  a streaming payload as text (S3 GetObject's ``Body``), timestamps in ISO 8601, a map read
  from a header prefix always present (S3's ``Metadata``, ``{}`` when empty, as the SDK v2
  reads it);
- a refused call fails with ``<Client>.<Modelled>Exception`` or ``<Client>.<Client>Exception``
  (``DynamoDb.ResourceNotFoundException``, ``S3.NoSuchKeyException``,
  ``DynamoDb.DynamoDbException``) and the SDK v2 cause text;
- a service AWS has but this platform does not serve (``secretsmanager``...) or an operation no
  provider implements fails the same way, ``<Client>.<Client>Exception`` with status 501.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.tasks import TaskHandler, TaskRequest
from lambdamaker.errors import ConfigError
from lambdamaker.gateway.protocol.models import load_service_model
from lambdamaker.services.stepfunctions.integrations.calls import (
    CallFailed,
    NotProvided,
    call,
    sdk_case,
    to_json,
)
from lambdamaker.services.stepfunctions.integrations.faults import (
    check_result_size,
    sdk_v2_error,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

PREFIX = "arn:aws:states:::aws-sdk:"

# Step Functions' service name -> (botocore's name, the SDK v2 client name in error names).
SERVICES: dict[str, tuple[str, str]] = {
    "apigatewayv2": ("apigatewayv2", "ApiGatewayV2"),
    "cloudwatchlogs": ("logs", "CloudWatchLogs"),
    "dynamodb": ("dynamodb", "DynamoDb"),
    "dynamodbstreams": ("dynamodbstreams", "DynamoDbStreams"),
    "eventbridge": ("events", "EventBridge"),
    "iam": ("iam", "Iam"),
    "kinesis": ("kinesis", "Kinesis"),
    "lambda": ("lambda", "Lambda"),
    "s3": ("s3", "S3"),
    "scheduler": ("scheduler", "Scheduler"),
    "sfn": ("stepfunctions", "Sfn"),
    "sns": ("sns", "Sns"),
    "sqs": ("sqs", "Sqs"),
    "sts": ("sts", "Sts"),
}
_BOTOCORE_ALIASES = {"stepfunctions": "sfn", "events": "eventbridge", "logs": "cloudwatchlogs"}


def resolve_service(name: str) -> tuple[str, str]:
    """(botocore service name, SDK v2 client name) of an ``aws-sdk`` service name; raises
    ``StatesError(States.Runtime)`` for a name no AWS SDK knows."""
    key = _BOTOCORE_ALIASES.get(name.lower(), name.lower())
    known = SERVICES.get(key)
    if known is not None:
        return known
    try:
        model = load_service_model(key)
    except ConfigError:
        raise StatesError(
            "States.Runtime", f"The AWS SDK service '{name}' is not recognized."
        ) from None
    service_id = str(model.metadata.get("serviceId") or key)
    client = "".join(part[:1].upper() + part[1:] for part in service_id.split())
    return key, client


def parse_resource(base: str) -> tuple[str, str]:
    """``(service, action)`` of ``arn:aws:states:::aws-sdk:<service>:<action>``."""
    rest = base[len(PREFIX) :]
    service, _, action = rest.partition(":")
    if not service or not action:
        raise StatesError("States.Runtime", f"Invalid AWS SDK resource: '{base}'.")
    return service, action


def _not_provided(client: str, message: str) -> StatesError:
    cause = f"{message} (Service: {client}, Status Code: 501, Request ID: {uuid.uuid4()})"
    return StatesError(f"{client}.{client}Exception", cause)


def _with_default_checksum(service: str, action: str, params: Any) -> Any:
    """S3 uploads carry a CRC32 as the SDK v2 AWS uses sends one (S3 then answers it)."""
    if service != "s3" or action.lower() != "putobject" or not isinstance(params, dict):
        return params
    if any(key.lower().startswith("checksum") for key in params):
        return params
    return {**params, "ChecksumAlgorithm": "CRC32"}


def _with_header_maps(answer: Any, shape: Any) -> Any:
    """AWS's SDK v2 reads a map bound to a header prefix (S3's ``Metadata``, from
    ``x-amz-meta-*``) from the response headers, so it is always there: ``{}`` when no header
    has the prefix. Other unset members stay absent."""
    if not isinstance(answer, dict) or shape is None:
        return answer
    for name, member in shape.members.items():
        if member.type_name == "map" and member.serialization.get("location") == "headers":
            answer.setdefault(sdk_case(name), {})
    return answer


def handler(platform: Platform) -> TaskHandler:
    """The one handler every ``aws-sdk:*`` resource resolves to (a prefix registration)."""

    async def handle(request: TaskRequest) -> Any:
        if request.pattern not in ("", ".waitForTaskToken"):
            raise StatesError(
                "States.Runtime",
                f"The resource '{request.resource}' does not support the integration pattern "
                f"'{request.pattern}'.",
            )
        service_name, action = parse_resource(request.base)
        service, client = resolve_service(service_name)
        params = _with_default_checksum(service, action, request.parameters)
        try:
            result = await call(
                platform,
                service,
                action,
                params,
                region=request.region,
                account_id=request.account_id,
            )
        except CallFailed as failure:
            raise sdk_v2_error(failure, client) from None
        except NotProvided as missing:
            raise _not_provided(client, str(missing)) from None
        answer = _with_header_maps(
            to_json(result.output, result.operation.output_shape, recase=True),
            result.operation.output_shape,
        )
        return check_result_size(answer, f"{service_name}:{action}")

    return handle
