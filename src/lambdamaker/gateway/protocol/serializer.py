"""Results into HTTP responses that botocore parses back into the same dict.

One ``ResponseSerializer`` per service. Each operation's output plan is compiled on first use:
its header bindings, status-code member, payload member and body writer. Reserved result keys:
``__http_status__`` overrides the status (206 for a range GET), ``__http_headers__`` adds raw
headers. Header names we set are lower-case, so a provider's extra headers can override them.

Body formats:

- ``json``: the output structure as a JSON object (``application/x-amz-json-1.x``).
- ``rest-json``: header/status members bound to HTTP, the rest (or the payload member) as JSON.
- ``rest-xml``: the same, with an XML body; S3 roots carry S3's namespace and root names.
- ``query``: ``<OpResponse><OpResult>...</OpResult><ResponseMetadata><RequestId>`` in the
  service's namespace.

Errors are serialized by ``errors_wire``, which shares the header bindings defined here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape

from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.body import Body, StreamPayload
from lambdamaker.gateway.protocol.codes import S3_OUTPUT_ROOTS, S3_XMLNS
from lambdamaker.gateway.protocol.http import HttpResponse
from lambdamaker.gateway.protocol.json_codec import JsonWriters
from lambdamaker.gateway.protocol.json_unchanged import UnchangedChecks, fast_writer
from lambdamaker.gateway.protocol.models import payload_member
from lambdamaker.gateway.protocol.xml_codec import XmlWriters, escape, namespace_attr

Plan = Callable[[dict[str, Any], str], HttpResponse]
HeaderWriter = Callable[[Any], str]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

BOUND_LOCATIONS = frozenset(("header", "headers", "statusCode"))
"""Output member locations that are not in the body. botocore reads every other member (even
one modelled with ``location: uri``) from the body, so that is where we write them."""


def request_id_headers(protocol: str, service_name: str, request_id: str) -> dict[str, str]:
    if protocol == "rest-xml" and service_name == "s3":
        # S3 names its request id differently and pairs it with an "extended" host id.
        return {"x-amz-request-id": request_id, "x-amz-id-2": request_id}
    return {"x-amzn-requestid": request_id}


def header_writer(shape: Shape) -> HeaderWriter:
    """How a header-bound member's value is written (RFC 822 dates, lower-case booleans...)."""
    if isinstance(shape, ListShape):
        item = header_writer(shape.member)
        return lambda value: values.join_header_list([item(v) for v in value])
    kind = shape.type_name
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return lambda value: values.encode_base64(orjson.dumps(value))
    if kind == "boolean":
        return lambda value: "true" if value else "false"
    if kind in ("float", "double", "bigdecimal"):
        return values.float_text
    if kind == "timestamp":
        fmt = str(shape.serialization.get("timestampFormat", values.RFC822)).lower()
        return lambda value: values.timestamp_text(value, fmt)
    if kind == "blob":
        return values.encode_base64
    return str


class OutputBindings:
    """Where each member of a REST output (or error) structure goes in the response."""

    def __init__(self, shape: StructureShape) -> None:
        # member name -> (header name or prefix, writer or None for a prefixed header map)
        self.bound: dict[str, tuple[str, HeaderWriter | None]] = {}
        self.status_member: str | None = None
        self.has_body_members = False
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = str(member.serialization.get("name", name))
            if location == "header":
                self.bound[name] = (wire.lower(), header_writer(member))
            elif location == "headers":
                self.bound[name] = (wire.lower(), None)
            elif location == "statusCode":
                self.status_member = name
            elif location not in BOUND_LOCATIONS:
                self.has_body_members = True

    def apply(self, result: dict[str, Any], headers: dict[str, str]) -> int | None:
        """Write bound headers; return the status from a statusCode member, if any."""
        bound = self.bound
        if bound:
            # Results hold a few members, shapes dozens (HeadObject): walk the result.
            for name, value in result.items():
                spec = bound.get(name)
                if spec is None or value is None:
                    continue
                header, write = spec
                if write is not None:
                    headers[header] = write(value)
                else:
                    for key, item in value.items():
                        headers[header + key.lower()] = str(item)
        if self.status_member is not None and result.get(self.status_member) is not None:
            return int(result[self.status_member])
        return None


