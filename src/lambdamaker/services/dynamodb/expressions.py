"""A request's expressions: parsed once, up front, with the tables engine.

``RequestExpressions(params, allowed)`` reads every expression parameter an operation accepts
(``allowed``), parses each with one shared ``ExpressionAttributes`` and then checks that every
ExpressionAttributeNames / ExpressionAttributeValues entry was used, as DynamoDB does.

Invariants:

- parsing happens before any store access, so a malformed request never touches a table
  (key-schema-dependent parsing, the KeyConditionExpression, is the exception: ``read_ops``
  parses it once the table is known, then calls ``finish()``);
- an expression parameter and its legacy counterpart (``AttributesToGet``, ``Expected``...)
  are never both honoured: the mix is refused with DynamoDB's message;
- placeholder maps without any expression are refused, like DynamoDB.

Two fast paths, each with the general path as its fallback:

- A request without any expression, legacy or placeholder parameter (most PutItem and GetItem
  calls) parses and checks nothing; its ``ExpressionAttributes`` is made only if asked for.
- Parsed expressions are cached by the request's exact expression texts (the
  KeyConditionExpression's too), names and values (``_cache_key``, kept as ``cache_key``):
  parsing depends on nothing else, so a hit gives the same trees and the same used
  placeholders as parsing again (``key_conditions`` caches its parse under this key plus the
  key schema's names). Only successful parses are cached (an error is raised by
  the parser, every time), placeholder maps are still validated per request, and the cached
  trees are shared read-only (``apply_update`` copies the values it stores; conditions and
  projections only read). Keys hold only plain JSON-like values (str, bytes, bool, None, lists,
  dicts of them) up to ``MAX_KEY_CHARS``; anything else is simply not cached.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lambdamaker.engines.tables import (
    Condition,
    ExpressionAttributes,
    Update,
    parse_condition,
    parse_projection,
    parse_update,
)
from lambdamaker.engines.tables.paths import Path
from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb.errors import validation
from lambdamaker.services.dynamodb.parse_cache import ParseCache
from lambdamaker.services.dynamodb.values import Item

EXPRESSIONS = (
    "KeyConditionExpression",
    "UpdateExpression",
    "ConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
)
LEGACY = (
    "AttributesToGet",
    "AttributeUpdates",
    "Expected",
    "ConditionalOperator",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
)


_ANY_PARAMETER = frozenset(
    (*EXPRESSIONS, *LEGACY, "ExpressionAttributeNames", "ExpressionAttributeValues")
)
"""Without any of these a request has nothing to parse and nothing to refuse."""

MAX_CACHED = 512
"""Parsed requests kept (``parse_cache``)."""
MAX_KEY_CHARS = 4096
"""Longest cache key (characters of expression texts, names and values) worth keeping."""


class _Parsed(NamedTuple):
    update: Update | None
    condition: Condition | None
    filter: Condition | None
    projection: list[Path] | None
    used_names: frozenset[str]
    used_values: frozenset[str]


_PARSED: ParseCache[_Parsed] = ParseCache(MAX_CACHED)


class _Uncacheable(Exception):
    pass


def _frozen(value: Any, budget: list[int]) -> Any:
    """A hashable image of a JSON-like ``value``, equal only for equal values of equal types
    (the container type is part of it); ``_Uncacheable`` for anything else or too large."""
    kind = type(value)
    if kind is str or kind is bytes:
        budget[0] -= len(value)
        if budget[0] < 0:
            raise _Uncacheable
        return value
    if kind is bool or value is None:
        return value
    if kind is dict:
        pairs = []
        for key, inner in value.items():
            if type(key) is not str:
                raise _Uncacheable
            budget[0] -= len(key)
            pairs.append((key, _frozen(inner, budget)))
        return (dict, tuple(pairs))
    if kind is list:
        return (list, tuple(_frozen(inner, budget) for inner in value))
    raise _Uncacheable


def _cache_key(texts: tuple[Any, ...], names: Any, values: Any) -> tuple[Any, ...] | None:
    """The key of a request's parsed expressions, None when it is not to be cached. Scalar
    string values (most of them) are taken inline; the rest go through ``_frozen``."""
    size = 0
    for text in texts:
        if text is not None:
            if type(text) is not str:
                return None
            size += len(text)
    frozen_names = None
    if names is not None:
        if type(names) is not dict:
            return None
        for key, name in names.items():
            if type(key) is not str or type(name) is not str:
                return None
            size += len(key) + len(name)
        frozen_names = tuple(names.items())
    frozen_values = None
    if values is not None:
        if type(values) is not dict:
            return None
        parts: list[tuple[Any, ...]] = []
        for key, value in values.items():
            if type(key) is not str:
                return None
            if type(value) is dict and len(value) == 1:
                ((kind, inner),) = value.items()
                if type(kind) is str and type(inner) is str:
                    size += len(key) + len(inner)
                    parts.append((key, kind, inner))
                    continue
            budget = [MAX_KEY_CHARS - size - len(key)]
            try:
                parts.append((key, _frozen(value, budget)))
            except _Uncacheable:
                return None
            size = MAX_KEY_CHARS - budget[0]
        frozen_values = tuple(parts)
    if size > MAX_KEY_CHARS:
        return None
    return (texts, frozen_names, frozen_values)


def _known_attributes(names: Any, values: Any, parsed: _Parsed) -> ExpressionAttributes:
    """The ``ExpressionAttributes`` that parsing gave for a cached request: its names and values
    passed validation when the entry was made (they are part of the key), so they are not
    validated again; the parse's used placeholders are marked used."""
    attrs = ExpressionAttributes()
    attrs.names = dict(names or {})
    attrs.values = dict(values or {})
    attrs.used_names.update(parsed.used_names)
    attrs.used_values.update(parsed.used_values)
    return attrs


