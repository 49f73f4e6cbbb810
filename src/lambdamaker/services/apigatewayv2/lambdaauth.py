"""Lambda (REQUEST) authorizers at request time.

Invariants (AWS's):
- Every identity source must be present and non-empty, else 401 without invoking the function.
- The function gets the request in the authorizer's payload format (2.0: the proxy event plus
  ``type``, ``routeArn``, ``identitySource`` as a list; 1.0: the 1.0 proxy event plus ``type``,
  ``methodArn``, ``identitySource`` comma-joined).
- Simple responses (``EnableSimpleResponses``): ``{"isAuthorized": bool, "context": {...}}``.
  Otherwise an IAM policy: allowed iff some Allow statement for ``execute-api:Invoke`` matches
  the route ARN and no Deny does. Denied → 403; a function error or unreadable answer → 500.
- Results are cached for ``AuthorizerResultTtlInSeconds`` keyed by the authorizer and the
  identity source values (never when the TTL is 0 or there are no identity sources).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from lambdamaker.services.apigatewayv2.payloads import Incoming, event_v1, event_v2

log = logging.getLogger("lambdamaker.apigatewayv2")

Invoke = Callable[[str, dict[str, Any]], Awaitable[bytes | None]]


@dataclass(frozen=True)
class Decision:
    status: int  # 200 allowed, 401, 403 or 500
    context: dict[str, Any]
    principal: str | None = None


def identity_values(sources: list[str], req: Incoming) -> list[str] | None:
    """The identity sources' values, or None if one is missing or empty."""
    headers = req.joined_headers()
    query = dict(parse_qsl(req.query_string, keep_blank_values=True))
    context = {"stage": req.stage, "requestId": req.request_id, "routeKey": req.route_key}
    out: list[str] = []
    for source in sources:
        prefix, _, name = source.lstrip("$").partition(".")
        if prefix == "request":
            where, _, name = name.partition(".")
            value = headers.get(name.lower()) if where == "header" else query.get(name)
        elif prefix == "stageVariables":
            value = req.stage_variables.get(name)
        else:
            value = context.get(name)
        if not value:
            return None
        out.append(value)
    return out


def route_arn(req: Incoming, region: str) -> str:
    path = req.route_path.lstrip("/")
    return (
        f"arn:aws:execute-api:{region}:{req.account_id}:{req.api_id}/{req.stage}/"
        f"{req.method}/{path}"
    )


def _policy_allows(policy: Any, arn: str) -> bool:
    if not isinstance(policy, dict):
        return False
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        if not isinstance(st, dict):
            continue
        actions = st.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        resources = st.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(arn, r) for r in resources):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


def _decide(doc: dict[str, Any], answer: Any, arn: str) -> Decision:
    if not isinstance(answer, dict):
        return Decision(500, {})
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        return Decision(500, {})
    if doc.get("EnableSimpleResponses"):
        if not isinstance(answer.get("isAuthorized"), bool):
            return Decision(500, {})
        return Decision(200 if answer["isAuthorized"] else 403, context)
    if "policyDocument" not in answer:
        return Decision(500, {})
    allowed = _policy_allows(answer["policyDocument"], arn)
    principal = answer.get("principalId")
    return Decision(200 if allowed else 403, context, str(principal) if principal else None)


class LambdaAuthorizers:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # The function's answer, not the decision: a cached IAM policy is checked again against
        # each request's route ARN.
        self._cache: dict[tuple[str, str, tuple[str, ...]], tuple[float, Any]] = {}

    async def authorize(
        self,
        api_id: str,
        ident: str,
        doc: dict[str, Any],
        req: Incoming,
        region: str,
        invoke: Invoke,
    ) -> Decision:
        sources = list(doc.get("IdentitySource") or [])
        values = identity_values(sources, req)
        if values is None:
            return Decision(401, {})
        ttl = int(doc.get("AuthorizerResultTtlInSeconds") or 0)
        key = (api_id, ident, tuple(values))
        now = self.clock()
        arn = route_arn(req, region)
        if ttl > 0 and sources:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return _decide(doc, hit[1], arn)
        if doc.get("AuthorizerPayloadFormatVersion") == "1.0":
            event = event_v1(req)
            event.update({"type": "REQUEST", "methodArn": arn, "identitySource": ",".join(values)})
        else:
            event = event_v2(req)
            event.update({"type": "REQUEST", "routeArn": arn, "identitySource": values})
        payload = await invoke(str(doc.get("AuthorizerUri", "")), event)
        if payload is None:
            return Decision(500, {})
        try:
            answer = json.loads(payload)
        except ValueError:
            return Decision(500, {})
        decision = _decide(doc, answer, arn)
        if ttl > 0 and sources and decision.status in (200, 403):
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now + ttl, answer)
        return decision

    def forget(self, api_id: str) -> None:
        for key in [k for k in self._cache if k[0] == api_id]:
            del self._cache[key]
