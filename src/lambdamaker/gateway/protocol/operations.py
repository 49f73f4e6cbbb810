"""Which operation does a request call? One finder per protocol family, built once per service.

- ``json``: the ``X-Amz-Target`` header, ``<targetPrefix>.<OperationName>``.
- ``query``: the ``Action`` parameter, from the query string or the form body.
- ``rest-json``/``rest-xml``: method + path template + the static query keys of the
  ``requestUri`` (``?list-type=2``, ``?delete``) + required query and header members.

REST routing rules, as AWS's front ends apply them (and Smithy's ``@http`` trait describes):

1. Path templates are tried from the most specific: at the first segment where two templates
   differ, a literal beats a label, and a label beats a greedy label (``{Key+}``). A trailing
   slash is optional unless the template ends in a greedy label.
2. Among operations sharing a method and template, the one with the most requirements that the
   request satisfies wins: each static query key (with its value, when the URI gives one), each
   required query member and each required header member counts. S3's PutObject, CopyObject
   (``x-amz-copy-source``), UploadPart (``partNumber`` + ``uploadId``) and UploadPartCopy (both)
   share ``PUT /{Bucket}/{Key+}`` and are told apart this way. Deprecated operations lose ties.
3. All templates of a method are compiled into one alternation, so the common case costs one
   regex match; only when the matched template has no satisfied operation are the others tried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from botocore.model import OperationModel, ServiceModel

from lambdamaker.errors import ServiceError, UnknownOperationError
from lambdamaker.gateway.protocol import values
from lambdamaker.gateway.protocol.codes import ErrorCodes
from lambdamaker.gateway.protocol.http import HttpRequest

ROUTE_CACHE_KEY = "_lambdamaker_route"
"""Key in ``HttpRequest.__dict__`` where a REST finder leaves what it already parsed (the
operation, its URI labels, the decoded query pairs) so that ``parse`` does not redo it."""


@dataclass(frozen=True)
class RouteMatch:
    operation: OperationModel
    labels: dict[str, str]
    """URI label name (as written in the template, without ``+``) -> decoded value."""
    query: list[tuple[str, str]]


def _unknown(codes: tuple[str, int], message: str) -> ServiceError:
    code, status = codes
    return UnknownOperationError(message, code=code, status=status)


# --- json ----------------------------------------------------------------------------------------


class TargetFinder:
    def __init__(self, model: ServiceModel, codes: ErrorCodes) -> None:
        prefix = model.metadata.get("targetPrefix", "")
        self._codes = codes
        self._targets = {
            f"{prefix}.{name}": model.operation_model(name) for name in model.operation_names
        }

    def find(self, request: HttpRequest) -> OperationModel:
        target = request.headers.get("x-amz-target")
        if not target:
            raise _unknown(self._codes.missing_action, "Missing required header X-Amz-Target")
        operation = self._targets.get(target)
        if operation is None:
            raise _unknown(self._codes.unknown_operation, f"Operation {target} is not supported")
        return operation


# --- query ---------------------------------------------------------------------------------------

_ACTION = re.compile(rb"(?:^|&)Action=([^&]*)")


def _action_in(raw: bytes) -> str | None:
    m = _ACTION.search(raw)
    if m is None:
        return None
    return unquote_to_bytes(m.group(1).replace(b"+", b" ")).decode("utf-8", "replace")


class ActionFinder:
    def __init__(self, model: ServiceModel, codes: ErrorCodes) -> None:
        self._codes = codes
        self._version = model.api_version
        self._operations = {name: model.operation_model(name) for name in model.operation_names}

    def find(self, request: HttpRequest) -> OperationModel:
        action = None
        if request.query_string:
            action = _action_in(request.query_string.encode("latin-1", "replace"))
        if action is None and request.body:
            action = _action_in(request.body_bytes())
        if not action:
            raise _unknown(
                self._codes.missing_action,
                "The request must contain the parameter Action.",
            )
        operation = self._operations.get(action)
        if operation is None:
            raise _unknown(
                self._codes.unknown_operation,
                f"Could not find operation {action} for version {self._version}",
            )
        return operation


# --- rest ----------------------------------------------------------------------------------------

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass
class _Route:
    operation: OperationModel
    static_query: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    score: int
    order: int = 0
    """Position in the model, the tie-breaker between equal scores."""

    def accepts(self, query_keys: dict[str, list[str]], headers: dict[str, str]) -> bool:
        for key, value in self.static_query:
            found = query_keys.get(key)
            if found is None or (value is not None and value not in found):
                return False
        for key in self.required_query:
            if key not in query_keys:
                return False
        return all(header in headers for header in self.required_headers)


@dataclass
class _Template:
    path: str
    group: str
    """Name of the group wrapping this template in the per-method alternation."""
    regex: re.Pattern[str]
    labels: list[tuple[str, str]]
    """(regex group, label name) in template order."""
    rank: tuple[int, ...]
    routes: list[_Route] = field(default_factory=list)
    keyed: dict[str, list[_Route]] = field(default_factory=dict)
    """Routes with static query keys, by their first key: only those whose key the request
    carries can match, so S3's thirty-odd ``GET /{Bucket}?<subresource>`` are not all tried."""
    unkeyed: list[_Route] = field(default_factory=list)

    def index(self) -> None:
        self.routes.sort(key=lambda r: (-r.score, r.order))
        for route in self.routes:
            if route.static_query:
                self.keyed.setdefault(route.static_query[0][0], []).append(route)
            else:
                self.unkeyed.append(route)

    def candidates(self, query_keys: dict[str, list[str]]) -> list[_Route]:
        if not query_keys or not self.keyed:
            return self.unkeyed
        found = [r for key in query_keys for r in self.keyed.get(key, ())]
        if not found:
            return self.unkeyed
        found.extend(self.unkeyed)
        found.sort(key=lambda r: (-r.score, r.order))
        return found


