"""Value tests of the event-pattern language, one per match type, as aws/event-ruler applies them.

Each test takes one leaf value of the event (``patterns_values``) and answers whether it
matches. Type rules (ruler compares JSON text, so strings never equal numbers):
- string tests (exact string, prefix, suffix, equals-ignore-case, wildcard, cidr) match strings
  only;
- a number matches numerically within the comparable range, else by its literal text;
- ``true``/``false``/``null`` match themselves only;
- anything-but of strings matches every value not in the set, numbers and literals included;
  anything-but of numbers matches numbers only; anything-but prefix/suffix/wildcard match every
  value that is not a string of that shape.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection

from lambdamaker.engines.events.patterns_values import comparable, ip_of, is_number, number_text

Test = Callable[[object], bool]


def exact_string(expected: str) -> Test:
    ip = ip_of(expected)
    if ip is not None:

        def same_ip(value: object) -> bool:
            return isinstance(value, str) and (value == expected or ip_of(value) == ip)

        return same_ip
    return lambda value: isinstance(value, str) and value == expected


def exact_number(expected: float) -> Test:
    text, key = number_text(expected), comparable(expected)

    def test(value: object) -> bool:
        if not is_number(value):
            return False
        assert isinstance(value, (int, float))
        if key is not None and comparable(value) == key:
            return True
        return number_text(value) == text

    return test


def exact_literal(expected: bool | None) -> Test:
    return lambda value: value is expected


def prefix(text: str, *, ignore_case: bool = False) -> Test:
    if ignore_case:
        folded = text.casefold()
        return lambda value: isinstance(value, str) and value.casefold().startswith(folded)
    return lambda value: isinstance(value, str) and value.startswith(text)


def suffix(text: str, *, ignore_case: bool = False) -> Test:
    if ignore_case:
        folded = text.casefold()
        return lambda value: isinstance(value, str) and value.casefold().endswith(folded)
    return lambda value: isinstance(value, str) and value.endswith(text)


def equals_ignore_case(text: str) -> Test:
    folded = text.casefold()
    return lambda value: isinstance(value, str) and value.casefold() == folded


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """``*`` is any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash.
    The pattern is validated first (``patterns_parse.check_wildcard``)."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def wildcard(pattern: str) -> Test:
    regex = wildcard_regex(pattern)
    return lambda value: isinstance(value, str) and regex.fullmatch(value) is not None


def cidr(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Test:
    def test(value: object) -> bool:
        if not isinstance(value, str):
            return False
        ip = ip_of(value)
        return ip is not None and ip.version == network.version and ip in network

    return test


def numeric_range(low: float | None, low_open: bool, high: float | None, high_open: bool) -> Test:
    lo = comparable(low) if low is not None else None
    hi = comparable(high) if high is not None else None

    def test(value: object) -> bool:
        if not is_number(value):
            return False
        assert isinstance(value, (int, float))
        key = comparable(value)
        if key is None:
            return False
        if lo is not None and (key <= lo if low_open else key < lo):
            return False
        return not (hi is not None and (key >= hi if high_open else key > hi))

    return test


def anything_but_strings(values: Collection[str], *, ignore_case: bool = False) -> Test:
    if ignore_case:
        folded = {v.casefold() for v in values}
        return lambda value: not (isinstance(value, str) and value.casefold() in folded)
    excluded = frozenset(values)
    return lambda value: not (isinstance(value, str) and value in excluded)


def anything_but_numbers(values: Collection[float]) -> Test:
    excluded = [exact_number(v) for v in values]

    def test(value: object) -> bool:
        return is_number(value) and not any(t(value) for t in excluded)

    return test


def anything_but(inner: Test) -> Test:
    """Anything but a string shape (prefix, suffix, wildcard)."""
    return lambda value: not inner(value)
