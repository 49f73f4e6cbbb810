"""Calling this platform's providers in-process, as a Task does: no HTTP, no signing.

``call(platform, service, operation, params)`` does what the gateway does between the wire and
the provider: it converts the Task's JSON parameters to the operation's params convention
(member names matched case-insensitively, as AWS's SDK integrations accept ``TableName`` for
``tableName``; a non-string value for a string or blob member becomes its compact JSON text;
blobs become bytes, timestamps datetimes, a streaming payload a ``Body``), validates them
against botocore's model (so bad input gets the same ``ValidationException`` a boto3 user
gets), runs the operation (a coroutine is awaited, anything else runs in a worker thread since
providers block on the store), and returns the raw result dict.

``to_json(result, shape, recase=...)`` turns a provider's result back into a JSON value: bytes
as text (a streaming payload as UTF-8, other blobs in base64), timestamps as ISO 8601 (or epoch
milliseconds), and, with ``recase``, structure member names as AWS's integrations answer
them: the model's name with an upper-case first letter (``executionArn`` -> ``ExecutionArn``,
``ChecksumCRC32`` as is). Map values keep their names (DynamoDB items stay ``{"S": ...}``).

Invariants: a provider's ``ServiceError`` propagates unchanged (with the request id it was
given in ``CallFailed``); nothing here raises anything else for a user's input.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol.body import Body, StreamPayload
from lambdamaker.gateway.protocol.service import ServiceProtocol
from lambdamaker.gateway.protocol.values import BadValue, parse_timestamp
from lambdamaker.services.base import RequestContext

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class CallFailed(Exception):
    """A provider refused the call: its ``ServiceError`` and the request id of the call."""

    def __init__(self, error: ServiceError, request_id: str, service: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.request_id = request_id
        self.service = service


class NotProvided(Exception):
    """The service (or the operation) exists in AWS but this platform does not serve it."""


@dataclass
class CallResult:
    output: dict[str, Any]
    request_id: str
    operation: OperationModel


def compact_json(value: Any) -> str:
    """JSON text as Step Functions writes it: no spaces."""
    return orjson.dumps(value).decode()


def protocol_for(service: str) -> ServiceProtocol:
    return ServiceProtocol.for_service(service)


def operation_model(service: str, operation: str) -> OperationModel:
    """botocore's model of ``operation`` (PascalCase or camelCase); ``NotProvided`` if none."""
    model = protocol_for(service).service_model
    names = _operation_index(service)
    found = names.get(operation.lower())
    if found is None:
        raise NotProvided(f"{service} has no operation {operation}")
    return model.operation_model(found)


_OP_INDEX: dict[str, dict[str, str]] = {}


def _operation_index(service: str) -> dict[str, str]:
    index = _OP_INDEX.get(service)
    if index is None:
        names = protocol_for(service).service_model.operation_names
        index = _OP_INDEX[service] = {name.lower(): name for name in names}
    return index


async def call(
    platform: Platform,
    service: str,
    operation: str,
    params: Any,
    *,
    region: str,
    account_id: str,
) -> CallResult:
    """Run ``service``'s ``operation`` on this platform with Task ``params`` (a JSON object).

    Raises ``NotProvided`` when the platform has no such provider or operation and
    ``CallFailed`` when the provider (or validation) refuses the call."""
    provider = platform.providers.get(service)
    if provider is None:
        raise NotProvided(f"The service {service} is not provided by this platform")
    op = operation_model(service, operation)
    request_id = str(uuid.uuid4())
    handler = provider.operation(op.name)
    if handler is None:
        raise NotProvided(f"The operation {op.name} of {service} is not implemented")
    try:
        converted = to_params(params if params is not None else {}, op.input_shape)
        if not isinstance(converted, dict):
            raise ServiceError(
                "Start of structure or map found where not expected.",
                code="SerializationException",
            )
        protocol_for(service).validate(op, converted)
        ctx = RequestContext(
            request_id,
            service,
            op.name,
            region,
            account_id,
            endpoint_url=platform.local_endpoint(),
        )
        if inspect.iscoroutinefunction(handler):
            result = await handler(ctx, converted)
        else:
            result = await asyncio.to_thread(handler, ctx, converted)
    except ServiceError as exc:
        raise CallFailed(exc, request_id, service) from exc
    return CallResult(result or {}, request_id, op)


