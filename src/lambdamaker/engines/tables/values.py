"""DynamoDB typed values: validation, number semantics, equality, ordering and size.

A typed value is DynamoDB's wire form, one key naming the type: ``{"S": "x"}``, ``{"N": "1.5"}``,
``{"B": b"..."}``, ``{"SS": [...]}``, ``{"NS": [...]}``, ``{"BS": [...]}``, ``{"M": {...}}``,
``{"L": [...]}``, ``{"NULL": True}``, ``{"BOOL": bool}``. An item is ``dict[str, typed value]``.

Invariants:
- numbers are decimal strings; arithmetic and comparison go through ``Decimal`` and results are
  checked against DynamoDB's limits (38 significant digits, magnitude in [1E-130, 1E+126)) and
  rendered in normalised plain notation (``"1.50"`` -> ``"1.5"``, never an exponent);
- binary is ``bytes``; a ``str`` is accepted as base64 (the JSON wire form) and decoded for
  comparison only — values are never rewritten in place;
- ordering exists only between two values of the same scalar type N, S or B (strings and
  binaries compare as unsigned UTF-8 / raw bytes); anything else is unordered (``None``),
  which makes a condition false rather than an error, as in DynamoDB.
"""

from __future__ import annotations

import base64
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from lambdamaker.errors import ValidationError

TypedValue = dict[str, Any]
Item = dict[str, TypedValue]

TYPE_NAMES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_NUMBER_RE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_WIDE = Context(prec=200)
_MAX = Decimal("9.9999999999999999999999999999999999999E+125")
_MIN = Decimal("1E-130")


def type_of(value: TypedValue) -> str:
    """The DynamoDB type name of a typed value (``"S"``, ``"NS"``...)."""
    return next(iter(value))


def parse_number(text: str) -> Decimal:
    """A DynamoDB number string as a Decimal, enforcing DynamoDB's precision and range."""
    if not isinstance(text, str) or not text:
        raise ValidationError("The parameter cannot be converted to a numeric value")
    if not _NUMBER_RE.match(text):
        raise ValidationError(f"The parameter cannot be converted to a numeric value: {text}")
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise ValidationError(
            f"The parameter cannot be converted to a numeric value: {text}"
        ) from None
    return check_number(number)


def check_number(number: Decimal) -> Decimal:
    """Reject numbers DynamoDB cannot store; return the number unchanged otherwise."""
    if number.is_zero():
        return number
    digits = number.normalize(_WIDE).as_tuple().digits
    if len(digits) > 38:
        raise ValidationError("Attempting to store more than 38 significant digits in a Number")
    if number.copy_abs() > _MAX:
        raise ValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if number.copy_abs() < _MIN:
        raise ValidationError(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    return number


def format_number(number: Decimal) -> str:
    """Plain, normalised notation, as DynamoDB returns numbers."""
    if number.is_zero():
        return "0"
    text = format(number.normalize(_WIDE), "f")
    return text


def add_numbers(left: Decimal, right: Decimal) -> Decimal:
    return check_number(_WIDE.add(left, right))


def subtract_numbers(left: Decimal, right: Decimal) -> Decimal:
    return check_number(_WIDE.subtract(left, right))


def _binary(raw: Any) -> bytes:
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    return base64.b64decode(raw)


def value_key(value: TypedValue) -> Any:
    """A hashable, comparable-for-equality image of a typed value."""
    kind = type_of(value)
    raw = value[kind]
    if kind == "N":
        return ("N", parse_number(raw))
    if kind == "B":
        return ("B", _binary(raw))
    if kind == "SS":
        return ("SS", frozenset(raw))
    if kind == "NS":
        return ("NS", frozenset(parse_number(n) for n in raw))
    if kind == "BS":
        return ("BS", frozenset(_binary(b) for b in raw))
    if kind == "L":
        return ("L", tuple(value_key(v) for v in raw))
    if kind == "M":
        return ("M", frozenset((k, value_key(v)) for k, v in raw.items()))
    return (kind, raw)


def values_equal(left: TypedValue, right: TypedValue) -> bool:
    """DynamoDB equality: same type and same value (sets unordered, numbers numerically)."""
    if type_of(left) != type_of(right):
        return False
    return bool(value_key(left) == value_key(right))


def compare(left: TypedValue, right: TypedValue) -> int | None:
    """-1/0/1 for two ordered values of the same scalar type, ``None`` when unordered."""
    kind = type_of(left)
    if kind != type_of(right) or kind not in ("N", "S", "B"):
        return None
    a: Any
    b: Any
    if kind == "N":
        a, b = parse_number(left["N"]), parse_number(right["N"])
    elif kind == "S":
        a, b = left["S"].encode(), right["S"].encode()
    else:
        a, b = _binary(left["B"]), _binary(right["B"])
    return (a > b) - (a < b)


def order_key(value: TypedValue) -> Any:
    """A sort key for key attributes (N, S or B), consistent with ``compare``."""
    kind = type_of(value)
    if kind == "N":
        return parse_number(value["N"])
    if kind == "S":
        return value["S"].encode()
    return _binary(value[kind])


def size_of(value: TypedValue) -> int | None:
    """The ``size()`` function: bytes of S (UTF-8) and B, element count of sets, lists and maps."""
    kind = type_of(value)
    raw = value[kind]
    if kind == "S":
        # AWS documents size() as "size in bytes"; strings count their UTF-8 bytes, as every
        # other DynamoDB size does (unverified against AWS for non-ASCII text).
        return len(raw.encode())
    if kind == "B":
        return len(_binary(raw))
    if kind in ("SS", "NS", "BS", "L", "M"):
        return len(raw)
    return None


def set_members(value: TypedValue) -> list[TypedValue]:
    kind = type_of(value)
    return [{kind[0]: member} for member in value[kind]]


def contains_member(container: TypedValue, member: TypedValue) -> bool:
    """``contains()``: substring of S/B, member of a set, element of a list."""
    kind = type_of(container)
    mkind = type_of(member)
    if kind == "S":
        return mkind == "S" and member["S"] in container["S"]
    if kind == "B":
        return mkind == "B" and _binary(member["B"]) in _binary(container["B"])
    if kind in ("SS", "NS", "BS"):
        if mkind != kind[0]:
            return False
        return any(values_equal(m, member) for m in set_members(container))
    if kind == "L":
        return any(values_equal(m, member) for m in container["L"])
    return False


def begins_with(value: TypedValue, prefix: TypedValue) -> bool:
    kind = type_of(value)
    if kind != type_of(prefix):
        return False
    if kind == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if kind == "B":
        return _binary(value["B"]).startswith(_binary(prefix["B"]))
    return False


def render(value: TypedValue) -> str:
    """DynamoDB's rendering of a value inside error messages: ``{N:10}``, ``{S:abc}``."""
    kind = type_of(value)
    raw = value[kind]
    if kind in ("SS", "NS"):
        return "{" + f"{kind}:[" + ", ".join(raw) + "]}"
    if kind in ("L",):
        return "{L:[" + ", ".join(render(v) for v in raw) + "]}"
    if kind == "M":
        return "{M:{" + ", ".join(f"{k}={render(v)}" for k, v in raw.items()) + "}}"
    return "{" + f"{kind}:{raw}" + "}"
