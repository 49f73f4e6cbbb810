"""Route precedence and the proxy payloads, without a server."""

from __future__ import annotations

import base64
import json

import pytest

from lambdamaker.services.apigatewayv2.common import BadRequestError
from lambdamaker.services.apigatewayv2.payloads import (
    BadFunctionResponse,
    Incoming,
    event_v1,
    event_v2,
    response_v1,
    response_v2,
)
from lambdamaker.services.apigatewayv2.routekeys import RouteTable, parse_route_key


def _table(*keys: str) -> RouteTable:
    return RouteTable([(parse_route_key(k), k) for k in keys])


def _matched(table: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = table.match(method, path)
    return None if found is None else (found[0], found[2])


ROUTES = _table(
    "GET /items/{id}",
    "GET /items/special",
    "ANY /items/{id}",
    "ANY /{proxy+}",
    "GET /files/{path+}",
    "GET /",
    "$default",
)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/items/special", ("GET /items/special", {})),
        ("GET", "/items/7", ("GET /items/{id}", {"id": "7"})),
        ("PUT", "/items/7", ("ANY /items/{id}", {"id": "7"})),
        ("GET", "/files/a/b.txt", ("GET /files/{path+}", {"path": "a/b.txt"})),
        ("POST", "/files/a/b.txt", ("ANY /{proxy+}", {"proxy": "files/a/b.txt"})),
        ("GET", "/", ("GET /", {})),
        ("POST", "/", ("$default", {})),
        ("GET", "/items/a%20b", ("GET /items/{id}", {"id": "a b"})),
    ],
)
def test_most_specific_route_wins(
    method: str, path: str, expected: tuple[str, dict[str, str]]
) -> None:
    assert _matched(ROUTES, method, path) == expected


def test_no_route_and_no_default_matches_nothing() -> None:
    table = _table("GET /items/{id}")
    assert _matched(table, "GET", "/items") is None
    assert _matched(table, "GET", "/items/1/2") is None
    assert _matched(table, "POST", "/items/1") is None


def test_route_key_parsing_refuses_misplaced_greedy_parameter() -> None:
    with pytest.raises(BadRequestError):
        parse_route_key("ANY /{proxy+}/x")


def _incoming(**overrides: object) -> Incoming:
    fields: dict[str, object] = {
        "method": "POST",
        "raw_path": "/prod/items/7",
        "route_path": "/items/7",
        "query_string": "a=1&a=2&b=",
        "headers": [
            ("host", "abc.execute-api.localhost"),
            ("x-multi", "one"),
            ("x-multi", "two"),
            ("cookie", "c1=v1; c2=v2"),
            ("content-type", "application/json"),
            ("user-agent", "tester"),
        ],
        "body": b'{"x": 1}',
        "source_ip": "127.0.0.1",
        "protocol": "HTTP/1.1",
        "api_id": "abc",
        "account_id": "000000000000",
        "domain_name": "abc.execute-api.localhost",
        "stage": "prod",
        "route_key": "POST /items/{id}",
        "path_parameters": {"id": "7"},
        "request_id": "rid",
        "now": 1_600_000_000.5,
    }
    fields.update(overrides)
    return Incoming(**fields)  # type: ignore[arg-type]


def test_event_v2_has_the_aws_shape() -> None:
    event = event_v2(_incoming())
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/prod/items/7", "a=1&a=2&b=")
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"id": "7"}
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": 1}', False)
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/prod/items/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tester",
    }
    assert (ctx["apiId"], ctx["domainPrefix"], ctx["stage"]) == ("abc", "abc", "prod")
    assert ctx["timeEpoch"] == 1_600_000_000_500
    assert ctx["time"] == "13/Sep/2020:12:26:40 +0000"


def test_event_v2_leaves_out_what_is_absent_and_base64s_binary() -> None:
    bare = event_v2(_incoming(query_string="", path_parameters={}, body=b"", headers=[]))
    for absent in ("cookies", "queryStringParameters", "pathParameters", "body"):
        assert absent not in bare
    assert bare["isBase64Encoded"] is False
    binary = event_v2(_incoming(headers=[("content-type", "image/png")], body=b"\x89PNG"))
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x89PNG"


def test_event_v1_has_multi_value_members() -> None:
    event = event_v1(_incoming())
    assert (event["version"], event["resource"], event["path"]) == (
        "1.0",
        "/items/{id}",
        "/prod/items/7",
    )
    assert event["multiValueHeaders"]["x-multi"] == ["one", "two"]
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


def test_v2_structured_response_is_mapped() -> None:
    out = response_v2(
        json.dumps(
            {
                "statusCode": 201,
                "headers": {"content-type": "text/plain", "x-a": "b"},
                "cookies": ["s=1"],
                "body": base64.b64encode(b"hi").decode(),
                "isBase64Encoded": True,
            }
        ).encode()
    )
    assert out.status == 201
    assert ("x-a", "b") in out.headers and ("set-cookie", "s=1") in out.headers
    assert out.body == b"hi"


@pytest.mark.parametrize("value", [{"hello": "world"}, ["a"], "text", 3])
def test_v2_unstructured_response_is_a_json_body(value: object) -> None:
    payload = json.dumps(value).encode()
    out = response_v2(payload)
    assert (out.status, out.body) == (200, payload)
    assert ("content-type", "application/json") in out.headers


def test_v1_response_requires_status_code() -> None:
    with pytest.raises(BadFunctionResponse):
        response_v1(b'{"body": "x"}')
    out = response_v1(b'{"statusCode": 204, "multiValueHeaders": {"x-m": ["1", "2"]}}')
    assert out.status == 204
    assert [v for k, v in out.headers if k == "x-m"] == ["1", "2"]
