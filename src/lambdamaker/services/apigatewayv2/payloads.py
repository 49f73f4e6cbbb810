"""The Lambda proxy payloads: the event a function receives (format 2.0 or 1.0) and how its
answer becomes the HTTP response, as API Gateway HTTP APIs shape them.

Pure: ``Incoming`` describes the request as serving saw it; nothing here does I/O.

Invariants (AWS's, kept exactly):
- 2.0: header names are lower-cased, repeated headers comma-joined; cookies leave the headers
  for ``cookies``; repeated query parameters are comma-joined; optional members
  (``cookies``, ``queryStringParameters``, ``pathParameters``, ``body``, ``stageVariables``)
  are absent, not empty, when there is nothing to say.
- A body that is not text (by content type, or not UTF-8) is base64-encoded with
  ``isBase64Encoded`` true.
- 2.0 answers: a JSON object with ``statusCode`` is a structured response; any other JSON value
  (or an object without ``statusCode``) is the body of a 200 ``application/json`` response.
  1.0 answers must have ``statusCode``; anything else is a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml")


class BadFunctionResponse(Exception):
    """The function's answer cannot be made into an HTTP response (API Gateway: 500)."""


@dataclass
class Incoming:
    method: str
    raw_path: str  # as the client sent it, stage prefix included
    route_path: str  # the path routes are matched against
    query_string: str
    headers: list[tuple[str, str]]  # lower-case names, in order, repeats kept
    body: bytes
    source_ip: str
    protocol: str
    api_id: str
    account_id: str
    domain_name: str
    stage: str
    route_key: str
    path_parameters: dict[str, str]
    request_id: str
    now: float
    stage_variables: dict[str, str] = field(default_factory=dict)
    # requestContext.authorizer as each payload format shapes it (None: no authorizer)
    authorizer_v2: dict[str, Any] | None = None
    authorizer_v1: dict[str, Any] | None = None

    def joined_headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in self.headers:
            out[name] = f"{out[name]},{value}" if name in out else value
        return out

    def body_fields(self) -> dict[str, Any]:
        if not self.body:
            return {"isBase64Encoded": False}
        ctype = self.joined_headers().get("content-type", "").lower()
        if any(marker in ctype for marker in _TEXT_TYPES):
            try:
                return {"body": self.body.decode("utf-8"), "isBase64Encoded": False}
            except UnicodeDecodeError:
                pass
        return {"body": base64.b64encode(self.body).decode("ascii"), "isBase64Encoded": True}


_last_clf: tuple[int, str] = (-1, "")


