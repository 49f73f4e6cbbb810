"""Leaf values of events and patterns as EventBridge's matcher (aws/event-ruler) sees them.

Invariants:
- JSON is parsed with numbers kept as ``JsonNumber``: a float that remembers its source text,
  because the matcher compares numbers two ways, numerically (only within +/-5e9, to six
  decimals, as ruler's ``ComparableNumber``) and by their literal text (outside that range, so
  a 12-digit account id still matches itself exactly).
- A leaf is a ``str``, ``bool``, ``None`` or ``JsonNumber``; ``bool`` is tested before numbers.
- IP addresses are compared as addresses: a pattern string that is an IP matches every spelling
  of the same address (ruler turns such strings into a one-address range).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

NUMERIC_LIMIT = 5e9
"""The numeric matcher's range (inclusive), as AWS documents it."""


class JsonNumber(float):
    """A JSON number that remembers how it was written."""

    text: str

    def __new__(cls, text: str) -> JsonNumber:
        self = super().__new__(cls, float(text))
        self.text = text
        return self


def loads(text: str | bytes) -> Any:
    """``json.loads`` keeping numbers as ``JsonNumber``; ``NaN``/``Infinity`` are not JSON."""

    def bad_constant(name: str) -> Any:
        raise ValueError(f"Unrecognized token '{name}'")

    return json.loads(
        text, parse_int=JsonNumber, parse_float=JsonNumber, parse_constant=bad_constant
    )


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number_text(value: float) -> str:
    return value.text if isinstance(value, JsonNumber) else json.dumps(value)


def comparable(value: float) -> int | None:
    """The number as ruler compares it (micro-units), or None outside the numeric range."""
    if not -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:
        return None
    return round(value * 1_000_000)


def ip_of(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def leaf_values(value: object) -> list[object]:
    """The leaf values an event field holds: one for a scalar, every scalar of an array (arrays
    nest and flatten), none for an object (its leaves live at deeper paths) or a missing field."""
    if isinstance(value, list):
        out: list[object] = []
        for item in value:
            out.extend(leaf_values(item))
        return out
    if isinstance(value, dict):
        return []
    return [value]
