"""A Query's key conditions: the KeyConditionExpression or the legacy ``KeyConditions``,
checked against the key schema and turned into bounds on the stored sort key.

Invariants:

- A KeyConditionExpression is parsed by the tables engine and mapped onto the equivalent
  legacy ``KeyConditions``, so both forms share one validation and one range-scan
  implementation (``read_ops``), with the same errors.
- A condition's operator must be indexable (EQ, LT, LE, GT, GE, BETWEEN, BEGINS_WITH), with its
  exact number of arguments, each of the key attribute's schema type.
- A KeyConditionExpression's parse is cached (``_PARSED_KEYS``) under the request's
  ``RequestExpressions.cache_key`` plus the key schema's names, everything the parse depends
  on; an entry is made when a key is parsed the second time (``parse_cache``); only successes
  are cached (a malformed expression is parsed, and refused, every time),
  a hit marks the same placeholders used, so ``finish()`` still refuses unused ones per
  request, and the cached conditions are only read.
- A sort-key condition becomes ``[(operator, encoded value)]`` bounds on the sort-preserving
  stored key (``keys``): ``BETWEEN`` is two bounds, ``begins_with`` is ``>= prefix`` and
  ``< successor(prefix)`` (only the lower bound when no successor exists).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa

from lambdamaker.engines.tables import KeyCondition, KeyConditions, parse_key_condition
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.expressions import MAX_CACHED, RequestExpressions
from lambdamaker.services.dynamodb.keys import encode_key
from lambdamaker.services.dynamodb.parse_cache import ParseCache
from lambdamaker.services.dynamodb.query_sql import BOUNDS, COMPARE, successor
from lambdamaker.services.dynamodb.values import check_value

_OPERATORS = {
    "=": "EQ",
    "<": "LT",
    "<=": "LE",
    ">": "GT",
    ">=": "GE",
    "BETWEEN": "BETWEEN",
    "begins_with": "BEGINS_WITH",
}
_ARGUMENTS = {"EQ": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "BEGINS_WITH": 1, "BETWEEN": 2}


MAX_CACHED_KEYS = MAX_CACHED
"""Parsed key conditions kept, as many as ``expressions`` keeps parsed requests."""


class _ParsedKeys(NamedTuple):
    keys: KeyConditions
    used_names: frozenset[str]
    used_values: frozenset[str]


_PARSED_KEYS: ParseCache[_ParsedKeys] = ParseCache(MAX_CACHED_KEYS, second_sight=True)
"""Made the second time a key is parsed (``parse_cache``): a Query whose values never repeat
leaves nothing behind."""


def _parsed_keys(
    text: str, hash_name: str, range_name: str | None, expressions: RequestExpressions
) -> KeyConditions:
    """``parse_key_condition`` through the cache; marks the placeholders it uses."""
    attrs = expressions.attrs
    base = expressions.cache_key
    key = None if base is None else (base, hash_name, range_name)
    cached = None if key is None else _PARSED_KEYS.get(key)
    if cached is not None:
        attrs.used_names.update(cached.used_names)
        attrs.used_values.update(cached.used_values)
        return cached.keys
    keys = parse_key_condition(text, attrs, hash_name, range_name)
    if key is not None and _PARSED_KEYS.admits(key):
        _PARSED_KEYS.store(
            key, _ParsedKeys(keys, frozenset(attrs.used_names), frozenset(attrs.used_values))
        )
    return keys


def expression_conditions(
    text: str, schema: list[tuple[str, str]], expressions: RequestExpressions
) -> dict[str, Any]:
    """A KeyConditionExpression as the equivalent legacy ``KeyConditions``."""
    range_name = schema[1][0] if len(schema) > 1 else None
    keys = _parsed_keys(text, schema[0][0], range_name, expressions)
    expressions.finish()
    found: list[KeyCondition] = [keys.hash] if keys.range is None else [keys.hash, keys.range]
    types = dict(schema)
    out: dict[str, Any] = {}
    for condition in found:
        if condition.op == "begins_with" and types[condition.name] == "N":
            raise validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                "function; operator or function: begins_with, operand type: N"
            )
        out[condition.name] = {
            "ComparisonOperator": _OPERATORS[condition.op],
            "AttributeValueList": list(condition.values),
        }
    return out


def checked_condition(condition: dict[str, Any], type_: str) -> tuple[str, list[Any]]:
    """A legacy key condition's (operator, values), the values of schema type ``type_``."""
    op = condition["ComparisonOperator"]
    if op not in _ARGUMENTS:
        raise validation("Attempted conditional constraint is not an indexable operation")
    args = condition.get("AttributeValueList") or []
    if len(args) != _ARGUMENTS[op]:
        raise invalid(f"Invalid number of argument(s) for the {op} ComparisonOperator")
    values = []
    for arg in args:
        checked = check_value(arg)
        ((actual, inner),) = checked.items()
        if actual != type_:
            raise invalid("Condition parameter type does not match schema type")
        values.append(inner)
    return op, values


def range_bounds(condition: dict[str, Any], type_: str) -> list[tuple[str, bytes]]:
    """A sort-key condition as bounds on the stored (sort-preserving) key:
    ``[(operator, encoded value)]`` with operators ``= < <= > >=``."""
    op, values = checked_condition(condition, type_)
    if op in BOUNDS:
        return [(BOUNDS[op], encode_key(type_, values[0]))]
    if op == "BETWEEN":
        low, high = (encode_key(type_, v) for v in values)
        if low > high:
            raise validation(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound "
                "to be greater than or equal to lower bound"
            )
        return [(">=", low), ("<=", high)]
    if type_ == "N":
        raise invalid("Invalid KeyConditions: BEGINS_WITH is not supported for type N")
    prefix = encode_key(type_, values[0])
    upper = successor(prefix)
    return [(">=", prefix)] if upper is None else [(">=", prefix), ("<", upper)]


def range_clauses(condition: dict[str, Any], type_: str, column: Any) -> list[Any]:
    """A sort-key condition as SQL clauses on ``column`` (a stored sort-key column)."""
    return [
        COMPARE[op](column, sa.literal(value, sa.LargeBinary))
        for op, value in range_bounds(condition, type_)
    ]
