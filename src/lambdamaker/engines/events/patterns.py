"""EventBridge event patterns: compile once, match many events, with aws/event-ruler's semantics.

    pattern = EventPattern.compile('{"source": ["app"], "detail": {"n": [{"numeric": [">", 0]}]}}')
    pattern.matches(event)          # event: parsed JSON (``loads``) or a JSON string

Semantics (the "Content filtering in Amazon EventBridge event patterns" page, as ruler runs it):
- Every field of a pattern object must match (AND); a field's array of values is an OR; ``$or``
  at any level is an OR of whole sub-patterns, each also ANDed with its siblings.
- A pattern field holding an object descends into the event; an array is a leaf test on the
  event's value there. Event arrays match if any element does; arrays of objects keep array
  consistency: the fields one pattern object matches must come from the same array element.
- ``exists: false`` holds where the event has no leaf value at the path (missing, an object, an
  empty array); ``exists: true`` where it has one, ``null`` included. Every other test needs a
  value: ``anything-but`` never matches a missing field.
- Matching never raises on any JSON event; compiling raises ``InvalidEventPattern`` with
  ruler's reason text.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.events.patterns_parse import Leaf, Node, PatternError, compile_tree
from lambdamaker.engines.events.patterns_values import leaf_values, loads

__all__ = ["EventPattern", "InvalidEventPattern", "loads"]

_MISSING: Any = object()
_EMPTY: dict[str, Any] = {}


class InvalidEventPattern(ValueError):
    """The pattern is not valid; ``reason`` is ruler's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Event pattern is not valid. Reason: {reason}")
        self.reason = reason


class EventPattern:
    __slots__ = ("_root", "source")

    def __init__(self, root: Node, source: str) -> None:
        self._root = root
        self.source = source

    @classmethod
    def compile(cls, pattern: str | dict[str, Any]) -> EventPattern:
        if isinstance(pattern, str):
            try:
                parsed = loads(pattern)
            except ValueError as exc:
                raise InvalidEventPattern(_json_reason(exc)) from exc
            source = pattern
        else:
            parsed, source = pattern, ""
        try:
            return cls(compile_tree(parsed), source)
        except PatternError as exc:
            raise InvalidEventPattern(str(exc)) from exc

    def matches(self, event: str | dict[str, Any]) -> bool:
        if isinstance(event, str):
            event = loads(event)
        if not isinstance(event, dict):
            return False
        return _match_node(self._root, event)


def _json_reason(exc: ValueError) -> str:
    # Jackson's wording differs; the position is what a user needs, and Python's has it.
    return str(exc)


def _match_node(node: Node, obj: dict[str, Any]) -> bool:
    for key, child in node.fields.items():
        value = obj.get(key, _MISSING)
        if isinstance(child, Leaf):
            if not _match_leaf(child, [] if value is _MISSING else leaf_values(value)):
                return False
        elif not _match_child(child, value):
            return False
    return all(any(_match_node(branch, obj) for branch in group) for group in node.ors)


def _match_child(node: Node, value: Any) -> bool:
    if isinstance(value, dict):
        return _match_node(node, value)
    if isinstance(value, list):
        objects = _objects_in(value)
        if objects:
            return any(_match_node(node, item) for item in objects)
    # No object here: only absence tests can hold below.
    return _match_node(node, _EMPTY)


def _objects_in(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            out.append(item)
        elif isinstance(item, list):
            out.extend(_objects_in(item))
    return out


def _match_leaf(leaf: Leaf, values: list[object]) -> bool:
    for wanted in leaf.exists:
        if bool(values) == wanted:
            return True
    return any(test(v) for v in values for test in leaf.tests)
