"""Helpers shared by the protocol tests: value normalization and botocore on the client side."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import HeadersDict
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.parsers import create_parser
from botocore.utils import parse_timestamp, percent_encode_sequence

from lambdamaker.gateway.protocol import Body, HttpRequest, HttpResponse, StreamPayload

NAN = "<NaN>"
"""NaN never equals itself; both sides normalize it to this marker."""


def normalize(value: Any, shape: Shape | None) -> Any:
    """Bring two param/result dicts to one comparable form, guided by the shape.

    Everything ``to_provider`` does, plus: NaN (which never equals itself) becomes a marker.
    """
    return _convert(value, shape, compare=True)


def to_provider(value: Any, shape: Shape | None) -> Any:
    """Test data in the provider convention, guided by the shape.

    - timestamps -> aware UTC datetimes (test data writes epoch seconds or ISO text);
    - blobs -> bytes (test data writes text; our parser gives a ``Body`` for streams; botocore
      gives raw payloads back as ``str``);
    - floats -> float (an ``int`` literal in a float member; "NaN"/"Infinity" spelled as text).
    """
    return _convert(value, shape, compare=False)


def _convert(value: Any, shape: Shape | None, compare: bool) -> Any:
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if shape.is_document_type or not isinstance(value, dict):
            return value
        return {
            k: _convert(v, shape.members.get(k), compare) for k, v in value.items() if v is not None
        }
    if isinstance(shape, ListShape):
        return [_convert(v, shape.member, compare) for v in value]
    if isinstance(shape, MapShape):
        return {k: _convert(v, shape.value, compare) for k, v in value.items()}
    if kind == "timestamp":
        return as_datetime(value)
    if kind == "blob":
        if isinstance(value, Body | StreamPayload):
            return value.read()
        if isinstance(value, str):
            return value.encode("utf-8")
        if hasattr(value, "read"):
            return value.read()
        return bytes(value)
    if kind in ("float", "double"):
        if isinstance(value, str):
            value = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[value]
        value = float(value)
        return NAN if compare and math.isnan(value) else value
    return value


def as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=value)
    return parse_timestamp(value).astimezone(UTC)


def request_from_botocore(serialized: dict[str, Any]) -> HttpRequest:
    """What a server sees of a request dict from ``botocore.serialize``."""
    path, _, query = serialized["url_path"].partition("?")
    extra = serialized.get("query_string")
    if isinstance(extra, dict) and extra:
        encoded = percent_encode_sequence(extra)
        query = f"{query}&{encoded}" if query else encoded
    elif isinstance(extra, str) and extra:
        query = f"{query}&{extra}" if query else extra
    body = serialized.get("body", b"")
    if isinstance(body, dict):
        body = percent_encode_sequence(body).encode("utf-8")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif hasattr(body, "read"):
        body = body.read()
    headers: dict[str, str] = {}
    for key, value in serialized.get("headers", {}).items():
        headers[key.lower()] = value.decode() if isinstance(value, bytes) else str(value)
    return HttpRequest(serialized["method"], path, query, headers, body)


def botocore_parse(
    protocol: str, operation: OperationModel, response: HttpResponse, shape: Shape | None = None
) -> dict[str, Any]:
    """Parse our response exactly as a boto3 client would (minus client-side handlers)."""
    body = response.body if isinstance(response.body, bytes) else response.body.read()
    http = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers),
        "body": body,
        "context": {"operation_name": operation.name},
    }
    target = shape if shape is not None else operation.output_shape
    parsed: dict[str, Any] = create_parser(protocol).parse(http, target)
    parsed.pop("ResponseMetadata", None)
    return parsed


# --- deterministic values from shapes ----------------------------------------------------------

BODY_TEXT = "v <&> \"q\" 'a' é ✓ /?#"
"""Body strings carry characters every encoding must escape."""
URI_TEXT = "u é/?#%+ x"
"""URI labels: reserved characters, percent signs, non-ASCII (botocore percent-encodes)."""


class ValueGenerator:
    """Fills a shape with a valid-looking value, deterministically.

    ``place`` says where the value travels (``body``, ``header``, ``uri``, ``query``), because HTTP cannot carry everything everywhere: headers get plain ASCII
    without commas and whole-second timestamps, URI labels must be non-empty.
    Recursive shapes stop at ``max_depth``; members that would stop there are left out.
    """

    def __init__(self, *, max_depth: int = 5, sub_second: bool = True) -> None:
        self.max_depth = max_depth
        self.sub_second = sub_second

    def structure(self, shape: StructureShape, *, top_level: bool = False) -> dict[str, Any]:
        return self._struct(shape, 0, top_level)

    def _struct(self, shape: StructureShape, depth: int, top_level: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            if shape.is_tagged_union and out:
                break  # a union carries exactly one member
            ser = member.serialization
            if ser.get("eventstream"):
                continue
            place = "body"
            if top_level:
                location = ser.get("location")
                if location == "header" or location == "headers":
                    place = "header"
                elif location == "uri":
                    place = "uri"
                elif location == "querystring":
                    place = "query"
                elif location == "statusCode":
                    out[name] = 200
                    continue
            value = self.value(member, depth + 1, place, name)
            if value is not None:
                out[name] = value
        return out

    def value(self, shape: Shape, depth: int, place: str, name: str) -> Any:
        kind = shape.type_name
        if isinstance(shape, StructureShape):
            if shape.is_document_type:
                return {"doc": [1, "two", {"three": True}]}
            if depth > self.max_depth:
                return None
            value = self._struct(shape, depth, False)
            return None if shape.is_tagged_union and not value else value
        if isinstance(shape, ListShape):
            if depth > self.max_depth:
                return None
            items = [self.value(shape.member, depth + 1, place, name) for _ in range(2)]
            items = [i for i in items if i is not None]
            return items or None
        if isinstance(shape, MapShape):
            if depth > self.max_depth:
                return None
            if place == "header":
                return {"meta-one": "m1", "meta-two": "m2"}
            if place == "query":
                return {"extra-param": "x1"}
            keys = shape.key.metadata.get("enum") or ["key-1", "key 2"]
            out = {}
            for key in keys[:2]:
                item = self.value(shape.value, depth + 1, place, name)
                if item is not None:
                    out[key] = item
            return out or None
        if kind == "string":
            enum = shape.metadata.get("enum")
            if enum:
                return enum[0]
            if shape.serialization.get("jsonvalue") and place == "header":
                return {"json": ["value", 1]}
            if place == "header":
                return f"h-{name}"
            if place == "uri":
                return f"{name}-{URI_TEXT}"
            return f"{name}-{BODY_TEXT}"
        if kind in ("integer", "long"):
            return 7
        if kind in ("float", "double"):
            return 1.5
        if kind == "boolean":
            return True
        if kind == "blob":
            return b"bin\x00\x01\xfe\xff" if place == "body" else b"bin-header"
        if kind == "timestamp":
            # HTTP dates (headers, and any member modelled as rfc822) have no fractions.
            fmt = shape.serialization.get("timestampFormat")
            fractional = self.sub_second and place == "body" and fmt != "rfc822"
            micro = 123000 if fractional else 0
            return datetime(2024, 2, 3, 4, 5, 6, micro, tzinfo=UTC)
        return None
