"""``ServiceError`` into the error response of each protocol, as botocore parses it back.

- ``json``: ``{"__type": Code, "message": ...}`` plus ``x-amzn-errortype``. Query-compatible
  services (SQS, CloudWatch) add ``x-amzn-query-error: <query code>;Sender|Receiver``; the
  ``__type`` is then the modelled shape name and the header carries the code clients report.
- ``rest-json``: ``x-amzn-errortype`` + ``{"message": ..., "Type": "User"|"Server"}`` (Lambda's
  form; ``Type`` is the fault side).
- ``query``: ``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``.
- ``rest-xml``: S3's ``<Error><Code/><Message/>...<RequestId/><HostId/></Error>``; other rest-xml
  services use the query form.

``error.fields`` are written through the modelled error shape when there is one (so header
members become headers and ``locationName`` renames apply) and as plain elements/keys
otherwise (S3's ``BucketName`` is not modelled). A HEAD request or a 304 gets no body.
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel, StructureShape

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol.codes import LEGACY_QUERY_CODES
from lambdamaker.gateway.protocol.http import HttpResponse
from lambdamaker.gateway.protocol.json_codec import JsonWriters
from lambdamaker.gateway.protocol.models import exception_shapes
from lambdamaker.gateway.protocol.serializer import (
    BOUND_LOCATIONS,
    XML_DECLARATION,
    OutputBindings,
    request_id_headers,
)
from lambdamaker.gateway.protocol.xml_codec import XmlWriters, escape


class _ErrorPlan:
    """How one modelled error shape's fields are written."""

    def __init__(self, shape: StructureShape | None, json: JsonWriters, xml: XmlWriters) -> None:
        self.shape = shape
        members = shape.members if shape is not None else {}
        self.message_key = "Message" if "Message" in members else "message"
        self.bindings = OutputBindings(shape) if shape is not None else None
        self.json_members = {
            name: (str(m.serialization.get("name", name)), json.writer(m))
            for name, m in members.items()
            if m.serialization.get("location") not in BOUND_LOCATIONS
        }
        self.xml_members = {
            name: xml.writer(m, str(m.serialization.get("name", name)))
            for name, m in members.items()
            if m.serialization.get("location") not in BOUND_LOCATIONS
        }

    def json_fields(self, fields: dict[str, Any], out: dict[str, Any]) -> None:
        for name, value in fields.items():
            if value is None:
                continue
            spec = self.json_members.get(name)
            if spec is None:
                if self.shape is None or name not in self.shape.members:
                    out[name] = value  # not modelled (or modelled as a header): keep it visible
                continue
            wire, write = spec
            out[wire] = value if write is None else write(value)

    def xml_fields(self, fields: dict[str, Any], parts: list[str]) -> None:
        for name, value in fields.items():
            if value is None:
                continue
            write = self.xml_members.get(name)
            if write is not None:
                write(value, parts)
            elif self.shape is None or name not in self.shape.members:
                parts.append(f"<{name}>{escape(str(value))}</{name}>")


