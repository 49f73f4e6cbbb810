"""Which service a request goes to, from cheap facts only."""

from __future__ import annotations

import botocore.session
import pytest

from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.routing import ServiceRouter, to_path_style, virtual_host_bucket

_session = botocore.session.get_session()


@pytest.fixture(scope="module")
def router() -> ServiceRouter:
    names = ["s3", "iam", "sts", "lambda", "sqs", "sagemaker", "sagemaker-runtime", "stepfunctions"]
    return ServiceRouter(_session.get_service_model(n) for n in names)


def test_target_header_wins(router: ServiceRouter) -> None:
    req = HttpRequest("POST", "/", headers={"x-amz-target": "AmazonSQS.SendMessage"})
    assert router.route(req, "sqs") == "sqs"


def test_sagemaker_signing_name_splits_by_target(router: ServiceRouter) -> None:
    control = HttpRequest("POST", "/", headers={"x-amz-target": "SageMaker.ListModels"})
    runtime = HttpRequest("POST", "/endpoints/e/invocations")
    assert router.route(control, "sagemaker") == "sagemaker"
    assert router.route(runtime, "sagemaker") == "sagemaker-runtime"


def test_credential_scope_names_rest_and_query_services(router: ServiceRouter) -> None:
    assert router.route(HttpRequest("GET", "/2015-03-31/functions/"), "lambda") == "lambda"
    assert router.route(HttpRequest("POST", "/"), "iam") == "iam"
    assert router.route(HttpRequest("POST", "/"), "states") == "stepfunctions"


def test_unknown_signing_name_is_not_routed(router: ServiceRouter) -> None:
    assert router.route(HttpRequest("POST", "/"), "cognito-idp") is None


def test_unsigned_query_action_routes_by_operation_name(router: ServiceRouter) -> None:
    req = HttpRequest(
        "POST",
        "/",
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        body=b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    assert router.route(req, None) == "sts"


def test_request_with_no_hint_goes_to_s3_by_path(router: ServiceRouter) -> None:
    assert router.route(HttpRequest("GET", "/bucket/key.txt"), None) == "s3"


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("my-bucket.localhost:4599", "my-bucket"),
        ("my.dotted.bucket.localhost", "my.dotted.bucket"),
        ("logs.s3.localhost.localstack.cloud:4566", "logs"),
        ("data.s3.us-east-1.amazonaws.com", "data"),
        ("127.0.0.1:4599", None),
        ("localhost:4599", None),
        ("s3.localhost", None),
        ("s3.amazonaws.com", None),
        ("[::1]:4599", None),
        ("", None),
    ],
)
def test_virtual_host_bucket(host: str, bucket: str | None) -> None:
    assert virtual_host_bucket(host) == bucket


def test_virtual_hosted_path_is_rewritten_to_path_style() -> None:
    root = HttpRequest("GET", "/")
    to_path_style(root, "b")
    assert root.path == "/b"
    key = HttpRequest("GET", "/dir/a%20key")
    to_path_style(key, "b")
    assert key.path == "/b/dir/a%20key"
