"""Which service a request is for, using only cheap facts: headers, host, path.

Precedence (first that answers wins):
1. ``X-Amz-Target`` (json protocols): its prefix is the model's ``targetPrefix``.
2. The SigV4 credential scope's service (header or presigned query): the model's signing name.
   ``sagemaker`` signs both the control plane (json, has a target) and the runtime (rest-json).
3. A virtual-hosted S3 host (``<bucket>.s3.<host>``, ``<bucket>.localhost``): S3, and the path is
   rewritten to path style (``/<bucket>/<key>``) before anything else reads it.
4. A form-encoded query-protocol ``Action`` (unsigned requests, ``--no-auth``): looked up in the
   enabled query services' operation names, then in those of JSON services that still accept
   the query form (SQS, ``legacy_query``). An action sent to a queue URL path
   (``/<account>/<queue>``) goes to such a service first: SNS and SQS share action names.
5. Otherwise S3, by path: a raw GET on an object URL works.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import parse_qs

from botocore.model import ServiceModel

from lambdamaker.gateway.protocol.http import HttpRequest
from lambdamaker.gateway.protocol.legacy_query import accepts_legacy_query

_FORM = "application/x-www-form-urlencoded"


def _signing_name(model: ServiceModel) -> str:
    md = model.metadata
    return str(md.get("signingName") or md.get("endpointPrefix") or model.service_name)


class ServiceRouter:
    def __init__(self, models: Iterable[ServiceModel]) -> None:
        self.by_target: dict[str, str] = {}
        self.by_signing: dict[str, list[str]] = {}
        self.query_actions: dict[str, str] = {}
        self.protocols: dict[str, str] = {}
        legacy: list[ServiceModel] = []
        for model in models:
            if accepts_legacy_query(model):
                legacy.append(model)
            name = model.service_name
            md = model.metadata
            self.protocols[name] = str(md.get("protocol"))
            if md.get("targetPrefix"):
                self.by_target[str(md["targetPrefix"])] = name
            self.by_signing.setdefault(_signing_name(model), []).append(name)
            if md.get("protocol") == "query":
                for op in model.operation_names:
                    self.query_actions.setdefault(op, name)
        # JSON services that also accept the query form: their actions rank after real query
        # services' (``setdefault``), except on a queue URL path (``path_actions``).
        self.path_actions: dict[str, str] = {}
        for model in legacy:
            for op in model.operation_names:
                self.query_actions.setdefault(op, model.service_name)
                self.path_actions.setdefault(op, model.service_name)
        self.s3_enabled = "s3" in self.protocols

    def route(self, request: HttpRequest, scope_service: str | None) -> str | None:
        """The service name, or None when nothing identifies an enabled service."""
        target = request.headers.get("x-amz-target")
        if target:
            prefix = target.rpartition(".")[0]
            if prefix in self.by_target:
                return self.by_target[prefix]
        if scope_service is not None:
            candidates = self.by_signing.get(scope_service)
            if candidates:
                if len(candidates) == 1:
                    return candidates[0]
                # Several services share a signing name; without a target, the rest one.
                for name in candidates:
                    if self.protocols[name].startswith("rest"):
                        return name
                return candidates[0]
            if scope_service != "s3":
                return None
        if self.s3_enabled and virtual_host_bucket(request.host):
            return "s3"
        action = None
        if request.method == "POST" and request.headers.get("content-type", "").startswith(_FORM):
            action = _form_action(request)
        if (
            action is None
            and request.method in ("GET", "POST")
            and "Action=" in request.query_string
        ):
            action = parse_qs(request.query_string).get("Action", [None])[0]
        if action:
            if self.path_actions and _QUEUE_PATH.fullmatch(request.path):
                # Even an unknown action: the queue's service answers InvalidAction.
                return self.path_actions.get(action) or next(iter(self.path_actions.values()))
            if action in self.query_actions:
                return self.query_actions[action]
        return "s3" if self.s3_enabled else None


_QUEUE_PATH = re.compile(r"/[0-9]{12}/[A-Za-z0-9_.-]+/?")


def speaks_query(request: HttpRequest) -> bool:
    """Whether a request to a JSON service that accepts the query form (SQS) uses the latter:
    JSON requests always name their operation in ``X-Amz-Target``."""
    return "x-amz-target" not in request.headers


def _form_action(request: HttpRequest) -> str | None:
    body = request.body if isinstance(request.body, bytes) else b""
    for part in body.split(b"&"):
        if part.startswith(b"Action="):
            return part[7:].decode("ascii", "replace")
    return None


_PLAIN_HOSTS = {"localhost", "s3.localhost", "s3.amazonaws.com"}


def virtual_host_bucket(host: str) -> str | None:
    """The bucket named by a virtual-hosted-style Host header, if it is one."""
    if not host:
        return None
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    hostname = hostname.lower().rstrip(".")
    if hostname in _PLAIN_HOSTS or hostname.startswith("s3."):
        return None
    try:
        ipaddress.ip_address(hostname.strip("[]"))
        return None
    except ValueError:
        pass
    if ".s3." in hostname:
        return hostname.split(".s3.", 1)[0] or None
    if hostname.endswith(".s3-website"):
        return None
    if hostname.endswith(".localhost"):
        return hostname[: -len(".localhost")] or None
    return None


def to_path_style(request: HttpRequest, bucket: str) -> None:
    """Rewrite a virtual-hosted request's path to ``/<bucket>/<key>`` in place."""
    path = request.path or "/"
    request.path = "/" + bucket + (path if path != "/" else "")
