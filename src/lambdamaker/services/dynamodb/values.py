"""DynamoDB attribute values: validation, canonical numbers, item size, stored JSON.

An item is a dict ``name -> AttributeValue`` where an AttributeValue is a one-key dict of a type
(``S N B SS NS BS M L NULL BOOL``) as botocore parses it (binary as ``bytes``).

Invariants:

- ``check_item`` accepts exactly the items DynamoDB accepts and returns them canonical: numbers
  in plain decimal notation without superfluous zeros (``"1.50"`` -> ``"1.5"``), so equal keys
  have equal bytes (``keys``) and items come back as DynamoDB returns them.
- The stored form (``dumps``/``loads``) is JSON of the typed values with binary in base64; it
  round-trips exactly.
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from lambdamaker.services.dynamodb.errors import validation
from lambdamaker.services.dynamodb.keys import EXACT

Item = dict[str, dict[str, Any]]

TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
MAX_ITEM_BYTES = 400 * 1024
_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}


def canonical_number(text: Any) -> str:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise validation("A value provided cannot be converted into a number") from None
    if not value.is_finite():
        raise validation("A value provided cannot be converted into a number")
    if value.is_zero():
        return "0"
    value = EXACT.normalize(value)
    _, digits, _ = value.as_tuple()
    if len(digits) > 38:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    magnitude = value.adjusted()
    if magnitude > 125:
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if magnitude < -130:
        raise validation(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return format(value, "f")


def check_value(value: Any) -> dict[str, Any]:
    """A canonical copy of one AttributeValue, or ValidationException."""
    if not isinstance(value, dict) or not value:
        raise validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    ((type_, inner),) = value.items()
    if type_ not in TYPES:
        raise validation(f"Supplied AttributeValue has an unsupported datatype: {type_}")
    if type_ == "N":
        return {"N": canonical_number(inner)}
    if type_ in _SET_NAMES:
        members = list(inner)
        if not members:
            raise validation(
                f"One or more parameter values were invalid: An {_SET_NAMES[type_]} set  may "
                "not be empty"
            )
        if type_ == "NS":
            members = [canonical_number(m) for m in members]
        if len(set(members)) != len(members):
            shown = ", ".join(str(m) for m in inner)
            raise validation(
                "One or more parameter values were invalid: Input collection "
                f"[{shown}] contains duplicates."
            )
        return {type_: members}
    if type_ == "M":
        return {"M": {k: check_value(v) for k, v in inner.items()}}
    if type_ == "L":
        return {"L": [check_value(v) for v in inner]}
    if type_ == "NULL" and inner is not True:
        raise validation(
            "One or more parameter values were invalid: Null attribute value types must have the value of true"
        )
    return {type_: inner}


def check_item(item: Item) -> Item:
    return {name: check_value(value) for name, value in item.items()}


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of a value (documented rules, overhead of M and L included)."""
    ((type_, inner),) = value.items()
    if type_ == "S":
        return len(inner.encode())
    if type_ == "N":
        return _number_size(inner)
    if type_ == "B":
        return len(inner)
    if type_ == "SS":
        return sum(len(s.encode()) for s in inner)
    if type_ == "NS":
        return sum(_number_size(n) for n in inner)
    if type_ == "BS":
        return sum(len(b) for b in inner)
    if type_ == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    if type_ == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    return 1  # NULL, BOOL


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _to_json(value: dict[str, Any]) -> dict[str, Any]:
    ((type_, inner),) = value.items()
    if type_ == "B":
        return {"B": base64.b64encode(inner).decode()}
    if type_ == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in inner]}
    if type_ == "M":
        return {"M": {k: _to_json(v) for k, v in inner.items()}}
    if type_ == "L":
        return {"L": [_to_json(v) for v in inner]}
    return value


def _from_json(value: dict[str, Any]) -> dict[str, Any]:
    ((type_, inner),) = value.items()
    if type_ == "B":
        return {"B": base64.b64decode(inner)}
    if type_ == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if type_ == "M":
        return {"M": {k: _from_json(v) for k, v in inner.items()}}
    if type_ == "L":
        return {"L": [_from_json(v) for v in inner]}
    return value


def dumps(item: Item) -> str:
    return orjson.dumps({k: _to_json(v) for k, v in item.items()}).decode()


def loads(text: str | bytes) -> Item:
    return {k: _from_json(v) for k, v in orjson.loads(text).items()}
