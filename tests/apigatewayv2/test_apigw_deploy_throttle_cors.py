"""HTTP API deployments, stage throttling and CORS, end to end: boto3 configures, httpx calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from function_support import create_function

HANDLER = """
import json

def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"access-control-allow-origin": "https://backend.example"},
        "body": json.dumps({"route": event["routeKey"], "version": event["version"]}),
    }
"""


@pytest.fixture(scope="module")
def fn_arn(boto_client: Callable[..., Any]) -> str:
    return create_function(boto_client("lambda"), HANDLER, "apigw-dtc")


def _api(apigw: Any, fn_arn: str, **kwargs: Any) -> tuple[str, str, str]:
    """(api id, endpoint, integration id)."""
    api = apigw.create_api(Name=f"dtc-{uuid.uuid4().hex[:6]}", ProtocolType="HTTP", **kwargs)
    integration = apigw.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="AWS_PROXY",
        IntegrationUri=fn_arn,
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    return api["ApiId"], api["ApiEndpoint"], integration


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --- deployments ----------------------------------------------------------------------------


def test_stage_without_auto_deploy_serves_its_deployment_not_live_routes(
    apigw: Any, http: httpx.Client, fn_arn: str
) -> None:
    api_id, endpoint, integration = _api(apigw, fn_arn)
    target = f"integrations/{integration}"
    apigw.create_stage(ApiId=api_id, StageName="prod")
    apigw.create_route(ApiId=api_id, RouteKey="GET /one", Target=target)
    # No deployment yet: the stage serves nothing.
    assert http.get(f"{endpoint}/prod/one").status_code == 404
    deployment = apigw.create_deployment(ApiId=api_id, StageName="prod", Description="first")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert deployment["AutoDeployed"] is False
    assert (
        apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"]
        == (deployment["DeploymentId"])
    )
    assert http.get(f"{endpoint}/prod/one").status_code == 200
    # A later route is not served until the next deployment.
    apigw.create_route(ApiId=api_id, RouteKey="GET /two", Target=target)
    assert http.get(f"{endpoint}/prod/two").status_code == 404
    second = apigw.create_deployment(ApiId=api_id)
    assert http.get(f"{endpoint}/prod/two").status_code == 404
    apigw.update_stage(ApiId=api_id, StageName="prod", DeploymentId=second["DeploymentId"])
    assert http.get(f"{endpoint}/prod/two").status_code == 200

    listed = apigw.get_deployments(ApiId=api_id)["Items"]
    assert {d["DeploymentId"] for d in listed} == {
        deployment["DeploymentId"],
        second["DeploymentId"],
    }
    updated = apigw.update_deployment(
        ApiId=api_id, DeploymentId=deployment["DeploymentId"], Description="renamed"
    )
    assert updated["Description"] == "renamed"
    assert apigw.get_deployment(ApiId=api_id, DeploymentId=deployment["DeploymentId"])[
        "Description"
    ] == ("renamed")
    # The stage's deployment cannot go; the other one can.
    with pytest.raises(ClientError) as exc:
        apigw.delete_deployment(ApiId=api_id, DeploymentId=second["DeploymentId"])
    assert _code(exc) == "BadRequestException"
    apigw.delete_deployment(ApiId=api_id, DeploymentId=deployment["DeploymentId"])
    with pytest.raises(ClientError) as exc:
        apigw.get_deployment(ApiId=api_id, DeploymentId=deployment["DeploymentId"])
    assert _code(exc) == "NotFoundException"


def test_auto_deploy_stage_gets_a_new_deployment_on_every_change(
    apigw: Any, http: httpx.Client, fn_arn: str
) -> None:
    api_id, endpoint, integration = _api(apigw, fn_arn)
    apigw.create_route(ApiId=api_id, RouteKey="GET /a", Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    first = apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    apigw.create_route(ApiId=api_id, RouteKey="GET /b", Target=f"integrations/{integration}")
    second = apigw.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"]
    assert first != second
    assert apigw.get_deployment(ApiId=api_id, DeploymentId=second)["AutoDeployed"] is True
    assert http.get(f"{endpoint}/b").status_code == 200


def test_deployment_bad_input(apigw: Any, fn_arn: str) -> None:
    api_id, _, integration = _api(apigw, fn_arn)
    with pytest.raises(ClientError) as exc:
        apigw.create_deployment(ApiId=api_id)
    assert _code(exc) == "BadRequestException"  # no routes yet
    apigw.create_route(ApiId=api_id, RouteKey="GET /a", Target=f"integrations/{integration}")
    with pytest.raises(ClientError) as exc:
        apigw.create_deployment(ApiId=api_id, StageName="missing")
    assert _code(exc) == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        apigw.create_stage(ApiId=api_id, StageName="s", DeploymentId="nosuch1")
    assert _code(exc) == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        apigw.get_deployments(ApiId="nosuchapi0")
    assert _code(exc) == "NotFoundException"


# --- throttling -----------------------------------------------------------------------------


def test_requests_beyond_the_stage_burst_get_429(
    apigw: Any, http: httpx.Client, fn_arn: str
) -> None:
    api_id, endpoint, integration = _api(apigw, fn_arn)
    target = f"integrations/{integration}"
    apigw.create_route(ApiId=api_id, RouteKey="GET /limited", Target=target)
    apigw.create_route(ApiId=api_id, RouteKey="GET /open", Target=target)
    apigw.create_stage(
        ApiId=api_id,
        StageName="$default",
        AutoDeploy=True,
        # A rate this low refills no token during the test.
        DefaultRouteSettings={"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.001},
        RouteSettings={"GET /open": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 100}},
    )
    statuses = [http.get(f"{endpoint}/limited").status_code for _ in range(5)]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 429, 429]
    refused = http.get(f"{endpoint}/limited")
    assert refused.json() == {"message": "Too Many Requests"}
    # The route's own settings replace the stage default.
    assert [http.get(f"{endpoint}/open").status_code for _ in range(5)] == [200] * 5


def test_zero_limits_refuse_every_request(apigw: Any, http: httpx.Client, fn_arn: str) -> None:
    api_id, endpoint, integration = _api(apigw, fn_arn)
    apigw.create_route(ApiId=api_id, RouteKey="GET /x", Target=f"integrations/{integration}")
    apigw.create_stage(
        ApiId=api_id,
        StageName="$default",
        AutoDeploy=True,
        DefaultRouteSettings={"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0},
    )
    assert http.get(f"{endpoint}/x").status_code == 429


# --- CORS -----------------------------------------------------------------------------------

CORS = {
    "AllowOrigins": ["https://app.example"],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["content-type", "x-token"],
    "ExposeHeaders": ["x-trace"],
    "MaxAge": 600,
    "AllowCredentials": True,
}


@pytest.fixture()
def cors_api(apigw: Any, fn_arn: str) -> tuple[str, str]:
    api_id, endpoint, integration = _api(apigw, fn_arn, CorsConfiguration=CORS)
    apigw.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}", Target=f"integrations/{integration}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id, endpoint


def test_preflight_is_answered_by_api_gateway(
    http: httpx.Client, cors_api: tuple[str, str]
) -> None:
    _, endpoint = cors_api
    response = http.options(
        f"{endpoint}/anything",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-methods"] == "GET,POST"
    assert response.headers["access-control-allow-headers"] == "content-type,x-token"
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["access-control-allow-credentials"] == "true"
    other = http.options(
        f"{endpoint}/anything",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.status_code == 204
    assert "access-control-allow-origin" not in other.headers


def test_responses_carry_cors_headers_for_allowed_origins_only(
    apigw: Any, http: httpx.Client, cors_api: tuple[str, str]
) -> None:
    api_id, endpoint = cors_api
    allowed = http.get(f"{endpoint}/thing", headers={"Origin": "https://app.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert allowed.headers["access-control-expose-headers"] == "x-trace"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    # The integration's own CORS header is replaced, and dropped for a foreign origin.
    foreign = http.get(f"{endpoint}/thing", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    # An OPTIONS request that is not a preflight reaches the route.
    plain = http.options(f"{endpoint}/thing")
    assert plain.json()["route"] == "ANY /{proxy+}"

    apigw.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in apigw.get_api(ApiId=api_id)
    after = http.get(f"{endpoint}/thing", headers={"Origin": "https://app.example"})
    assert after.headers["access-control-allow-origin"] == "https://backend.example"


def test_wildcard_origin_with_credentials_is_refused(apigw: Any) -> None:
    with pytest.raises(ClientError) as exc:
        apigw.create_api(
            Name="bad-cors",
            ProtocolType="HTTP",
            CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True},
        )
    assert _code(exc) == "BadRequestException"
