"""Target input shaping: EventBridge's JSONPath subset, ``InputPath`` and ``InputTransformer``.

    path = JsonPath.compile("$.detail.items[0].id")
    path.find(event)                      # the value, or MISSING
    t = InputTransformer.compile({"id": "$.id"}, '{"event": "<id>", "raw": <id>}')
    t.render(event, rule_name=..., rule_arn=..., ingestion_time=...)   # the target's body text

Paths (what EventBridge evaluates): ``$``, dot segments of letters, digits, ``-``, ``_``, ``/``
and other non-syntax characters, bracketed names (``['a.b']``), array indexes (``[0]``) and
wildcards (``.*``, ``[*]``, which yield the array of everything matched).

Templates, with AWS's rules:
- A template starting with ``{`` is JSON, as is one starting with ``[`` that parses once its
  placeholders are filled; anything else is plain text.
- In a JSON template a placeholder outside quotes is replaced by the value's JSON (a string
  gets its quotes, a missing path gives ``null``); inside a quoted string it is replaced by the
  string's characters (non-strings by their JSON text), escaped so the string stays valid JSON;
  a missing path gives nothing. ``<aws.events.event>`` and ``<aws.events.event.json>`` are
  inserted as raw JSON wherever they stand (AWS: "its contents are not escaped").
- In a text template strings are inserted as they are, other values as JSON text, missing
  paths as nothing.
- Predefined: ``aws.events.rule-name``, ``aws.events.rule-arn``, ``aws.events.event`` (the
  event without ``detail``), ``aws.events.event.json`` (the whole event) and
  ``aws.events.event.ingestion-time`` (ISO 8601). A ``<name>`` that is neither defined nor
  predefined stays in the output as written.

Invariants: ``compile`` raises ``TransformError`` for anything PutTargets must refuse;
``render`` never raises on a JSON event, and a compiled JSON template renders valid JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MISSING: Any = object()
MAX_VARIABLES = 100
PREDEFINED = (
    "aws.events.rule-name",
    "aws.events.rule-arn",
    "aws.events.event",
    "aws.events.event.json",
    "aws.events.event.ingestion-time",
)
_RAW_JSON = ("aws.events.event", "aws.events.event.json")
_KEY = re.compile(r"[A-Za-z0-9_\-]{1,256}")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_SEGMENT = re.compile(r"\.([^.\[\]'\"\s*]+)|\.\*|\[\*\]|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_WILD = object()


class TransformError(ValueError):
    """A path or template PutTargets refuses; the message is the reason."""


@dataclass(frozen=True)
class JsonPath:
    text: str
    segments: tuple[Any, ...]  # str field names, int indexes, or _WILD

    @classmethod
    def compile(cls, text: str) -> JsonPath:
        if not text.startswith("$"):
            raise TransformError(f"{text} is not a valid JSON path: it must start with $")
        segments: list[Any] = []
        pos = 1
        while pos < len(text):
            m = _SEGMENT.match(text, pos)
            if m is None:
                raise TransformError(f"{text} is not a valid JSON path")
            if m.group(1) is not None:
                segments.append(m.group(1))
            elif m.group(2) is not None:
                segments.append(int(m.group(2)))
            elif m.group(3) is not None or m.group(4) is not None:
                segments.append(m.group(3) if m.group(3) is not None else m.group(4))
            else:
                segments.append(_WILD)
            pos = m.end()
        return cls(text, tuple(segments))

    def find(self, document: Any) -> Any:
        """The value at this path, or ``MISSING``; with wildcards, the list of matches."""
        values = [document]
        wild = False
        for seg in self.segments:
            found: list[Any] = []
            for value in values:
                if seg is _WILD:
                    wild = True
                    if isinstance(value, dict):
                        found.extend(value.values())
                    elif isinstance(value, list):
                        found.extend(value)
                elif isinstance(seg, int):
                    if isinstance(value, list) and seg < len(value):
                        found.append(value[seg])
                elif isinstance(value, dict) and seg in value:
                    found.append(value[seg])
            values = found
        if wild:
            return values
        return values[0] if values else MISSING


def _in_string_map(template: str) -> list[bool]:
    """For each character of a JSON text: is it inside a string literal?"""
    inside, escaped, out = False, False, []
    for ch in template:
        if inside:
            out.append(True)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                inside = False
                out[-1] = False
        else:
            out.append(ch == '"')
            if ch == '"':
                inside = True
                out[-1] = False
    return out


@dataclass(frozen=True)
class InputTransformer:
    paths: dict[str, JsonPath]
    template: str
    is_json: bool

    @classmethod
    def compile(cls, paths_map: dict[str, str] | None, template: str) -> InputTransformer:
        paths_map = paths_map or {}
        if len(paths_map) > MAX_VARIABLES:
            raise TransformError(
                f"InputPathsMap has {len(paths_map)} entries; at most {MAX_VARIABLES} are allowed"
            )
        paths: dict[str, JsonPath] = {}
        for key, path in paths_map.items():
            if key in PREDEFINED or key.startswith("aws."):
                raise TransformError(f"InputPathsMap key {key} is reserved")
            if _KEY.fullmatch(key) is None:
                raise TransformError(f"InputPathsMap key {key} is not valid")
            paths[key] = JsonPath.compile(path)
        stripped = template.strip()
        probe = cls(paths, template, True)
        if stripped.startswith("{"):
            probe._check_json()
            return probe
        if stripped.startswith("["):
            try:
                probe._check_json()
                return probe
            except TransformError:
                pass
        return cls(paths, template, False)

    def _check_json(self) -> None:
        inside = _in_string_map(self.template)
        for m in _PLACEHOLDER.finditer(self.template):
            key_like = (
                self.template[m.start() - 1 : m.start()] == '"'
                and self.template[m.end() : m.end() + 1] == '"'
            )
            after = self.template[m.end() + 1 :].lstrip()
            if inside[m.start()] and key_like and after.startswith(":"):
                raise TransformError("A placeholder can't be used as an object key")
        filled = self._fill({}, "", "", "", check=True)
        try:
            json.loads(filled)
        except ValueError as exc:
            raise TransformError(f"InputTemplate is not valid JSON: {exc}") from exc

    def values(
        self, event: dict[str, Any], rule_name: str, rule_arn: str, ingestion_time: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {k: p.find(event) for k, p in self.paths.items()}
        without_detail = {k: v for k, v in event.items() if k != "detail"}
        out.update({
            "aws.events.rule-name": rule_name,
            "aws.events.rule-arn": rule_arn,
            "aws.events.event": without_detail,
            "aws.events.event.json": event,
            "aws.events.event.ingestion-time": ingestion_time,
        })  # fmt: skip
        return out

    def render(
        self, event: dict[str, Any], *, rule_name: str, rule_arn: str, ingestion_time: str
    ) -> str:
        return self._fill(event, rule_name, rule_arn, ingestion_time)

    def _fill(
        self,
        event: dict[str, Any],
        rule_name: str,
        rule_arn: str,
        ingestion_time: str,
        *,
        check: bool = False,
    ) -> str:
        values = self.values(event, rule_name, rule_arn, ingestion_time)
        inside = _in_string_map(self.template) if self.is_json else None
        parts: list[str] = []
        last = 0
        for m in _PLACEHOLDER.finditer(self.template):
            name = m.group(1)
            if name not in values:
                continue
            value = MISSING if check and name not in _RAW_JSON else values[name]
            parts.append(self.template[last : m.start()])
            parts.append(self._text(name, value, inside is not None and inside[m.start()]))
            last = m.end()
        parts.append(self.template[last:])
        return "".join(parts)

    def _text(self, name: str, value: Any, in_string: bool) -> str:
        if name in _RAW_JSON:
            return json.dumps(value)
        if not self.is_json:
            if value is MISSING:
                return ""
            return value if isinstance(value, str) else json.dumps(value)
        if in_string:
            if value is MISSING:
                return ""
            text = value if isinstance(value, str) else json.dumps(value)
            return json.dumps(text)[1:-1]
        return "null" if value is MISSING else json.dumps(value)


def input_path_body(path: JsonPath, event: dict[str, Any]) -> str:
    """The body ``InputPath`` sends: the JSON of the selected value (``null`` when missing)."""
    value = path.find(event)
    return "null" if value is MISSING else json.dumps(value)