def _segment_rank(segment: str) -> int:
    if "{" not in segment:
        return 4
    if segment.startswith("{") and segment.endswith("+}"):
        return 1
    if segment.startswith("{") and segment.endswith("}") and segment.count("{") == 1:
        return 2
    return 3  # a label inside literal text (``{Name}.json``) is more specific than a bare one


def _compile_template(path: str, group_prefix: str) -> tuple[str, list[tuple[str, str]]]:
    pattern: list[str] = []
    labels: list[tuple[str, str]] = []
    pos = 0
    for i, m in enumerate(_LABEL.finditer(path)):
        pattern.append(re.escape(path[pos : m.start()]))
        name = m.group(1)
        group = f"{group_prefix}_{i}"
        if name.endswith("+"):
            pattern.append(f"(?P<{group}>.+)")
            name = name[:-1]
        else:
            pattern.append(f"(?P<{group}>[^/]+)")
        labels.append((group, name))
        pos = m.end()
    pattern.append(re.escape(path[pos:]))
    regex = "".join(pattern)
    if not path.endswith("+}") and path != "/":
        regex += "/?"
    return regex, labels


def _make_route(operation: OperationModel, static_query: str) -> _Route:
    statics: list[tuple[str, str | None]] = []
    for part in static_query.split("&") if static_query else ():
        key, sep, value = part.partition("=")
        statics.append((unquote(key), unquote(value) if sep else None))
    required_query: list[str] = []
    required_headers: list[str] = []
    shape = operation.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire = str(member.serialization.get("name", name))
            if location == "querystring":
                required_query.append(wire)
            elif location == "header":
                required_headers.append(wire.lower())
    score = 10 * (len(statics) + len(required_query) + len(required_headers))
    if operation.deprecated:
        score -= 5
    return _Route(operation, tuple(statics), tuple(required_query), tuple(required_headers), score)


