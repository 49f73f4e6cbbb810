"""Requests into params dicts, for each protocol, from compiled per-operation plans.

``RequestParser.parse(request, operation)`` returns the operation's input as the provider
convention wants it (botocore member names; ``datetime``, ``bytes``, a ``Body`` for streaming
payloads). A malformed body or a value of the wrong type raises the service's own
serialization error (``codes.ErrorCodes.malformed``); nothing else ever escapes.

A plan is compiled the first time an operation is parsed and kept (see ``_plan``): it binds
each URI label, query key and header name to a member and its converter, and holds the
compiled body reader, so parsing does no model lookups at request time.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.gateway.protocol.codes import ErrorCodes
from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.protocol.json_codec import JsonReaders
from lambdamaker.gateway.protocol.json_fused import FusedJson
from lambdamaker.gateway.protocol.models import payload_member
from lambdamaker.gateway.protocol.operations import RestRouter
from lambdamaker.gateway.protocol.query_codec import QueryReaders, build_tree
from lambdamaker.gateway.protocol.values import BadValue
from lambdamaker.gateway.protocol.xml_codec import MalformedXml, XmlReaders, parse_xml

Plan = Callable[[HttpRequest], dict[str, Any]]
TextConverter = Callable[[str], Any]

MAX_DECOMPRESSED = 64 * 1024 * 1024
"""A compressed request body may not inflate past this (a gzip bomb is a malformed request)."""


class RequestParser:
    def __init__(
        self,
        protocol: str,
        codes: ErrorCodes,
        router: RestRouter | None = None,
    ) -> None:
        self.protocol = protocol
        self._codes = codes
        self._router = router
        self._plans: dict[str, Plan] = {}
        self._json = JsonReaders()
        self._fused = FusedJson(codes.check_enums)
        self.vouched: dict[str, Any] | None = None
        """The params the last ``parse`` returned when they were read by the fused path and so
        are already valid (see ``json_fused``); ``ServiceProtocol.validate`` skips them."""
        self._xml = XmlReaders()
        self._query = QueryReaders()

    def parse(self, request: HttpRequest, operation: OperationModel) -> dict[str, Any]:
        self.vouched = None
        plan = self._plans.get(operation.name)
        if plan is None:
            plan = self._plans[operation.name] = self._compile(operation)
        try:
            return plan(request)
        except BadValue as exc:
            if exc.binding and self.protocol == "rest-xml":
                # S3 reports a bad header or query value as InvalidArgument, not MalformedXML.
                code, status = self._codes.validation
                raise ServiceError(exc.describe(), code=code, status=status) from None
            raise self.malformed(exc.describe()) from None
        except RecursionError:
            # Recursive shapes (DynamoDB's AttributeValue) let a body nest as deep as its
            # parser allows; the services themselves cap nesting far lower.
            raise self.malformed("The request nests values too deeply") from None

    def malformed(self, message: str) -> ServiceError:
        code, status = self._codes.malformed
        return ServiceError(message, code=code, status=status)

    def _compile(self, operation: OperationModel) -> Plan:
        if self.protocol == "json":
            return self._json_plan(operation)
        if self.protocol == "query":
            return self._query_plan(operation)
        return self._rest_plan(operation)

    # --- body bytes ---------------------------------------------------------------------------

    def _body(self, request: HttpRequest, operation: OperationModel) -> bytes:
        raw = request.body if isinstance(request.body, bytes) else request.body.read()
        encoding = request.headers.get("content-encoding")
        if raw and encoding and operation.request_compression and "gzip" in encoding:
            # botocore gzips large bodies of operations with the ``requestcompression`` trait
            # (CloudWatch PutMetricData); other operations keep their Content-Encoding as data.
            raw = self._gunzip(raw)
        return raw

    def _gunzip(self, raw: bytes) -> bytes:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(raw, MAX_DECOMPRESSED + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise self.malformed(f"Request body is not valid gzip: {exc}") from None
        if len(out) > MAX_DECOMPRESSED or inflater.unconsumed_tail:
            raise self.malformed("Decompressed request body is too large")
        return out

    def _load_json(self, raw: bytes) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise self.malformed(f"Could not parse request body into json: {exc}") from None

    # --- json ---------------------------------------------------------------------------------

    def _json_plan(self, operation: OperationModel) -> Plan:
        shape = operation.input_shape
        if shape is None:
            return lambda request: {}
        read = self._json.reader(shape)
        fast = self._fused.compile(shape) if isinstance(shape, StructureShape) else None

        def parse_json(request: HttpRequest) -> dict[str, Any]:
            raw = self._body(request, operation)
            if not raw or raw.isspace():
                return {}
            if fast is not None:
                try:
                    fast_result: dict[str, Any] = fast(self._load_json(raw))
                except ServiceError:
                    raise
                except Exception:  # any doubt: the general path decides
                    pass  # on a tree of its own: the fast path converts in place
                else:
                    self.vouched = fast_result
                    return fast_result
            result: dict[str, Any] = read(self._load_json(raw))
            return result

        return parse_json

    # --- query --------------------------------------------------------------------------------

    def _query_plan(self, operation: OperationModel) -> Plan:
        shape = operation.input_shape
        if shape is None:
            return lambda request: {}
        read = self._query.reader(shape)

        def parse_query(request: HttpRequest) -> dict[str, Any]:
            pairs: list[tuple[str, str]] = []
            if request.query_string:
                pairs = values.parse_query(request.query_string)
            raw = self._body(request, operation)
            if raw:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise self.malformed("The request body is not valid UTF-8") from None
                pairs.extend(values.parse_query(text))
            result: dict[str, Any] = read(build_tree(pairs))
            return result

        return parse_query

    # --- rest-json and rest-xml ---------------------------------------------------------------

    def _rest_plan(self, operation: OperationModel) -> Plan:
        assert self._router is not None
        router = self._router
        shape = operation.input_shape
        if shape is None:
            return lambda request: {}
        labels: list[tuple[str, str, TextConverter]] = []
        query_members: dict[str, tuple[str, TextConverter, bool]] = {}
        query_map: tuple[str, bool] | None = None
        headers: dict[str, tuple[str, TextConverter]] = {}
        prefixed: list[tuple[str, str]] = []
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = str(member.serialization.get("name", name))
            if location == "uri":
                labels.append((wire, name, _text_converter(member, values.ISO8601)))
            elif location == "querystring":
                if isinstance(member, MapShape):
                    query_map = (name, isinstance(member.value, ListShape))
                elif isinstance(member, ListShape):
                    item = _text_converter(member.member, values.ISO8601)
                    query_members[wire] = (name, item, True)
                else:
                    query_members[wire] = (name, _text_converter(member, values.ISO8601), False)
            elif location == "header":
                convert = _header_converter(member)
                if wire.lower() in _CONDITIONAL_DATES:
                    convert = _ignoring_bad_dates(convert)
                headers[wire.lower()] = (name, convert)
            elif location == "headers":
                prefixed.append((wire.lower(), name))
        static_keys = {key for key, _ in _static_query(operation)}
        read_body = self._rest_body_reader(operation, shape)

        def parse_rest(request: HttpRequest) -> dict[str, Any]:
            match = router.match(request)
            out: dict[str, Any] = {}
            for label, name, convert in labels:
                text = match.labels.get(label)
                if text is not None:
                    out[name] = _bound(convert, text, name)
            if match.query:
                leftovers: dict[str, Any] = {}
                for key, text in match.query:
                    spec = query_members.get(key)
                    if spec is not None:
                        name, convert, many = spec
                        if many:
                            out.setdefault(name, []).append(_bound(convert, text, name))
                        elif name not in out:  # the first value wins, as in AWS's front ends
                            out[name] = _bound(convert, text, name)
                    elif query_map is not None and key not in static_keys:
                        if query_map[1]:
                            leftovers.setdefault(key, []).append(text)
                        else:
                            leftovers.setdefault(key, text)
                if leftovers and query_map is not None:
                    out[query_map[0]] = leftovers
            for key, text in request.headers.items():
                header = headers.get(key)
                if header is not None:
                    name, convert = header
                    converted = _bound(convert, text, name)
                    if converted is not None:
                        out[name] = converted
                    continue
                for prefix, name in prefixed:
                    if key.startswith(prefix):
                        out.setdefault(name, {})[key[len(prefix) :]] = text
            if read_body is not None:
                read_body(request, out)
            return out

        return parse_rest

    def _rest_body_reader(
        self, operation: OperationModel, shape: StructureShape
    ) -> Callable[[HttpRequest, dict[str, Any]], None] | None:
        payload = payload_member(shape)
        if payload is not None:
            member = shape.members[payload]
            if member.type_name == "blob":
                if member.serialization.get("streaming"):

                    def read_stream(request: HttpRequest, out: dict[str, Any]) -> None:
                        body = request.body
                        out[payload] = body if isinstance(body, Body) else Body.from_bytes(body)

                    return read_stream

                def read_blob(request: HttpRequest, out: dict[str, Any]) -> None:
                    raw = self._body(request, operation)
                    if raw:
                        out[payload] = raw

                return read_blob
            if member.type_name == "string":

                def read_text(request: HttpRequest, out: dict[str, Any]) -> None:
                    raw = self._body(request, operation)
                    if raw:
                        out[payload] = self._decode_text(raw)

                return read_text
            read_payload = self._document_reader(member)

            def read_structured(request: HttpRequest, out: dict[str, Any]) -> None:
                raw = self._body(request, operation)
                if raw and not raw.isspace():
                    try:
                        value = read_payload(raw)
                    except BadValue as exc:
                        exc.path.append(payload)
                        raise
                    # botocore sends "{}" for an absent structure payload: read it as absent.
                    if (
                        value != {}
                        or member.type_name != "structure"
                        or self.protocol != "rest-json"
                    ):
                        out[payload] = value

            return read_structured
        if not any(not m.serialization.get("location") for m in shape.members.values()):
            return None
        read: Callable[[Any], Any]
        load: Callable[[bytes], Any]
        if self.protocol == "rest-json":
            read, load = self._json.body_reader(shape), self._load_json
        else:
            read, load = self._xml.body_reader(shape), self._load_xml

        def read_body(request: HttpRequest, out: dict[str, Any]) -> None:
            raw = self._body(request, operation)
            if raw and not raw.isspace():
                out.update(read(load(raw)))

        return read_body

    def _document_reader(self, member: Shape) -> Callable[[bytes], Any]:
        if self.protocol == "rest-json":
            read_json = self._json.reader(member)
            return lambda raw: read_json(self._load_json(raw))
        read_xml = self._xml.reader(member)
        return lambda raw: read_xml(self._load_xml(raw))

    def _load_xml(self, raw: bytes) -> Any:
        try:
            return parse_xml(raw)
        except MalformedXml:
            raise self.malformed(
                "The XML you provided was not well-formed or did not validate against our "
                "published schema"
            ) from None

    def _decode_text(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.malformed("The request body is not valid UTF-8") from None


def _bound(convert: TextConverter, text: str, name: str) -> Any:
    try:
        return convert(text)
    except BadValue as exc:
        exc.path.append(name)
        exc.binding = True
        raise


def _static_query(operation: OperationModel) -> list[tuple[str, str]]:
    _, _, query = operation.http.get("requestUri", "/").partition("?")
    return values.parse_query(query) if query else []


def _text_converter(shape: Shape, default_ts: str) -> TextConverter:
    """Converter for a scalar carried as text (URI label, query value, header)."""
    kind = shape.type_name
    if kind in ("integer", "long", "short", "byte"):
        return values.text_to_int
    if kind in ("float", "double", "bigdecimal"):
        return values.text_to_float
    if kind == "boolean":
        return values.text_to_bool
    if kind == "timestamp":
        return values.parse_timestamp
    if kind == "blob":
        return values.decode_base64
    return _same


def _same(text: str) -> Any:
    return text


def _header_converter(shape: Shape) -> TextConverter:
    if isinstance(shape, ListShape):
        item = _text_converter(shape.member, values.RFC822)
        fmt = shape.member.serialization.get("timestampFormat")
        if shape.member.type_name == "timestamp" and fmt in (None, values.RFC822):
            split = values.split_http_date_list
        else:
            split = values.split_header_list

        def convert_list(text: str) -> Any:
            return [item(part) for part in split(text)] if text.strip() else None

        return convert_list
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return _json_header
    convert = _text_converter(shape, values.RFC822)
    if shape.type_name in ("string", "character"):
        return convert
    return lambda text: convert(text.strip()) if text.strip() else None


_CONDITIONAL_DATES = frozenset(("if-modified-since", "if-unmodified-since"))
"""RFC 9110 (13.1.3, 13.1.4): a recipient ignores these when the date is not valid."""


def _ignoring_bad_dates(convert: TextConverter) -> TextConverter:
    def lenient(text: str) -> Any:
        try:
            return convert(text)
        except BadValue:
            return None

    return lenient


def _json_header(text: str) -> Any:
    try:
        return orjson.loads(values.decode_base64(text))
    except orjson.JSONDecodeError:
        raise BadValue("JSON value", text) from None
