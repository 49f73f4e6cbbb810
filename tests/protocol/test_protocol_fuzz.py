"""Hypothesis fuzzing: whatever a client sends, the protocol layer answers with a ServiceError
(an AWS error with a 4xx status, or S3's 501 NotImplemented), never with another exception.

Inputs are built to get past the first checks: real targets, actions and paths, bodies whose
keys are the operation's own member names with values of random (often wrong) types, XML with
the model's element names, query keys in the query protocol's dotted form.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import HttpRequest, ServiceProtocol

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["NaN", "Infinity", "2024-01-01T00:00:00Z", "AAAA", "=", "1e999"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    # The standard library writes integers of any size, as JSON allows; orjson refuses.
    return json.dumps(value).encode()


header_text = st.text(alphabet=string.ascii_letters + string.digits + " ,;:=-_/.\"'()", max_size=30)


def _answers_with_service_error(protocol: ServiceProtocol, request: HttpRequest) -> None:
    operation = None
    try:
        operation = protocol.find_operation(request)
        params = protocol.parse(request, operation)
        protocol.validate(operation, params)
    except ServiceError as exc:
        assert exc.status != 500, exc
        response = protocol.serialize_error(exc, operation, "fuzz")
        assert response.status == exc.status


def _wire_names(shape: StructureShape) -> list[str]:
    return [str(m.serialization.get("name", n)) for n, m in shape.members.items()]


def _value_for(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value often of the member's type, often not."""
    if depth > 3:
        return json_values
    if isinstance(shape, StructureShape):
        members = list(shape.members.items())[:12]
        if not members:
            return json_values
        fields = {str(m.serialization.get("name", n)): _value_for(m, depth + 1) for n, m in members}
        right = st.fixed_dictionaries({}, optional=fields)
    elif isinstance(shape, ListShape):
        right = st.lists(_value_for(shape.member, depth + 1), max_size=3)
    elif isinstance(shape, MapShape):
        right = st.dictionaries(st.text(max_size=8), _value_for(shape.value, depth + 1), max_size=3)
    else:
        right = scalars
    return st.one_of(right, json_values)


def _operation_names(service: str) -> list[str]:
    return ServiceProtocol.for_service(service).service_model.operation_names


# --- json ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["dynamodb", "sqs", "kms", "stepfunctions", "logs"])
@given(data=st.data())
@FUZZ
def test_json_requests_fail_only_with_service_errors(service: str, data: st.DataObject) -> None:
    protocol = ServiceProtocol.for_service(service)
    model = protocol.service_model
    name = data.draw(st.sampled_from(model.operation_names))
    prefix = model.metadata["targetPrefix"]
    real = f"{prefix}.{name}"
    target = data.draw(st.sampled_from([real, real, real, real, f"{prefix}.Nope", "", name]))
    operation = model.operation_model(name)
    shape = operation.input_shape
    body_doc = _value_for(shape) if shape is not None else json_values
    body = data.draw(
        st.one_of(
            body_doc.map(_dumps),
            st.binary(max_size=64),
            st.sampled_from([b"", b"{", b"[]", b"null", b"{}", b'{"a":1e999}']),
        )
    )
    headers = {"x-amz-target": target, "content-type": "application/x-amz-json-1.0"}
    _answers_with_service_error(protocol, HttpRequest("POST", "/", "", headers, body))


# --- query --------------------------------------------------------------------------------------


def _query_keys(shape: StructureShape, prefix: str = "", depth: int = 0) -> list[str]:
    keys = []
    for name, member in shape.members.items():
        wire = str(member.serialization.get("name", name))
        key = f"{prefix}{wire}"
        keys.append(key)
        if depth < 2 and isinstance(member, StructureShape):
            keys.extend(_query_keys(member, key + ".", depth + 1))
        elif isinstance(member, ListShape):
            keys += [f"{key}.member.1", f"{key}.member.x", f"{key}.1", f"{key}.member.2.Key"]
        elif isinstance(member, MapShape):
            keys += [f"{key}.entry.1.key", f"{key}.entry.1.value", f"{key}.entry.2.value"]
    return keys or ["Nothing"]