def finish(
    response: HttpResponse, result: dict[str, Any], status: int | None = None
) -> HttpResponse:
    """Apply the reserved keys ``__http_status__`` and ``__http_headers__``."""
    override = result.get("__http_status__")
    if override is not None:
        response.status = int(override)
    elif status is not None:
        response.status = status
    extra = result.get("__http_headers__")
    if extra:
        for key, value in extra.items():
            response.headers[key.lower()] = str(value)
    return response


class ResponseSerializer:
    def __init__(self, model: ServiceModel, protocol: str) -> None:
        self.model = model
        self.protocol = protocol
        self.service_name = model.service_name
        self._plans: dict[str, Plan] = {}
        self._json = JsonWriters()
        self._unchanged = UnchangedChecks(self._json)
        self._xml = XmlWriters()
        self._json_content_type = (
            f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        )
        self._namespace = model.metadata.get("xmlNamespace") or (
            S3_XMLNS if model.service_name == "s3" else None
        )

    def serialize(
        self, operation: OperationModel, result: dict[str, Any], request_id: str
    ) -> HttpResponse:
        plan = self._plans.get(operation.name)
        if plan is None:
            plan = self._plans[operation.name] = self._compile(operation)
        return plan(result, request_id)

    def _compile(self, operation: OperationModel) -> Plan:
        if self.protocol == "json":
            return self._json_plan(operation)
        if self.protocol == "query":
            return self._query_plan(operation)
        return self._rest_plan(operation)

    def _default_status(self, operation: OperationModel) -> int:
        return int(operation.http.get("responseCode", 200))

    # --- json ---------------------------------------------------------------------------------

    def _json_plan(self, operation: OperationModel) -> Plan:
        shape = operation.output_shape
        write = None
        if shape is not None:
            write = fast_writer(shape, self._json.struct_writer(shape), self._unchanged)
        content_type = self._json_content_type
        status = self._default_status(operation)

        def serialize_json(result: dict[str, Any], request_id: str) -> HttpResponse:
            body = orjson.dumps(write(result)) if write is not None else b"{}"
            headers = {"content-type": content_type, "x-amzn-requestid": request_id}
            return finish(HttpResponse(status, headers, body), result)

        return serialize_json

    # --- query --------------------------------------------------------------------------------

    def _query_plan(self, operation: OperationModel) -> Plan:
        shape = operation.output_shape
        name = operation.name
        ns = f' xmlns="{escape(self._namespace)}"' if self._namespace else ""
        head = f"<{name}Response{ns}>"
        tail = f"<ResponseMetadata><RequestId>{{}}</RequestId></ResponseMetadata></{name}Response>"
        write = None
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper")
            if wrapper:
                write = self._xml.struct_writer(shape, str(wrapper))
            else:
                write = self._xml.struct_writer(shape, "", members_only=True)
        status = self._default_status(operation)

        def serialize_query(result: dict[str, Any], request_id: str) -> HttpResponse:
            parts = [head]
            if write is not None:
                write(result, parts)
            parts.append(tail.format(escape(request_id)))
            headers = {"content-type": "text/xml", "x-amzn-requestid": request_id}
            return finish(HttpResponse(status, headers, "".join(parts).encode()), result)

        return serialize_query

    # --- rest ---------------------------------------------------------------------------------

    def _rest_plan(self, operation: OperationModel) -> Plan:
        shape = operation.output_shape
        status = self._default_status(operation)
        service = self.service_name
        protocol = self.protocol
        if shape is None:

            def serialize_empty(result: dict[str, Any], request_id: str) -> HttpResponse:
                headers = request_id_headers(protocol, service, request_id)
                return finish(HttpResponse(status, headers, b""), result)

            return serialize_empty
        bindings = OutputBindings(shape)
        body = self._rest_body_writer(operation, shape, bindings)

        def serialize_rest(result: dict[str, Any], request_id: str) -> HttpResponse:
            headers = request_id_headers(protocol, service, request_id)
            bound_status = bindings.apply(result, headers)
            response = HttpResponse(status, headers, body(result, headers))
            return finish(response, result, bound_status)

        return serialize_rest

    def _rest_body_writer(
        self, operation: OperationModel, shape: StructureShape, bindings: OutputBindings
    ) -> Callable[[dict[str, Any], dict[str, str]], bytes | StreamPayload]:
        payload = payload_member(shape)
        is_json = self.protocol == "rest-json"
        media = "application/json" if is_json else "application/xml"
        if payload is not None:
            member = shape.members[payload]
            if member.type_name in ("blob", "string"):
                default_type = (
                    "text/plain"
                    if member.type_name == "string"
                    else (
                        "binary/octet-stream"
                        if self.service_name == "s3"
                        else "application/octet-stream"
                    )
                )

                def write_raw(result: dict[str, Any], headers: dict[str, str]) -> Any:
                    value = result.get(payload)
                    if value is None:
                        return b""
                    headers.setdefault("content-type", default_type)
                    if isinstance(value, bytes | StreamPayload):
                        return value
                    if isinstance(value, str):
                        return value.encode("utf-8")
                    if isinstance(value, Body):
                        return value.read()
                    return bytes(value)

                return write_raw
            if is_json:
                json_write = self._json.writer(member)

                def write_json_payload(result: dict[str, Any], headers: dict[str, str]) -> Any:
                    value = result.get(payload)
                    if value is None:
                        return b""
                    headers.setdefault("content-type", media)
                    return orjson.dumps(value if json_write is None else json_write(value))

                return write_json_payload
            root = str(member.serialization.get("name", payload))
            xml_write = self._xml.writer(member, root, extra_attrs=self._root_ns(member))

            def write_xml_payload(result: dict[str, Any], headers: dict[str, str]) -> Any:
                value = result.get(payload)
                if value is None:
                    return b""
                headers.setdefault("content-type", media)
                parts = [XML_DECLARATION]
                xml_write(value, parts)
                return "".join(parts).encode()

            return write_xml_payload
        if not bindings.has_body_members:
            return lambda result, headers: b""
        if is_json:
            write_json = fast_writer(
                shape,
                self._json.struct_writer(shape, skip=BOUND_LOCATIONS),
                self._unchanged,
                BOUND_LOCATIONS,
            )

            def write_json_body(result: dict[str, Any], headers: dict[str, str]) -> Any:
                headers.setdefault("content-type", media)
                return orjson.dumps(write_json(result))

            return write_json_body
        if self.service_name == "s3" and operation.name == "GetBucketLocation":
            return self._s3_location_writer()
        known = S3_OUTPUT_ROOTS.get(operation.name) if self.service_name == "s3" else None
        root = known or str(shape.serialization.get("name", shape.name))
        write_xml = self._xml.struct_writer(
            shape, root, skip=BOUND_LOCATIONS, extra_attrs=self._root_ns(shape)
        )

        def write_xml_body(result: dict[str, Any], headers: dict[str, str]) -> Any:
            headers.setdefault("content-type", media)
            parts = [XML_DECLARATION]
            write_xml(result, parts)
            return "".join(parts).encode()

        return write_xml_body

    def _root_ns(self, shape: Shape) -> str:
        """S3 puts its namespace on every root element; the model rarely says so."""
        if self.service_name == "s3" and not namespace_attr(shape):
            return f' xmlns="{S3_XMLNS}"'
        return ""

    def _s3_location_writer(
        self,
    ) -> Callable[[dict[str, Any], dict[str, str]], bytes | StreamPayload]:
        # botocore reads GetBucketLocation from the root element's text (handlers.py,
        # parse_get_bucket_location): <LocationConstraint>eu-west-1</LocationConstraint>.
        def write_location(result: dict[str, Any], headers: dict[str, str]) -> Any:
            headers.setdefault("content-type", "application/xml")
            region = escape(str(result.get("LocationConstraint") or ""))
            return (
                f'{XML_DECLARATION}<LocationConstraint xmlns="{S3_XMLNS}">{region}'
                "</LocationConstraint>"
            ).encode()

        return write_location