class ErrorSerializer:
    def __init__(self, model: ServiceModel, protocol: str) -> None:
        self.model = model
        self.protocol = protocol
        self.service_name = model.service_name
        self._json = JsonWriters()
        self._xml = XmlWriters()
        self._plans: dict[str, _ErrorPlan] = {}
        self._shapes: dict[str, StructureShape] | None = None
        self._query_compatible = "awsQueryCompatible" in model.metadata
        self._legacy = LEGACY_QUERY_CODES.get(model.service_name, {})
        self._json_content_type = (
            f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        )
        self._namespace = model.metadata.get("xmlNamespace")

    # --- modelled error shapes ----------------------------------------------------------------

    def _shape_index(self) -> dict[str, StructureShape]:
        if self._shapes is None:
            index: dict[str, StructureShape] = {}
            for name, shape in exception_shapes(self.model).items():
                index[name] = shape
                code = shape.metadata.get("error", {}).get("code")
                if code:
                    index.setdefault(str(code), shape)
            for shape_name, legacy in self._legacy.items():
                if shape_name in index:
                    index.setdefault(legacy, index[shape_name])
            self._shapes = index
        return self._shapes

    def _plan(self, code: str) -> _ErrorPlan:
        plan = self._plans.get(code)
        if plan is None:
            shape = self._shape_index().get(code)
            plan = self._plans[code] = _ErrorPlan(shape, self._json, self._xml)
        return plan

    def _query_names(self, code: str, shape: StructureShape | None) -> tuple[str, str]:
        """(JSON ``__type``, query code) of an error raised with ``code``."""
        if shape is None:
            return code, self._legacy.get(code, code)
        modelled = shape.metadata.get("error", {}).get("code")
        query_code = str(modelled) if modelled else self._legacy.get(shape.name, code)
        if code != shape.name and code != query_code:
            query_code = code
        return shape.name, query_code

    # --- entry point --------------------------------------------------------------------------

    def serialize(
        self, error: ServiceError, operation: OperationModel | None, request_id: str
    ) -> HttpResponse:
        plan = self._plan(error.code)
        headers = request_id_headers(self.protocol, self.service_name, request_id)
        if plan.bindings is not None:
            plan.bindings.apply(error.fields, headers)
        no_body = error.status == 304 or (
            operation is not None and operation.http.get("method", "").upper() == "HEAD"
        )
        if self.protocol in ("json", "rest-json"):
            body = self._json_body(error, plan, headers)
        elif self.protocol == "rest-xml" and self.service_name == "s3":
            body = self._s3_body(error, plan, request_id, headers)
        else:
            body = self._query_body(error, plan, request_id, headers)
        for key, value in error.headers.items():
            headers[key.lower()] = value
        if no_body:
            headers.pop("content-type", None)
            body = b""
        return HttpResponse(error.status, headers, body)

    def _json_body(self, error: ServiceError, plan: _ErrorPlan, headers: dict[str, str]) -> bytes:
        code = error.code
        doc: dict[str, Any] = {}
        if self.protocol == "json":
            if self._query_compatible:
                type_name, query_code = self._query_names(code, plan.shape)
                fault = "Sender" if error.sender_fault and error.status < 500 else "Receiver"
                headers["x-amzn-query-error"] = f"{query_code};{fault}"
                code = type_name
            doc["__type"] = code
            headers["content-type"] = self._json_content_type
        else:
            doc["Type"] = "User" if error.sender_fault and error.status < 500 else "Server"
            headers["content-type"] = "application/json"
        headers["x-amzn-errortype"] = code
        if error.message:
            doc[plan.message_key] = error.message
        plan.json_fields(error.fields, doc)
        return orjson.dumps(doc, default=str)

    def _query_body(
        self, error: ServiceError, plan: _ErrorPlan, request_id: str, headers: dict[str, str]
    ) -> bytes:
        fault = "Sender" if error.sender_fault and error.status < 500 else "Receiver"
        ns = f' xmlns="{escape(self._namespace)}"' if self._namespace else ""
        code = self._legacy.get(error.code, error.code)  # SQS's query form: its legacy codes
        parts = [
            f"<ErrorResponse{ns}><Error><Type>{fault}</Type>",
            f"<Code>{escape(code)}</Code><Message>{escape(error.message)}</Message>",
        ]
        plan.xml_fields(error.fields, parts)
        parts.append(f"</Error><RequestId>{escape(request_id)}</RequestId></ErrorResponse>")
        headers["content-type"] = "text/xml"
        return "".join(parts).encode()

    def _s3_body(
        self, error: ServiceError, plan: _ErrorPlan, request_id: str, headers: dict[str, str]
    ) -> bytes:
        parts = [
            f"{XML_DECLARATION}<Error><Code>{escape(error.code)}</Code>",
            f"<Message>{escape(error.message)}</Message>",
        ]
        plan.xml_fields(error.fields, parts)
        rid = escape(request_id)
        parts.append(f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>")
        headers["content-type"] = "application/xml"
        return "".join(parts).encode()
