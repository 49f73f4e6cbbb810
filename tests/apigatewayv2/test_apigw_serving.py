"""Serving HTTP APIs end to end: boto3 sets up an API in front of a Python function, httpx
calls it on ``ApiEndpoint`` (and by Host), and the function sees AWS's proxy event."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from function_support import create_function
from lambdamaker.testing import ServerProcess

HANDLER = """
import base64, json

def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("latin-1")
    path = event.get("rawPath") or event.get("path")
    if body == "fail":
        raise RuntimeError("asked to fail")
    if body == "plain":
        return {"plain": True}
    if body == "v1-missing-status":
        return {"body": "no status"}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-route": str(event.get("routeKey"))},
        "cookies": ["seen=1"],
        "body": json.dumps({"event": event, "path": path}),
    }
"""


@pytest.fixture(scope="module")
def function_arn(boto_client: Callable[..., Any]) -> str:
    return create_function(boto_client("lambda"), HANDLER, "apigw")


def _api(apigw: Any, fn_arn: str, version: str, keys: list[str], stage: str) -> dict[str, Any]:
    api = apigw.create_api(Name=f"serve-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")
    integration = apigw.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=fn_arn,
        PayloadFormatVersion=version,
    )["IntegrationId"]
    for key in keys:
        apigw.create_route(ApiId=api["ApiId"], RouteKey=key, Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api["ApiId"], StageName=stage, AutoDeploy=True)
    return dict(api)


@pytest.fixture(scope="module")
def api_v2(boto_client: Callable[..., Any], function_arn: str) -> dict[str, Any]:
    apigw = boto_client("apigatewayv2")
    return _api(apigw, function_arn, "2.0", ["GET /items/{id}", "ANY /{proxy+}"], "$default")


def test_request_reaches_the_function_with_the_v2_event(
    http: httpx.Client, api_v2: dict[str, Any]
) -> None:
    response = http.get(
        api_v2["ApiEndpoint"] + "/items/42?color=red&color=blue",
        headers={"X-Custom": "yes", "Cookie": "a=1; b=2"},
    )
    assert response.status_code == 200
    assert response.headers["x-route"] == "GET /items/{id}"
    assert response.headers["set-cookie"] == "seen=1"
    assert response.headers["apigw-requestid"]
    event = response.json()["event"]
    assert event["version"] == "2.0"
    assert (event["routeKey"], event["rawPath"]) == ("GET /items/{id}", "/items/42")
    assert event["rawQueryString"] == "color=red&color=blue"
    assert event["queryStringParameters"] == {"color": "red,blue"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-custom"] == "yes"
    ctx = event["requestContext"]
    assert (ctx["apiId"], ctx["stage"], ctx["routeKey"]) == (
        api_v2["ApiId"],
        "$default",
        "GET /items/{id}",
    )
    assert ctx["http"]["method"] == "GET" and ctx["http"]["path"] == "/items/42"
    assert ctx["accountId"] == "000000000000"
    assert ctx["requestId"] == response.headers["apigw-requestid"]


def test_greedy_route_takes_the_rest_and_binary_bodies_are_base64(
    http: httpx.Client, api_v2: dict[str, Any]
) -> None:
    response = http.post(
        api_v2["ApiEndpoint"] + "/a/b/c",
        content=b"\x00\x01raw",
        headers={"content-type": "application/octet-stream"},
    )
    event = response.json()["event"]
    assert event["routeKey"] == "ANY /{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c"}
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01raw"


def test_host_style_request_reaches_the_api(
    http: httpx.Client, api_v2: dict[str, Any], lm_server: ServerProcess
) -> None:
    host = f"{api_v2['ApiId']}.execute-api.localhost"
    response = http.get(lm_server.endpoint_url + "/items/9", headers={"Host": host})
    event = response.json()["event"]
    assert event["pathParameters"] == {"id": "9"}
    assert event["requestContext"]["domainName"] == host


def test_unstructured_answer_is_a_json_200(http: httpx.Client, api_v2: dict[str, Any]) -> None:
    response = http.post(api_v2["ApiEndpoint"] + "/x", content=b"plain")
    assert (response.status_code, response.json()) == (200, {"plain": True})
    assert response.headers["content-type"] == "application/json"


def test_function_error_is_a_500(http: httpx.Client, api_v2: dict[str, Any]) -> None:
    response = http.post(api_v2["ApiEndpoint"] + "/x", content=b"fail")
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})


def test_unknown_route_and_api_are_404(
    http: httpx.Client, boto_client: Callable[..., Any], function_arn: str, lm_server: ServerProcess
) -> None:
    api = _api(boto_client("apigatewayv2"), function_arn, "2.0", ["GET /only"], "$default")
    response = http.get(api["ApiEndpoint"] + "/other")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    response = http.get(lm_server.endpoint_url + "/_apis/nosuchapi0/only")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


def test_route_added_later_is_served_at_once(
    http: httpx.Client, boto_client: Callable[..., Any], function_arn: str
) -> None:
    apigw = boto_client("apigatewayv2")
    api = _api(apigw, function_arn, "2.0", ["GET /first"], "$default")
    assert http.get(api["ApiEndpoint"] + "/second").status_code == 404
    [integration] = apigw.get_integrations(ApiId=api["ApiId"])["Items"]
    apigw.create_route(
        ApiId=api["ApiId"],
        RouteKey="GET /second",
        Target=f"integrations/{integration['IntegrationId']}",
    )
    assert http.get(api["ApiEndpoint"] + "/second").status_code == 200
    apigw.delete_api(ApiId=api["ApiId"])
    assert http.get(api["ApiEndpoint"] + "/second").status_code == 404


def test_named_stage_is_served_under_its_name_with_v1_events(
    http: httpx.Client, boto_client: Callable[..., Any], function_arn: str
) -> None:
    api = _api(boto_client("apigatewayv2"), function_arn, "1.0", ["POST /things/{id}"], "prod")
    response = http.post(api["ApiEndpoint"] + "/prod/things/5?q=1", json={"k": "v"})
    assert response.status_code == 200
    event = response.json()["event"]
    assert (event["version"], event["httpMethod"], event["resource"]) == (
        "1.0",
        "POST",
        "/things/{id}",
    )
    assert event["path"] == "/prod/things/5"
    assert event["requestContext"]["stage"] == "prod"
    assert event["pathParameters"] == {"id": "5"}
    assert json.loads(event["body"]) == {"k": "v"}
    assert http.post(api["ApiEndpoint"] + "/things/5").status_code == 404
    bad = http.post(api["ApiEndpoint"] + "/prod/things/5", content=b"v1-missing-status")
    assert bad.status_code == 500
