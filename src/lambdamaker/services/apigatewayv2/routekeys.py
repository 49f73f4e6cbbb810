"""Route keys (``GET /items/{id}``, ``ANY /{proxy+}``, ``$default``): parsing and matching.

Pure: no store, no HTTP. ``RouteTable.match`` picks the route API Gateway picks for a request:
among the routes whose method and path match, the most specific path wins, comparing segment by
segment (a literal beats ``{param}``, which beats a greedy ``{proxy+}``); then a route naming
the method beats ``ANY``; ``$default`` only when nothing else matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from lambdamaker.services.apigatewayv2.common import BadRequestError

DEFAULT_ROUTE = "$default"
METHODS = frozenset({"ANY", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
_PARAM = re.compile(r"\{([A-Za-z0-9._\-]+)\}")
_GREEDY = re.compile(r"\{([A-Za-z0-9._\-]+)\+\}")
_LITERAL = re.compile(r"[A-Za-z0-9._~\-:@!$&'()*,;=%]+")

LITERAL, PARAM, GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteKey:
    text: str
    method: str  # "" for $default
    segments: tuple[tuple[int, str], ...]  # (kind, literal text or parameter name)

    @property
    def rank(self) -> tuple[tuple[int, ...], int, int]:
        """Smaller is more specific."""
        kinds = tuple(kind for kind, _ in self.segments)
        return ((*kinds, 3), -len(kinds), 1 if self.method == "ANY" else 0)


def parse_route_key(text: str) -> RouteKey:
    """A route key, or ``BadRequestException`` as CreateRoute answers a malformed one."""
    if text == DEFAULT_ROUTE:
        return RouteKey(text, "", ())
    method, sep, path = text.partition(" ")
    if not sep or method not in METHODS or not path.startswith("/"):
        raise _bad(text)
    if path == "/":
        return RouteKey(text, method, ())
    parts = path[1:].split("/")
    segments: list[tuple[int, str]] = []
    names: set[str] = set()
    for i, part in enumerate(parts):
        if (m := _GREEDY.fullmatch(part)) is not None:
            if i != len(parts) - 1:
                raise _bad(text)
            segments.append((GREEDY, m.group(1)))
        elif (m := _PARAM.fullmatch(part)) is not None:
            segments.append((PARAM, m.group(1)))
        elif _LITERAL.fullmatch(part) is not None:
            segments.append((LITERAL, part))
            continue
        else:
            raise _bad(text)
        if m.group(1) in names:
            raise _bad(text)
        names.add(m.group(1))
    return RouteKey(text, method, tuple(segments))


def _bad(text: str) -> BadRequestError:
    return BadRequestError(f"Unable to create route. Invalid route key: {text}")


def _match_path(key: RouteKey, parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, (kind, value) in enumerate(key.segments):
        if kind == GREEDY:
            rest = parts[i:]
            if not rest or rest == [""]:
                return None
            params[value] = "/".join(unquote(p) for p in rest)
            return params
        if i >= len(parts):
            return None
        if kind == LITERAL:
            if parts[i] != value:
                return None
        else:
            if parts[i] == "":
                return None
            params[value] = unquote(parts[i])
    return params if len(parts) == len(key.segments) else None


class RouteTable:
    """An API's routes, sorted once so that the first match is the one API Gateway picks."""

    def __init__(self, routes: list[tuple[RouteKey, str]]) -> None:
        # (key, route id)
        self.routes = sorted(
            ((k, rid) for k, rid in routes if k.text != DEFAULT_ROUTE), key=lambda r: r[0].rank
        )
        self.default = next((rid for k, rid in routes if k.text == DEFAULT_ROUTE), None)

    def match(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        """(route key, route id, path parameters), or None."""
        stripped = path[1:] if path.startswith("/") else path
        parts = stripped.split("/") if stripped else []
        for key, route_id in self.routes:
            if key.method != "ANY" and key.method != method:
                continue
            params = _match_path(key, parts)
            if params is not None:
                return key.text, route_id, params
        if self.default is not None:
            return DEFAULT_ROUTE, self.default, {}
        return None