@pytest.mark.parametrize("service", ["iam", "sts", "sns"])
@given(data=st.data())
@FUZZ
def test_query_requests_fail_only_with_service_errors(service: str, data: st.DataObject) -> None:
    protocol = ServiceProtocol.for_service(service)
    model = protocol.service_model
    name = data.draw(st.sampled_from(model.operation_names))
    shape = model.operation_model(name).input_shape
    keys = _query_keys(shape) if shape is not None else ["Nothing"]
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(keys), st.text(max_size=12)), max_size=8))
    action = data.draw(st.sampled_from([name, name, name, name, "NoSuchAction", ""]))
    form = urlencode([("Action", action), ("Version", model.api_version), *pairs])
    raw = form.encode() if data.draw(st.integers(0, 4)) else data.draw(st.binary(max_size=40))
    in_query = data.draw(st.booleans())
    request = HttpRequest(
        "GET" if in_query else "POST",
        "/",
        form if in_query else "",
        {"content-type": "application/x-www-form-urlencoded"},
        b"" if in_query else raw,
    )
    _answers_with_service_error(protocol, request)


# --- rest ----------------------------------------------------------------------------------------

path_chars = st.text(alphabet=string.ascii_letters + string.digits + "-_.~%/+ é", max_size=20)


def _fill_template(uri: str, data: st.DataObject) -> str:
    path = uri.partition("?")[0]
    out = []
    for part in path.split("/"):
        if "{" in part:
            out.append(data.draw(path_chars.filter(lambda s: s != "")))
        else:
            out.append(part)
    return "/".join(out) or "/"


def _rest_request(protocol: ServiceProtocol, data: st.DataObject) -> HttpRequest:
    model = protocol.service_model
    name = data.draw(st.sampled_from(model.operation_names))
    operation = model.operation_model(name)
    http = operation.http
    real = http.get("method", "GET")
    method = data.draw(st.sampled_from([real, real, real, real, "PATCH", "GET", "DELETE"]))
    if data.draw(st.integers(0, 4)):
        path = _fill_template(http["requestUri"], data)
    else:
        path = "/" + data.draw(path_chars)
    static = http["requestUri"].partition("?")[2]
    shape = operation.input_shape
    headers: dict[str, str] = {}
    query = static
    body: bytes = b""
    if shape is not None:
        for member_name, member in shape.members.items():
            if not data.draw(st.booleans()):
                continue
            location = member.serialization.get("location")
            wire = str(member.serialization.get("name", member_name))
            if location == "header":
                headers[wire.lower()] = data.draw(header_text)
            elif location == "headers":
                headers[wire.lower() + "x"] = data.draw(header_text)
            elif location == "querystring":
                query += f"&{wire}={data.draw(path_chars)}"
        body = data.draw(_rest_body(protocol, shape))
    return HttpRequest(method, path, query.lstrip("&"), headers, body)


def _rest_body(protocol: ServiceProtocol, shape: StructureShape) -> st.SearchStrategy[bytes]:
    raw = st.binary(max_size=64)
    if protocol.protocol == "rest-json":
        return st.one_of(_value_for(shape).map(_dumps), raw, st.just(b"{"))
    names = [*_wire_names(shape), "Delete", "Object", "Key", "Part", "PartNumber", "Tag"]
    return st.one_of(raw, _xml(names), st.sampled_from(XML_TRAPS))


XML_TRAPS = [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Delete>&a;</Delete>',
    b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
    b"<Delete><Object><Key>k</Key></Object>",
    b"<Delete><Quiet>maybe</Quiet></Delete>",
    b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>",
]


def _xml(names: list[str]) -> st.SearchStrategy[bytes]:
    def element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(
            lambda tag, inner: f"<{tag}>{inner}</{tag}>",
            st.sampled_from(names),
            st.one_of(children, st.text(alphabet="abc123<&>", max_size=6).map(_escape)),
        )

    tree = st.recursive(
        st.text(alphabet=string.ascii_letters + "0123456789", max_size=6),
        lambda inner: st.lists(element(inner), max_size=3).map("".join),
        max_leaves=10,
    )
    return element(tree).map(str.encode)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("service", ["s3", "lambda", "sagemaker-runtime"])
@given(data=st.data())
@FUZZ
def test_rest_requests_fail_only_with_service_errors(service: str, data: st.DataObject) -> None:
    protocol = ServiceProtocol.for_service(service)
    _answers_with_service_error(protocol, _rest_request(protocol, data))
