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
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from lambdamaker.services.dynamodb.errors import validation
from lambdamaker.services.dynamodb.keys import EXACT

Item = dict[str, dict[str, Any]]

TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
MAX_ITEM_BYTES = 400 * 1024
_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}

_PLAIN_INTEGER = re.compile(r"-?[1-9][0-9]{0,37}")
"""An integer already canonical: no sign but ``-``, no leading zero, at most 38 digits (so
within DynamoDB's digit and magnitude limits). The common case skips Decimal altogether."""


def canonical_number(text: Any) -> str:
    if type(text) is str and _PLAIN_INTEGER.fullmatch(text):
        return text
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise validation("A value provided cannot be converted into a number") from None
    if not value.is_finite():
        raise validation("A value provided cannot be converted into a number")
    if value.is_zero():
        return "0"
    # Counted before normalising: an exponent far outside the range would overflow (or
    # silently underflow to 0 in) the context's own exponent limits.
    digits = value.as_tuple().digits
    significant = len(bytes(digits).rstrip(b"\x00"))
    if significant > 38:
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
    return format(EXACT.normalize(value), "f")


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
    """A canonical copy of every attribute (``check_value``); scalar strings, most key
    attributes, are copied inline."""
    out: Item = {}
    for name, value in item.items():
        if type(value) is dict and len(value) == 1:
            inner = value.get("S")
            if type(inner) is str:
                out[name] = {"S": inner}
                continue
        out[name] = check_value(value)
    return out


def check_sized_item(item: Item) -> tuple[Item, int]:
    """``(check_item(item), item_size(of it))`` in one pass over the item (a write's hot path).

    Scalar strings and numbers, most attributes, are handled inline; everything else goes
    through ``check_value`` / ``value_size``, so both results equal the two-pass ones."""
    out: Item = {}
    size = 0
    for name, value in item.items():
        if type(value) is dict and len(value) == 1:
            inner = value.get("S")
            if type(inner) is str:
                out[name] = {"S": inner}
                size += _utf8_len(name) + _utf8_len(inner)
                continue
            inner = value.get("N")
            if inner is not None:
                number = canonical_number(inner)
                out[name] = {"N": number}
                size += _utf8_len(name) + _number_size(number)
                continue
        checked = check_value(value)
        out[name] = checked
        size += len(name.encode()) + value_size(checked)
    return out, size


def _utf8_len(text: str) -> int:
    """``len(text.encode())`` without encoding ASCII text (whose length is its byte count;
    ``isascii`` reads a flag CPython keeps, it does not scan)."""
    return len(text) if text.isascii() else len(text.encode())


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


def _base64(value: Any) -> str:
    """orjson's fallback for what it cannot encode: binary (only ``B`` and ``BS`` members hold
    bytes), as base64 text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode()
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


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
    return orjson.dumps(item, default=_base64).decode()


# A stored item holding binary has the JSON member name "B" or "BS" somewhere; without either
# (or a string that looks like one) the parsed JSON is the item as it is.
_BINARY_MARKS = ('"B"', '"BS"')
_BINARY_MARKS_BYTES = (b'"B"', b'"BS"')


def loads(text: str | bytes) -> Item:
    data: Item = orjson.loads(text)
    if isinstance(text, str):
        binary = _BINARY_MARKS[0] in text or _BINARY_MARKS[1] in text
    else:
        binary = _BINARY_MARKS_BYTES[0] in text or _BINARY_MARKS_BYTES[1] in text
    if not binary:
        return data
    return {k: _from_json(v) for k, v in data.items()}
