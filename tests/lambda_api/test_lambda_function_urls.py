"""Lambda function URLs end to end: boto3 manages the configs, httpx calls the URLs, and the
function sees AWS's payload format 2.0 event for function URLs."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from function_support import ROLE, create_function
from lambdamaker.testing import ServerProcess, zip_source

HANDLER = """
import base64, json

def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("latin-1")
    if body == "fail":
        raise RuntimeError("asked to fail")
    if body == "plain":
        return {"plain": True}
    if body == "binary":
        return {"statusCode": 201, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(b"\\x00\\xffbin").decode(), "isBase64Encoded": True}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-fn": context.invoked_function_arn},
        "cookies": ["seen=1; Path=/"],
        "body": json.dumps({"event": event, "body": body}),
    }
"""


@pytest.fixture(scope="module")
def lam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("lambda")


@pytest.fixture(scope="module")
def function(lam: Any) -> str:
    return create_function(lam, HANDLER, "furl").rsplit(":", 1)[1]


@pytest.fixture(scope="module")
def open_url(lam: Any, function: str) -> dict[str, Any]:
    return dict(
        lam.create_function_url_config(
            FunctionName=function,
            AuthType="NONE",
            Cors={
                "AllowOrigins": ["https://app.example.com"],
                "AllowMethods": ["GET", "POST"],
                "AllowHeaders": ["x-custom"],
                "ExposeHeaders": ["x-fn"],
                "AllowCredentials": True,
                "MaxAge": 300,
            },
        )
    )


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --- the API ----------------------------------------------------------------------------------


def test_create_returns_a_working_url_and_get_list_agree(
    lam: Any, function: str, open_url: dict[str, Any], lm_server: ServerProcess
) -> None:
    url = open_url["FunctionUrl"]
    assert re.fullmatch(rf"http://127\.0\.0\.1:{lm_server.port}/_urls/[a-z0-9]{{32}}/", url)
    assert open_url["FunctionArn"].endswith(f":function:{function}")
    assert open_url["AuthType"] == "NONE" and open_url["InvokeMode"] == "BUFFERED"
    assert open_url["Cors"]["MaxAge"] == 300
    assert open_url["CreationTime"].endswith("Z")
    got = lam.get_function_url_config(FunctionName=function)
    assert got["FunctionUrl"] == url and "LastModifiedTime" in got
    listed = lam.list_function_url_configs(FunctionName=function)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]


def test_second_create_conflicts_and_bad_input_is_refused(
    lam: Any, function: str, open_url: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as exc:
        lam.create_function_url_config(FunctionName=function, AuthType="NONE")
    assert _code(exc) == "ResourceConflictException"
    with pytest.raises(ClientError) as exc:
        lam.create_function_url_config(FunctionName=function, AuthType="BASIC")
    assert _code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        lam.update_function_url_config(FunctionName=function, Cors={"AllowMethods": ["FETCH"]})
    assert _code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        lam.update_function_url_config(FunctionName=function, Cors={"AllowOrigins": ["no scheme"]})
    assert _code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        lam.create_function_url_config(FunctionName=f"{function}:1", AuthType="NONE")
    assert _code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        lam.get_function_url_config(FunctionName="no-such-function-here")
    assert _code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        lam.get_function_url_config(FunctionName=function, Qualifier="nosuchalias")
    assert _code(exc) == "ResourceNotFoundException"
    # Nothing changed.
    assert lam.get_function_url_config(FunctionName=function)["Cors"] == open_url["Cors"]


# --- serving ----------------------------------------------------------------------------------


def test_get_with_query_cookies_and_headers_reaches_the_function(
    http: httpx.Client, open_url: dict[str, Any]
) -> None:
    url = open_url["FunctionUrl"]
    url_id = url.rstrip("/").rsplit("/", 1)[1]
    response = http.get(
        url + "some/path?color=red&color=blue&x=",
        headers={"X-Custom": "yes", "Cookie": "a=1; b=2", "User-Agent": "furl-test"},
    )
    assert response.status_code == 200
    assert response.headers["set-cookie"] == "seen=1; Path=/"
    assert response.headers["x-amzn-requestid"]
    event = response.json()["event"]
    assert (event["version"], event["routeKey"]) == ("2.0", "$default")
    assert event["rawPath"] == "/some/path"
    assert event["rawQueryString"] == "color=red&color=blue&x="
    assert event["queryStringParameters"] == {"color": "red,blue", "x": ""}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-custom"] == "yes" and "cookie" not in event["headers"]
    assert event["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["pathParameters"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] == "anonymous" and "authorizer" not in ctx
    assert (ctx["apiId"], ctx["domainPrefix"], ctx["stage"]) == (url_id, url_id, "$default")
    assert ctx["domainName"].startswith(f"{url_id}.lambda-url.")
    assert ctx["http"] == {
        "method": "GET",
        "path": "/some/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "furl-test",
    }
    assert ctx["requestId"] == response.headers["x-amzn-requestid"]
    assert isinstance(ctx["timeEpoch"], int)


def test_post_bodies_text_and_binary(http: httpx.Client, open_url: dict[str, Any]) -> None:
    url = open_url["FunctionUrl"]
    text = http.post(url, content=b'{"k": 1}', headers={"content-type": "application/json"})
    event = text.json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"k": 1}', False)
    assert event["rawPath"] == "/"
    raw = http.post(url, content=b"\x00\x01raw", headers={"content-type": "application/x-bin"})
    event = raw.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01raw"


def test_response_mapping_plain_binary_and_errors(
    http: httpx.Client, open_url: dict[str, Any]
) -> None:
    url = open_url["FunctionUrl"]
    plain = http.post(url, content=b"plain", headers={"content-type": "text/plain"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/json"
    assert plain.json() == {"plain": True}
    binary = http.post(url, content=b"binary", headers={"content-type": "text/plain"})
    assert (binary.status_code, binary.content) == (201, b"\x00\xffbin")
    failed = http.post(url, content=b"fail", headers={"content-type": "text/plain"})
    assert (failed.status_code, failed.text) == (502, "Internal Server Error")


def test_host_form_reaches_the_same_function(
    http: httpx.Client, open_url: dict[str, Any], lm_server: ServerProcess
) -> None:
    url_id = open_url["FunctionUrl"].rstrip("/").rsplit("/", 1)[1]
    host = f"{url_id}.lambda-url.us-east-1.localhost:{lm_server.port}"
    response = http.get(f"http://127.0.0.1:{lm_server.port}/via/host?q=1", headers={"host": host})
    assert response.status_code == 200
    event = response.json()["event"]
    assert event["rawPath"] == "/via/host"
    assert event["requestContext"]["domainName"] == f"{url_id}.lambda-url.us-east-1.localhost"


def test_cors_preflight_and_response_headers(http: httpx.Client, open_url: dict[str, Any]) -> None:
    url = open_url["FunctionUrl"]
    preflight = http.options(
        url,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-custom",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "x-custom"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-max-age"] == "300"
    actual = http.get(url, headers={"Origin": "https://app.example.com"})
    assert actual.headers["access-control-allow-origin"] == "https://app.example.com"
    assert actual.headers["access-control-expose-headers"] == "x-fn"
    other = http.get(url, headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers


def _signed(method: str, url: str, lm_server: ServerProcess, body: bytes = b"") -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers={"content-type": "text/plain"})
    creds = Credentials(lm_server.access_key, lm_server.secret_key)
    SigV4Auth(creds, "lambda", "us-east-1").add_auth(request)
    return request


def test_aws_iam_url_requires_a_signature_and_alias_urls_invoke_the_alias(
    lam: Any, function: str, http: httpx.Client, lm_server: ServerProcess
) -> None:
    version = lam.publish_version(FunctionName=function)["Version"]
    lam.create_alias(FunctionName=function, Name="live", FunctionVersion=version)
    config = lam.create_function_url_config(
        FunctionName=function, Qualifier="live", AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM"
    )
    assert config["FunctionArn"].endswith(f":function:{function}:live")
    url = config["FunctionUrl"]
    unsigned = http.get(url + "x")
    assert (unsigned.status_code, unsigned.json()) == (403, {"Message": "Forbidden"})

    signed = _signed("POST", url + "x?y=1", lm_server, b"hello")
    response = http.post(signed.url, content=b"hello", headers=dict(signed.headers))
    assert response.status_code == 200, response.text
    assert response.headers["x-fn"].endswith(f":function:{function}:live")
    ctx = response.json()["event"]["requestContext"]
    assert ctx["accountId"] == "000000000000"
    assert ctx["authorizer"]["iam"]["accessKey"] == lm_server.access_key
    assert response.json()["body"] == "hello"

    tampered = _signed("POST", url + "x", lm_server, b"hello")
    bad = http.post(tampered.url, content=b"changed", headers=dict(tampered.headers))
    assert bad.status_code == 403

    listed = lam.list_function_url_configs(FunctionName=function)["FunctionUrlConfigs"]
    assert sorted(c["AuthType"] for c in listed) == ["AWS_IAM", "NONE"]
    first = lam.list_function_url_configs(FunctionName=function, MaxItems=1)
    rest = lam.list_function_url_configs(FunctionName=function, Marker=first["NextMarker"])
    assert len(first["FunctionUrlConfigs"]) == len(rest["FunctionUrlConfigs"]) == 1
    assert "NextMarker" not in rest

    # Deleting the alias deletes its URL.
    lam.delete_alias(FunctionName=function, Name="live")
    assert http.get(url).status_code == 404


def test_update_then_delete_takes_effect_on_serving(
    lam: Any, http: httpx.Client, lm_server: ServerProcess
) -> None:
    name = f"furl-del-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_source(HANDLER)},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    assert http.get(url).status_code == 200
    updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM"
    assert http.get(url).status_code == 403
    lam.update_function_url_config(FunctionName=name, AuthType="NONE")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    throttled = http.get(url)
    assert throttled.status_code == 429
    lam.delete_function_concurrency(FunctionName=name)
    lam.delete_function_url_config(FunctionName=name)
    assert http.get(url).status_code == 404
    with pytest.raises(ClientError) as exc:
        lam.get_function_url_config(FunctionName=name)
    assert _code(exc) == "ResourceNotFoundException"
    # Deleting the function deletes its URL configs.
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    assert http.get(url).status_code == 200
    lam.delete_function(FunctionName=name)
    assert http.get(url).status_code == 404
    unknown = http.get(f"http://127.0.0.1:{lm_server.port}/_urls/{'a' * 32}/")
    assert unknown.status_code == 404