class RequestExpressions:
    present = False
    update: Update | None = None
    condition: Condition | None = None
    filter: Condition | None = None
    projection: list[Path] | None = None

    def __init__(self, params: dict[str, Any], *, defer_finish: bool = False) -> None:
        self._attrs: ExpressionAttributes | None = None
        self.cache_key: tuple[Any, ...] | None = None
        """The request's key in the parse caches (all its expression texts, names and values;
        ``key_conditions`` adds the key schema), None when it is not cached."""
        if _ANY_PARAMETER.isdisjoint(params):
            return  # nothing given: nothing to parse or refuse, finish() has nothing to check
        self._parse(params)
        if not defer_finish:
            self.finish()

    @property
    def attrs(self) -> ExpressionAttributes:
        """The request's placeholders (empty when it has none)."""
        if self._attrs is None:
            self._attrs = ExpressionAttributes()
        return self._attrs

    def _parse(self, params: dict[str, Any]) -> None:
        given = [name for name in EXPRESSIONS if params.get(name) is not None]
        legacy = [name for name in LEGACY if params.get(name) is not None]
        if given and legacy:
            raise validation(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(legacy)}}} "
                f"Expression parameters: {{{', '.join(given)}}}"
            )
        names = params.get("ExpressionAttributeNames")
        values = params.get("ExpressionAttributeValues")
        if not given:
            if names is not None:
                raise validation(
                    "ExpressionAttributeNames can only be specified when using expressions"
                )
            if values is not None:
                raise validation(
                    "ExpressionAttributeValues can only be specified when using expressions"
                )
        self.present = bool(given)
        texts = (
            params.get("UpdateExpression"),
            params.get("ConditionExpression"),
            params.get("FilterExpression"),
            params.get("ProjectionExpression"),
        )
        key_text = params.get("KeyConditionExpression")
        key = _cache_key((*texts, key_text), names, values) if given else None
        self.cache_key = key
        only_keys = texts == (None, None, None, None)  # nothing here to parse (or to cache)
        parsed = None if key is None or only_keys else _PARSED.get(key)
        if parsed is not None:
            self._attrs = _known_attributes(names, values, parsed)
        else:
            attrs = self._attrs = ExpressionAttributes(names, values)
            if only_keys:
                return
            update_text, condition_text, filter_text, projection_text = texts
            parsed = _Parsed(
                None if update_text is None else parse_update(update_text, attrs),
                None if condition_text is None else parse_condition(condition_text, attrs),
                None
                if filter_text is None
                else parse_condition(filter_text, attrs, kind="FilterExpression"),
                None if projection_text is None else parse_projection(projection_text, attrs),
                frozenset(attrs.used_names),
                frozenset(attrs.used_values),
            )
            if key is not None:
                _PARSED.store(key, parsed)
        self.update, self.condition, self.filter, self.projection = parsed[:4]

    def finish(self) -> None:
        """After the request's last expression is parsed: refuse unused placeholders."""
        if self.present:
            self.attrs.check_unused()

    def check(self, item: Item | None, params: dict[str, Any]) -> None:
        """Raise ConditionalCheckFailedException unless the ConditionExpression holds."""
        if self.condition is None or self.condition.evaluate(item or {}):
            return
        fields: dict[str, Any] = {}
        wanted = params.get("ReturnValuesOnConditionCheckFailure") or "NONE"
        if wanted == "ALL_OLD" and item is not None:
            fields["Item"] = item
        raise ServiceError(
            "The conditional request failed", code="ConditionalCheckFailedException", **fields
        )

    def keep(self, item: Item) -> bool:
        return self.filter is None or self.filter.evaluate(item)
