"""Whole attribute values and items: DynamoDB's validity rules and its item-size accounting.

Invariants: ``check_value`` raises the bare DynamoDB message (callers add context such as
"ExpressionAttributeValues contains invalid value: ... for key :v"); ``item_size`` follows the
documented accounting (UTF-8 names and strings, numbers by significant digits, 1 byte for
NULL/BOOL, 3 bytes plus 1 per element for lists and maps), so the 400 KB limit check agrees
with DynamoDB to within its own approximation.
"""

from __future__ import annotations

import base64
from decimal import Context
from typing import Any

from lambdamaker.engines.tables.values import TYPE_NAMES, Item, TypedValue, parse_number
from lambdamaker.errors import ValidationError

MAX_ITEM_SIZE = 400 * 1024
_WIDE = Context(prec=200)  # never round while counting digits
_INVALID = "One or more parameter values were invalid: "


def check_value(value: Any) -> None:
    """Raise DynamoDB's ValidationException text if ``value`` is not a valid AttributeValue."""
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) != 1 or next(iter(value)) not in TYPE_NAMES:
        raise ValidationError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of"
            " the supported datatypes"
        )
    kind, raw = next(iter(value.items()))
    if kind == "NULL" and raw is not True:
        raise ValidationError(_INVALID + "Null attribute value types must have the value of true")
    if kind == "N":
        parse_number(raw)
    elif kind in ("SS", "NS", "BS"):
        _check_set(kind, raw)
    elif kind == "L":
        for element in raw:
            check_value(element)
    elif kind == "M":
        for element in raw.values():
            check_value(element)


def _check_set(kind: str, members: list[Any]) -> None:
    if not members:
        raise ValidationError(
            _INVALID
            + {
                "SS": "An string set  may not be empty",
                "NS": "An number set  may not be empty",
                "BS": "Binary sets should not be empty",
            }[kind]
        )
    if kind == "NS":
        numbers = [parse_number(n) for n in members]
        if len(set(numbers)) != len(numbers):
            raise ValidationError("Input collection contains duplicates")
    elif kind == "SS" and len(set(members)) != len(members):
        raise ValidationError(
            _INVALID + f"Input collection [{', '.join(members)}] contains duplicates."
        )
    elif kind == "BS":
        shown = [m if isinstance(m, str) else base64.b64encode(m).decode() for m in members]
        if len(set(shown)) != len(shown):
            raise ValidationError(
                _INVALID + f"Input collection [{', '.join(shown)}]of type BS contains duplicates."
            )


def check_item(item: Item) -> None:
    for value in item.values():
        check_value(value)


def _number_size(text: str) -> int:
    digits = parse_number(text).normalize(_WIDE).as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return (significant + 1) // 2 + 1


def _binary_size(raw: Any) -> int:
    return len(raw) if isinstance(raw, bytes | bytearray) else len(base64.b64decode(raw))


def value_size(value: TypedValue) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return _binary_size(raw)
    if kind in ("NULL", "BOOL"):
        return 1
    if kind == "SS":
        return sum(len(m.encode()) for m in raw)
    if kind == "NS":
        return sum(_number_size(m) for m in raw)
    if kind == "BS":
        return sum(_binary_size(m) for m in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())  # M


def item_size(item: Item) -> int:
    """DynamoDB's size of an item in bytes: names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())
