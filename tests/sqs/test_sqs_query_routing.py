"""Unsigned query requests find SQS by action or by queue URL path; SNS keeps its own actions."""

from __future__ import annotations

import botocore.session
import pytest

from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.routing import ServiceRouter, speaks_query

_session = botocore.session.get_session()
_FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def router() -> ServiceRouter:
    return ServiceRouter(_session.get_service_model(n) for n in ["s3", "sns", "sqs"])


def _post(path: str, body: bytes) -> HttpRequest:
    return HttpRequest("POST", path, headers=dict(_FORM), body=body)


def test_sqs_only_actions_route_to_sqs_anywhere(router: ServiceRouter) -> None:
    assert router.route(_post("/", b"Action=SendMessage&QueueUrl=x"), None) == "sqs"
    get = HttpRequest("GET", "/", query_string="Action=ListQueues&Version=2012-11-05")
    assert router.route(get, None) == "sqs"


def test_shared_actions_go_to_sns_at_the_root_and_to_sqs_on_a_queue_path(
    router: ServiceRouter,
) -> None:
    assert router.route(_post("/", b"Action=AddPermission"), None) == "sns"
    assert router.route(_post("/000000000000/q", b"Action=AddPermission"), None) == "sqs"


def test_any_action_on_a_queue_path_is_sqs_s_to_answer(router: ServiceRouter) -> None:
    get = HttpRequest("GET", "/000000000000/q", query_string="Action=NoSuchAction")
    assert router.route(get, None) == "sqs"
    # Without an Action it is an S3 object read.
    assert router.route(HttpRequest("GET", "/000000000000/q"), None) == "s3"


def test_json_requests_name_their_target() -> None:
    json_req = HttpRequest("POST", "/", headers={"x-amz-target": "AmazonSQS.SendMessage"})
    assert not speaks_query(json_req)
    assert speaks_query(_post("/", b"Action=SendMessage"))
