"""``ServiceProtocol``: the protocol layer's one entry point, one instance per service."""

from __future__ import annotations

import functools
from typing import Any

from botocore.model import OperationModel, ServiceModel

from lambdamaker.errors import ConfigError, ServiceError, UnknownOperationError
from lambdamaker.gateway.protocol.codes import ErrorCodes, codes_for
from lambdamaker.gateway.protocol.errors_wire import ErrorSerializer
from lambdamaker.gateway.protocol.http import HttpRequest, HttpResponse
from lambdamaker.gateway.protocol.legacy_query import (
    accepts_legacy_query,
    legacy_query_model,
    path_member,
)
from lambdamaker.gateway.protocol.models import load_service_model, resolve_protocol
from lambdamaker.gateway.protocol.operations import ActionFinder, RestRouter, TargetFinder
from lambdamaker.gateway.protocol.parser import RequestParser
from lambdamaker.gateway.protocol.serializer import ResponseSerializer
from lambdamaker.gateway.protocol.validate import Validator


class ServiceProtocol:
    """Find, parse, validate and serialize the operations of one AWS service.

    ``for_service("s3")`` is cached for the life of the process; build one directly from a
    ``ServiceModel`` for models that botocore does not ship (the protocol test suites).
    Every method is safe to call from several threads: per-operation plans are compiled on
    first use and a race only compiles the same plan twice.
    """

    service_model: ServiceModel
    protocol: str

    def __init__(self, service_model: ServiceModel, protocol: str | None = None) -> None:
        self.service_model = service_model
        listed = service_model.metadata.get("protocols") or [service_model.protocol]
        if protocol is not None and protocol not in listed:
            raise ConfigError(f"{service_model.service_name} does not speak {protocol}")
        self.protocol = protocol or resolve_protocol(service_model)
        self.service_name = service_model.service_name
        self.codes: ErrorCodes = codes_for(self.service_name, self.protocol)
        router: RestRouter | None = None
        if self.protocol == "json":
            self._finder: TargetFinder | ActionFinder | RestRouter = TargetFinder(
                service_model, self.codes
            )
        elif self.protocol == "query":
            self._finder = ActionFinder(service_model, self.codes)
        else:
            router = RestRouter(service_model, self.codes)
            self._finder = router
        self._parser = RequestParser(self.protocol, self.codes, router)
        self._validator = Validator(self.codes)
        self._serializer = ResponseSerializer(service_model, self.protocol)
        self._errors = ErrorSerializer(service_model, self.protocol)
        self._streaming: dict[str, bool] = {}
        self._path_member = path_member(service_model) if self.protocol == "query" else None

    @classmethod
    def for_service(cls, service_name: str, protocol: str | None = None) -> ServiceProtocol:
        """The cached instance for a botocore service name (``s3``, ``lambda``, ``iam``...).

        ``protocol`` picks one of the protocols a multi-protocol model lists (CloudWatch and
        SQS also accept ``query`` from older SDKs); by default, the one botocore speaks.
        """
        return _cached(service_name, protocol)

    def find_operation(self, request: HttpRequest) -> OperationModel:
        return self._finder.find(request)

    def has_streaming_input(self, operation: OperationModel) -> bool:
        """True when the input payload is a streaming blob: the gateway spools it to a Body."""
        found = self._streaming.get(operation.name)
        if found is None:
            shape = operation.input_shape
            name = shape.serialization.get("payload") if shape is not None else None
            member = shape.members[name] if shape is not None and name else None
            found = bool(
                member is not None
                and member.type_name == "blob"
                and member.serialization.get("streaming")
            )
            self._streaming[operation.name] = found
        return found

    def parse(self, request: HttpRequest, operation: OperationModel) -> dict[str, Any]:
        params = self._parser.parse(request, operation)
        member = self._path_member
        if member is not None and member not in params and request.path.strip("/"):
            shape = operation.input_shape
            if shape is not None and member in shape.members:
                # Sent straight to a queue URL: the path names the queue.
                params[member] = f"http://{request.host or 'localhost'}{request.path}"
        return params

    def validate(self, operation: OperationModel, params: dict[str, Any]) -> None:
        """Raises the validation error for ``params``. Params that ``parse`` just returned from
        its fused read-and-validate path are known valid and not walked again, so a caller must
        validate them before changing them (the gateway validates right after parsing)."""
        if params is self._parser.vouched:
            self._parser.vouched = None
            return
        self._validator.validate(operation, params)

    def serialize(
        self, operation: OperationModel, result: dict[str, Any] | None, request_id: str
    ) -> HttpResponse:
        """``result`` follows the provider convention; None counts as ``{}``."""
        return self._serializer.serialize(operation, result or {}, request_id)

    def serialize_error(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        return self._errors.serialize(error, operation, request_id)

    def not_implemented(self, operation: OperationModel) -> ServiceError:
        """The error for an operation the model has but no provider implements."""
        if self.protocol == "rest-xml":
            code, status = "NotImplemented", 501
        else:
            code, status = self.codes.unknown_operation
            status = 501 if self.protocol == "rest-json" else status
        return UnknownOperationError(
            f"The operation {operation.name} is not implemented by lambdamaker's "
            f"{self.service_name} service",
            code=code,
            status=status,
        )

    def __repr__(self) -> str:
        return f"ServiceProtocol({self.service_name!r}, protocol={self.protocol!r})"


@functools.cache
def _cached(service_name: str, protocol: str | None) -> ServiceProtocol:
    model = load_service_model(service_name)
    if protocol == "query" and accepts_legacy_query(model):
        model = legacy_query_model(service_name)  # SQS: the query form older SDKs speak
    return ServiceProtocol(model, protocol)