def _clf_time(now: float) -> str:
    """``28/Nov/2026:12:00:00 +0000``; the last second's text is reused (one tuple, replaced
    whole, so threads never see a torn entry): strftime costs more than the rest of the event."""
    global _last_clf
    second = int(now)
    cached = _last_clf
    if cached[0] == second:
        return cached[1]
    text = datetime.fromtimestamp(second, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
    _last_clf = (second, text)
    return text


def loads_answer(payload: bytes) -> Any:
    """A function's JSON answer: orjson, or the standard library for what orjson refuses and
    JSON allows as Python reads it (NaN, integers past 64 bits), so behaviour is unchanged."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)


def event_v2(req: Incoming) -> dict[str, Any]:
    headers = req.joined_headers()
    cookie_header = headers.pop("cookie", None)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": req.route_key,
        "rawPath": req.raw_path,
        "rawQueryString": req.query_string,
    }
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.replace(",", ";").split(";") if c]
    event["headers"] = headers
    query: dict[str, str] = {}
    for name, value in parse_qsl(req.query_string, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": req.account_id,
        "apiId": req.api_id,
        "domainName": req.domain_name,
        "domainPrefix": req.domain_name.split(".", 1)[0],
        "http": {
            "method": req.method,
            "path": req.raw_path,
            "protocol": req.protocol,
            "sourceIp": req.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": req.request_id,
        "routeKey": req.route_key,
        "stage": req.stage,
        "time": _clf_time(req.now),
        "timeEpoch": int(req.now * 1000),
    }
    if req.authorizer_v2 is not None:
        event["requestContext"]["authorizer"] = req.authorizer_v2
    if req.path_parameters:
        event["pathParameters"] = req.path_parameters
    if req.stage_variables:
        event["stageVariables"] = req.stage_variables
    event.update(req.body_fields())
    return event


def event_v1(req: Incoming) -> dict[str, Any]:
    headers = req.joined_headers()
    multi_headers: dict[str, list[str]] = {}
    for name, value in req.headers:
        multi_headers.setdefault(name, []).append(value)
    pairs = parse_qsl(req.query_string, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    resource = "$default" if req.route_key == "$default" else req.route_key.partition(" ")[2]
    event: dict[str, Any] = {
        "version": "1.0",
        "resource": resource,
        "path": req.raw_path,
        "httpMethod": req.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": {
            "accountId": req.account_id,
            "apiId": req.api_id,
            "domainName": req.domain_name,
            "domainPrefix": req.domain_name.split(".", 1)[0],
            "extendedRequestId": req.request_id,
            "httpMethod": req.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": req.source_ip,
                "user": None,
                "userAgent": headers.get("user-agent", ""),
                "userArn": None,
            },
            "path": req.raw_path,
            "protocol": req.protocol,
            "requestId": req.request_id,
            "requestTime": _clf_time(req.now),
            "requestTimeEpoch": int(req.now * 1000),
            "resourceId": req.route_key,
            "resourcePath": resource,
            "stage": req.stage,
        },
        "pathParameters": req.path_parameters or None,
        "stageVariables": req.stage_variables or None,
    }
    if req.authorizer_v1 is not None:
        event["requestContext"]["authorizer"] = req.authorizer_v1
    fields = req.body_fields()
    event["body"] = fields.get("body")
    event["isBase64Encoded"] = fields["isBase64Encoded"]
    return event


@dataclass
class Outgoing:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _body_bytes(answer: dict[str, Any]) -> bytes:
    body = answer.get("body")
    if body is None:
        return b""
    text = body if isinstance(body, str) else json.dumps(body)
    if answer.get("isBase64Encoded"):
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadFunctionResponse("body is not valid base64") from exc
    return text.encode("utf-8")


def _status(answer: dict[str, Any]) -> int:
    status = answer.get("statusCode")
    try:
        code = int(status)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise BadFunctionResponse(f"statusCode {status!r} is not a number") from exc
    if not 100 <= code <= 599:
        raise BadFunctionResponse(f"statusCode {code} is out of range")
    return code


def _headers(answer: dict[str, Any], multi: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    single = answer.get("headers") or {}
    if not isinstance(single, dict):
        raise BadFunctionResponse("headers is not an object")
    many = (answer.get("multiValueHeaders") or {}) if multi else {}
    if not isinstance(many, dict):
        raise BadFunctionResponse("multiValueHeaders is not an object")
    for name, value in single.items():
        if name not in many:
            out.append((str(name), str(value)))
    for name, values in many.items():
        for value in values if isinstance(values, list) else [values]:
            out.append((str(name), str(value)))
    return out


def response_v2(payload: bytes) -> Outgoing:
    try:
        answer = loads_answer(payload) if payload else None
    except ValueError:
        # Not JSON at all: passed through as the body (AWS does the same with a raw string).
        return Outgoing(200, [("content-type", "application/json")], payload)
    if not isinstance(answer, dict) or "statusCode" not in answer:
        return Outgoing(200, [("content-type", "application/json")], payload)
    headers = _headers(answer, multi=False)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    for cookie in answer.get("cookies") or ():
        headers.append(("set-cookie", str(cookie)))
    return Outgoing(_status(answer), headers, _body_bytes(answer))


def response_v1(payload: bytes) -> Outgoing:
    try:
        answer = loads_answer(payload) if payload else None
    except ValueError as exc:
        raise BadFunctionResponse("the response is not JSON") from exc
    if not isinstance(answer, dict) or "statusCode" not in answer:
        raise BadFunctionResponse("a 1.0 response must have a statusCode")
    headers = _headers(answer, multi=True)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return Outgoing(_status(answer), headers, _body_bytes(answer))