# --- parameters: JSON -> the params convention ----------------------------------------------


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def to_params(value: Any, shape: Shape | None) -> Any:
    """``value`` (JSON) as ``shape`` wants it; unknown members are kept for the validator."""
    if shape is None or value is None:
        return value
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return value
        members = {_key(name): (name, member) for name, member in shape.members.items()}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                # A JSON null is an unset member to the SDK: the service reports it missing.
                continue
            bound = members.get(_key(key))
            if bound is None:
                out[key] = item
                continue
            name, member = bound
            payload = name == shape.serialization.get("payload")
            streaming = payload and bool(member.serialization.get("streaming"))
            out[name] = _member_value(item, member, streaming, payload)
        return out
    if isinstance(shape, ListShape):
        if isinstance(value, list):
            return [to_params(item, shape.member) for item in value]
        return value
    if isinstance(shape, MapShape):
        if isinstance(value, dict):
            return {k: to_params(v, shape.value) for k, v in value.items()}
        return value
    return _member_value(value, shape, False, False)


def _member_value(value: Any, shape: Shape, streaming: bool, payload: bool) -> Any:
    """One member's value. A payload blob given text is that text's UTF-8 (S3 bodies, Lambda
    payloads); any other blob given text is base64 when it decodes as such."""
    kind = shape.type_name
    if value is None:
        return None
    if kind == "string" and not isinstance(value, str):
        return compact_json(value)
    if kind == "blob":
        if isinstance(value, bytes):
            return Body.from_bytes(value) if streaming else value
        data = value.encode() if isinstance(value, str) else compact_json(value).encode()
        if streaming:
            return Body.from_bytes(data)
        if isinstance(value, str) and not payload:
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return data
        return data
    if kind == "timestamp" and isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return parse_timestamp(value)
        except BadValue:
            # Left as it is: the validator reports the wrong type as AWS does.
            return value
    if isinstance(shape, StructureShape | ListShape | MapShape):
        return to_params(value, shape)
    return value


# --- results: the params convention -> JSON ------------------------------------------------


def sdk_case(name: str) -> str:
    """A member name as AWS's integrations write it: the model's name with an upper-case
    first letter (``executionArn`` -> ``ExecutionArn``; ``ChecksumCRC32`` stays)."""
    return name[:1].upper() + name[1:]


def to_json(
    value: Any, shape: Shape | None, *, recase: bool = True, epoch_millis: bool = False
) -> Any:
    """A provider result (or part of one) as a JSON value."""
    if value is None:
        return None
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        out: dict[str, Any] = {}
        payload = shape.serialization.get("payload")
        for name, item in value.items():
            member = shape.members.get(name)
            key = sdk_case(name) if recase and member is not None else name
            if member is not None and name == payload and member.type_name == "blob":
                out[key] = _text(item)
            else:
                out[key] = to_json(item, member, recase=recase, epoch_millis=epoch_millis)
        return out
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [to_json(v, shape.member, recase=recase, epoch_millis=epoch_millis) for v in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        # Map values keep their member names (DynamoDB's {"S": ...} stays as is).
        return {
            k: to_json(v, shape.value, recase=False, epoch_millis=epoch_millis)
            for k, v in value.items()
        }
    return _scalar(value, epoch_millis)


def _text(value: Any) -> str:
    if isinstance(value, StreamPayload | Body):
        value = value.read()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _scalar(value: Any, epoch_millis: bool) -> Any:
    if isinstance(value, datetime):
        if epoch_millis:
            return int(value.timestamp() * 1000)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, StreamPayload | Body):
        return _text(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _scalar(v, epoch_millis) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scalar(v, epoch_millis) for v in value]
    return value
