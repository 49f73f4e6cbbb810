"""botocore's protocol test suites, read the other way round (server side).

Input cases: the serialized request a client sends must parse back into the case's params.
Output cases: serializing the case's result (or error) must give a response that botocore's own
parser turns back into that result. Models come from each suite's metadata and shapes.

The suites live in ``../shared/conformance/aws-protocols`` beside the project; they are read in
place, never copied. Skipped: what ``protocol-tests-ignore-list.json`` lists (botocore skips it
too) and what ``SERVER_SIDE_SKIPS`` explains.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.model import OperationModel, ServiceModel
from protocol_helpers import botocore_parse, normalize, to_provider

from lambdamaker.errors import ServiceError
from lambdamaker.gateway.protocol import Body, HttpRequest, ServiceProtocol

SUITES = Path(__file__).parents[2].parent / "shared" / "conformance" / "aws-protocols"
FILES = ("json", "json_1_0", "json_1_0-query-compatible", "query", "rest-json", "rest-xml")

# Cases a server cannot honour, by id, with the reason.
SERVER_SIDE_SKIPS: dict[str, str] = {
    "AwsJson10EndpointTrait": "the request has no X-Amz-Target (the case only checks the "
    "host prefix), so no JSON-protocol server can tell which operation it calls",
    "AwsJson10EndpointTraitWithHostLabel": "same as AwsJson10EndpointTrait: no X-Amz-Target",
    "QueryEmptyQueryMaps": "an empty map puts nothing on the wire in the query protocol, so "
    "the server cannot tell it from an absent one",
    "HttpPrefixHeadersResponse": "a header map with an empty prefix also captures the "
    "response's protocol headers (the request id) when botocore parses it",
}
_QUERY_MAP_DUPLICATES = (
    "the client-side case also fills the catch-all query map with copies of the bound "
    "parameters; on the wire both look the same, and RestJsonQueryParamsStringListMap requires "
    "a server to keep bound parameters out of the map"
)
SERVER_SIDE_SKIPS.update(
    dict.fromkeys(
        (
            "RestJsonAllQueryStringTypes",
            "RestJsonQueryStringEscaping",
            "RestJsonSupportsNaNFloatQueryValues",
            "RestJsonSupportsInfinityFloatQueryValues",
            "RestJsonSupportsNegativeInfinityFloatQueryValues",
            "RestJsonZeroAndFalseQueryValues",
        ),
        _QUERY_MAP_DUPLICATES,
    )
)


def _ignore_list() -> tuple[set[str], dict[tuple[str, str], set[str]]]:
    path = SUITES / "protocol-tests-ignore-list.json"
    if not path.exists():
        return set(), {}
    data = json.loads(path.read_text())
    suites = set(data.get("general", {}).get("input", {}).get("suites", []))
    cases: dict[tuple[str, str], set[str]] = {}
    for proto, kinds in data.get("protocols", {}).items():
        for kind, spec in kinds.items():
            cases[(proto, kind)] = set(spec.get("cases", []))
    return suites, cases


def _collect(kind: str) -> list[Any]:
    if not SUITES.exists():
        return [pytest.param(None, None, None, id="missing", marks=pytest.mark.skip("no suites"))]
    ignored_suites, ignored_cases = _ignore_list()
    params = []
    for stem in FILES:
        path = SUITES / kind / f"{stem}.json"
        if not path.exists():
            continue
        for suite in json.loads(path.read_text()):
            model = _suite_model(suite)
            for case in suite["cases"]:
                marks = []
                if suite["description"] in ignored_suites:
                    marks.append(pytest.mark.skip(reason="ignore list: botocore skips the suite"))
                elif case["id"] in ignored_cases.get((stem, kind), set()):
                    marks.append(pytest.mark.skip(reason="ignore list: botocore skips the case"))
                elif case["id"] in SERVER_SIDE_SKIPS:
                    marks.append(pytest.mark.skip(reason=SERVER_SIDE_SKIPS[case["id"]]))
                params.append(
                    pytest.param(stem, model, case, id=f"{stem}:{case['id']}", marks=marks)
                )
    return params


def _suite_model(suite: dict[str, Any]) -> ServiceModel:
    operations = {case["given"]["name"]: case["given"] for case in suite["cases"]}
    description = {
        "metadata": dict(suite["metadata"]),
        "shapes": suite.get("shapes", {}),
        "operations": operations,
    }
    return ServiceModel(description, service_name="conformance")


def _request(serialized: dict[str, Any]) -> HttpRequest:
    path, _, query = serialized["uri"].partition("?")
    headers = {k.lower(): v for k, v in serialized.get("headers", {}).items()}
    body = serialized.get("body", "").encode("utf-8")
    return HttpRequest(serialized["method"], path, query, headers, body, serialized.get("host", ""))


@pytest.mark.parametrize(("stem", "model", "case"), _collect("input"))
def test_input_case_parses_back_into_its_params(
    stem: str, model: ServiceModel, case: dict[str, Any]
) -> None:
    protocol = ServiceProtocol(model)
    request = _request(case["serialized"])
    operation = protocol.find_operation(request)
    assert operation.name == case["given"]["name"]
    params = protocol.parse(request, operation)
    shape = operation.input_shape
    payload = shape.serialization.get("payload") if shape is not None else None
    streamed = params.get(payload) if payload else None
    if payload not in case["params"] and isinstance(streamed, Body) and streamed.size == 0:
        # A streaming payload always reaches the provider as a Body, empty when the request
        # had no body; the case leaves the member out instead.
        del params[payload]
    assert normalize(params, shape) == normalize(_wire_visible(case["params"], shape), shape)


def _wire_visible(params: dict[str, Any], shape: Any) -> dict[str, Any]:
    """Drop empty lists and maps bound to headers or the query string: HTTP has no way to
    carry them (the client sends nothing), so a server cannot see them."""
    if shape is None:
        return params
    out = {}
    for name, value in params.items():
        member = shape.members.get(name)
        located = member is not None and member.serialization.get("location") in (
            "header",
            "headers",
            "querystring",
        )
        if located and isinstance(value, list | dict) and not value:
            continue
        out[name] = value
    return out


@pytest.mark.parametrize(("stem", "model", "case"), _collect("output"))
def test_output_case_is_parsed_by_botocore_into_its_result(
    stem: str, model: ServiceModel, case: dict[str, Any]
) -> None:
    protocol = ServiceProtocol(model)
    operation = model.operation_model(case["given"]["name"])
    if "error" in case:
        _check_error_case(protocol, operation, case)
        return
    shape = operation.output_shape
    result = to_provider(case.get("result", {}), shape) or {}
    response = protocol.serialize(operation, result, "request-id-1")
    parsed = botocore_parse(protocol.protocol, operation, response)
    assert normalize(parsed, shape) == normalize(case.get("result", {}), shape)


def _check_error_case(
    protocol: ServiceProtocol, operation: OperationModel, case: dict[str, Any]
) -> None:
    model = protocol.service_model
    error_shape = model.shape_for(case["given"]["errors"][0]["shape"])
    message = case.get("errorMessage", "")
    fields = to_provider(
        {k: v for k, v in case["error"].items() if k not in ("Message", "message")}, error_shape
    )
    error = ServiceError(
        message, code=case["errorCode"], status=case["response"]["status_code"], **fields
    )
    response = protocol.serialize_error(error, operation, "request-id-1")
    parsed = botocore_parse(protocol.protocol, operation, response)
    assert parsed["Error"]["Code"] == case["errorCode"]
    assert parsed["Error"].get("Message", "") == message
    modelled = botocore_parse(protocol.protocol, operation, response, shape=error_shape)
    modelled.pop("Error", None)
    assert normalize(modelled, error_shape) == normalize(case["error"], error_shape)