class RestRouter:
    def __init__(self, model: ServiceModel, codes: ErrorCodes) -> None:
        self._codes = codes
        by_method: dict[str, dict[str, _Template]] = {}
        counter = 0
        for order, name in enumerate(model.operation_names):
            operation = model.operation_model(name)
            uri = operation.http.get("requestUri", "/")
            method = operation.http.get("method", "POST").upper()
            path, _, static_query = uri.partition("?")
            if path != "/":
                path = path.rstrip("/") or "/"
            templates = by_method.setdefault(method, {})
            template = templates.get(path)
            if template is None:
                counter += 1
                prefix = f"t{counter}"
                regex, labels = _compile_template(path, prefix)
                segments = path.strip("/").split("/") if path != "/" else []
                rank = tuple(_segment_rank(s) for s in segments)
                wrapped = re.compile(f"(?P<{prefix}>{regex})")
                template = templates[path] = _Template(path, prefix, wrapped, labels, rank)
            route = _make_route(operation, static_query)
            route.order = order
            template.routes.append(route)
        self._templates: dict[str, list[_Template]] = {}
        self._combined: dict[str, tuple[re.Pattern[str], dict[str, _Template]]] = {}
        for method, templates in by_method.items():
            ordered = sorted(templates.values(), key=lambda t: (t.rank, len(t.path)), reverse=True)
            for template in ordered:
                template.index()
            self._templates[method] = ordered
            alternation = "|".join(t.regex.pattern for t in ordered)
            by_group = {t.group: t for t in ordered}
            self._combined[method] = (re.compile(alternation), by_group)

    def find(self, request: HttpRequest) -> OperationModel:
        return self.match(request).operation

    def match(self, request: HttpRequest) -> RouteMatch:
        cached = request.__dict__.get(ROUTE_CACHE_KEY)
        if cached is not None:
            return cached
        method = request.method.upper()
        path = request.path or "/"
        query = values.parse_query(request.query_string) if request.query_string else []
        query_keys: dict[str, list[str]] = {}
        for key, value in query:
            query_keys.setdefault(key, []).append(value)
        combined = self._combined.get(method)
        found: RouteMatch | None = None
        if combined is not None:
            regex, by_group = combined
            m = regex.fullmatch(path)
            if m is not None and m.lastgroup is not None:
                template = by_group[m.lastgroup]
                found = self._pick(template, m, query, query_keys, request.headers)
            if found is None:
                for template in self._templates[method]:
                    m = template.regex.fullmatch(path)
                    if m is not None:
                        found = self._pick(template, m, query, query_keys, request.headers)
                        if found is not None:
                            break
        if found is None:
            raise self._no_route(method, path)
        request.__dict__[ROUTE_CACHE_KEY] = found
        return found

    @staticmethod
    def _pick(
        template: _Template,
        m: re.Match[str],
        query: list[tuple[str, str]],
        query_keys: dict[str, list[str]],
        headers: dict[str, str],
    ) -> RouteMatch | None:
        for route in template.candidates(query_keys):
            if route.accepts(query_keys, headers):
                labels = {name: unquote(m.group(group)) for group, name in template.labels}
                return RouteMatch(route.operation, labels, query)
        return None

    def _no_route(self, method: str, path: str) -> ServiceError:
        for other, templates in self._templates.items():
            if other != method and any(t.regex.fullmatch(path) for t in templates):
                code, status = self._codes.method_not_allowed
                fields: dict[str, Any] = {}
                if code == "MethodNotAllowed":  # S3 names the method and the resource kind
                    fields = {
                        "Method": method,
                        "ResourceType": "OBJECT" if path.strip("/").count("/") else "BUCKET",
                    }
                return UnknownOperationError(
                    f"The specified method {method} is not allowed against this resource.",
                    code=code,
                    status=status,
                    **fields,
                )
        return _unknown(self._codes.unknown_operation, f"No operation matches {method} {path}")
