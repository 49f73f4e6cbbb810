"""Sort-preserving byte encodings of DynamoDB key values.

Invariants:

- ``encode_key(t, a) < encode_key(t, b)`` (bytewise, as SQLite's BLOB and PostgreSQL's bytea
  compare) exactly when DynamoDB orders ``a`` before ``b`` for the key type ``t``: strings by
  their UTF-8 bytes, binary by bytes, numbers by numeric value. A table's key types are fixed,
  so no type tag is needed.
- Numbers are canonical before encoding (``1``, ``1.0`` and ``01`` are the same key).
- A table without a sort key stores ``b""`` as the range key.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

_EXP_BIAS = 32768
EXACT = Context(prec=200)
"""Decimal arithmetic that never rounds a DynamoDB number (at most 38 digits, |exponent| <= 130)."""


def encode_number(value: Decimal) -> bytes:
    """Order-preserving encoding: a sign class byte, a biased exponent, then the digits.

    ``x = 0.d1 d2 ... dk * 10**e`` with ``d1 != 0`` and no trailing zeros. Positive numbers:
    ``0x02, e, digits+1`` (a shorter digit string is a prefix and smaller, as it should be).
    Negative numbers complement everything and end with ``0xFF`` so that a prefix sorts after.
    """
    if value.is_zero():
        return b"\x01"
    sign, digits, exponent = EXACT.normalize(value).as_tuple()
    assert isinstance(exponent, int)
    e = len(digits) + exponent + _EXP_BIAS
    body = bytes(d + 1 for d in digits)
    if not sign:
        return b"\x02" + e.to_bytes(2, "big") + body
    return b"\x00" + (0xFFFF - e).to_bytes(2, "big") + bytes(255 - b for b in body) + b"\xff"


def encode_key(type_: str, value: Any) -> bytes:
    """The stored bytes of a key value of type ``S``, ``N`` or ``B``."""
    if type_ == "S":
        return str(value).encode()
    if type_ == "N":
        return encode_number(Decimal(value))
    return bytes(value)
