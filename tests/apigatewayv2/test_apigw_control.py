"""The HTTP API control plane through boto3: APIs, routes, integrations, stages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

FN_ARN = "arn:aws:lambda:us-east-1:000000000000:function:nothing"


@pytest.fixture()
def apigw(boto_client: Callable[..., Any]) -> Any:
    return boto_client("apigatewayv2")


@pytest.fixture()
def api(apigw: Any) -> Any:
    created = apigw.create_api(Name=f"api-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP")
    yield created
    try:
        apigw.delete_api(ApiId=created["ApiId"])
    except ClientError:
        pass


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_create_api_answers_its_endpoint_on_this_platform(apigw: Any, api: Any) -> None:
    assert api["ProtocolType"] == "HTTP"
    assert len(api["ApiId"]) == 10
    assert api["ApiEndpoint"].endswith(f"/_apis/{api['ApiId']}")
    assert api["ApiEndpoint"].startswith("http://127.0.0.1:")
    got = apigw.get_api(ApiId=api["ApiId"])
    assert (got["Name"], got["ApiEndpoint"]) == (api["Name"], api["ApiEndpoint"])
    assert api["ApiId"] in [item["ApiId"] for item in apigw.get_apis()["Items"]]


def test_deleted_api_is_not_found(apigw: Any) -> None:
    api_id = apigw.create_api(Name="gone", ProtocolType="HTTP")["ApiId"]
    apigw.delete_api(ApiId=api_id)
    with pytest.raises(ClientError) as exc:
        apigw.get_api(ApiId=api_id)
    assert _code(exc) == "NotFoundException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_websocket_api_is_a_bad_request(apigw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        apigw.create_api(
            Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
        )
    assert _code(exc) == "BadRequestException"


def test_routes_are_created_listed_and_deleted(apigw: Any, api: Any) -> None:
    api_id = api["ApiId"]
    keys = ["GET /items/{id}", "ANY /{proxy+}", "$default", "POST /"]
    ids = [apigw.create_route(ApiId=api_id, RouteKey=k)["RouteId"] for k in keys]
    listed = {r["RouteKey"]: r["RouteId"] for r in apigw.get_routes(ApiId=api_id)["Items"]}
    assert listed == dict(zip(keys, ids, strict=True))
    assert apigw.get_route(ApiId=api_id, RouteId=ids[0])["RouteKey"] == keys[0]
    apigw.delete_route(ApiId=api_id, RouteId=ids[0])
    with pytest.raises(ClientError) as exc:
        apigw.get_route(ApiId=api_id, RouteId=ids[0])
    assert _code(exc) == "NotFoundException"


@pytest.mark.parametrize(
    "key", ["GET items", "FETCH /items", "GET /{proxy+}/more", "GET /a/{x}/{x}", "GET", "/items"]
)
def test_malformed_route_key_is_a_bad_request(apigw: Any, api: Any, key: str) -> None:
    with pytest.raises(ClientError) as exc:
        apigw.create_route(ApiId=api["ApiId"], RouteKey=key)
    assert _code(exc) == "BadRequestException"


def test_duplicate_route_key_is_a_conflict(apigw: Any, api: Any) -> None:
    apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /items")
    with pytest.raises(ClientError) as exc:
        apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /items")
    assert _code(exc) == "ConflictException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_route_on_missing_api_is_not_found(apigw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        apigw.create_route(ApiId="nosuchapi0", RouteKey="GET /")
    assert _code(exc) == "NotFoundException"


def test_integrations_are_created_listed_and_deleted(apigw: Any, api: Any) -> None:
    api_id = api["ApiId"]
    made = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=FN_ARN,
        PayloadFormatVersion="2.0",
    )
    assert (made["IntegrationUri"], made["PayloadFormatVersion"]) == (FN_ARN, "2.0")
    ident = made["IntegrationId"]
    assert apigw.get_integration(ApiId=api_id, IntegrationId=ident)["IntegrationType"] == (
        "AWS_PROXY"
    )
    assert [i["IntegrationId"] for i in apigw.get_integrations(ApiId=api_id)["Items"]] == [ident]
    route = apigw.create_route(ApiId=api_id, RouteKey="GET /", Target=f"integrations/{ident}")
    assert route["Target"] == f"integrations/{ident}"
    apigw.delete_integration(ApiId=api_id, IntegrationId=ident)
    with pytest.raises(ClientError) as exc:
        apigw.get_integration(ApiId=api_id, IntegrationId=ident)
    assert _code(exc) == "NotFoundException"


def test_route_target_must_be_an_integration_of_the_api(apigw: Any, api: Any) -> None:
    with pytest.raises(ClientError) as exc:
        apigw.create_route(ApiId=api["ApiId"], RouteKey="GET /", Target="integrations/abc1234")
    assert _code(exc) == "BadRequestException"


def test_bad_payload_format_version_is_a_bad_request(apigw: Any, api: Any) -> None:
    with pytest.raises(ClientError) as exc:
        apigw.create_integration(
            ApiId=api["ApiId"],
            IntegrationType="AWS_PROXY",
            IntegrationUri=FN_ARN,
            PayloadFormatVersion="3.0",
        )
    assert _code(exc) == "BadRequestException"


def test_stages_are_created_listed_and_deleted(apigw: Any, api: Any) -> None:
    api_id = api["ApiId"]
    stage = apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    apigw.create_stage(ApiId=api_id, StageName="prod", StageVariables={"k": "v"})
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["StageVariables"] == {"k": "v"}
    names = [s["StageName"] for s in apigw.get_stages(ApiId=api_id)["Items"]]
    assert sorted(names) == ["$default", "prod"]
    with pytest.raises(ClientError) as exc:
        apigw.create_stage(ApiId=api_id, StageName="prod")
    assert _code(exc) == "ConflictException"
    apigw.delete_stage(ApiId=api_id, StageName="prod")
    with pytest.raises(ClientError) as exc:
        apigw.get_stage(ApiId=api_id, StageName="prod")
    assert _code(exc) == "NotFoundException"


def test_quick_create_makes_route_integration_and_default_stage(apigw: Any) -> None:
    api = apigw.create_api(Name="quick", ProtocolType="HTTP", Target=FN_ARN)
    try:
        [route] = apigw.get_routes(ApiId=api["ApiId"])["Items"]
        [integration] = apigw.get_integrations(ApiId=api["ApiId"])["Items"]
        [stage] = apigw.get_stages(ApiId=api["ApiId"])["Items"]
        assert route["RouteKey"] == "$default"
        assert route["Target"] == f"integrations/{integration['IntegrationId']}"
        assert integration["IntegrationUri"] == FN_ARN
        assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    finally:
        apigw.delete_api(ApiId=api["ApiId"])


def test_updates_change_what_get_answers(apigw: Any, api: Any) -> None:
    api_id = api["ApiId"]
    assert apigw.update_api(ApiId=api_id, Name="renamed")["Name"] == "renamed"
    assert apigw.get_api(ApiId=api_id)["Name"] == "renamed"
    integration = apigw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FN_ARN
    )
    assert integration["PayloadFormatVersion"] == "1.0"
    ident = integration["IntegrationId"]
    apigw.update_integration(ApiId=api_id, IntegrationId=ident, PayloadFormatVersion="2.0")
    assert apigw.get_integration(ApiId=api_id, IntegrationId=ident)["PayloadFormatVersion"] == (
        "2.0"
    )
    route_id = apigw.create_route(ApiId=api_id, RouteKey="GET /a")["RouteId"]
    apigw.create_route(ApiId=api_id, RouteKey="GET /b")
    with pytest.raises(ClientError) as exc:
        apigw.update_route(ApiId=api_id, RouteId=route_id, RouteKey="GET /b")
    assert _code(exc) == "ConflictException"
    updated = apigw.update_route(
        ApiId=api_id, RouteId=route_id, RouteKey="GET /c", Target=f"integrations/{ident}"
    )
    assert (updated["RouteKey"], updated["Target"]) == ("GET /c", f"integrations/{ident}")
    apigw.create_stage(ApiId=api_id, StageName="dev")
    apigw.update_stage(ApiId=api_id, StageName="dev", StageVariables={"x": "1"})
    assert apigw.get_stage(ApiId=api_id, StageName="dev")["StageVariables"] == {"x": "1"}
