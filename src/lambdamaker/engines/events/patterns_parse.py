"""Compile a parsed event pattern into a tree of ``Node`` and ``Leaf``, validating as ruler does.

A ``Node`` is an AND over its fields plus, for each ``$or`` at that level, an OR over branch
nodes. A ``Leaf`` is a field's array of match values: an OR over value tests, plus ``exists``
conditions. Every rejection raises ``PatternError`` with aws/event-ruler's own reason text, which
the provider wraps as ``InvalidEventPatternException: Event pattern is not valid. Reason: ...``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from lambdamaker.engines.events import patterns_matchers as m
from lambdamaker.engines.events.patterns_values import NUMERIC_LIMIT, is_number

OR = "$or"
_RESERVED_IN_OR = frozenset(
    {"anything-but", "exists", "prefix", "suffix", "numeric", "cidr", "equals-ignore-case",
     "wildcard", "exact"}
)  # fmt: skip
_SCALAR = (str, bool, int, float, type(None))


class PatternError(ValueError):
    """The pattern is not valid; the message is the reason."""


@dataclass
class Leaf:
    tests: list[m.Test] = field(default_factory=list)
    exists: list[bool] = field(default_factory=list)


@dataclass
class Node:
    fields: dict[str, Node | Leaf] = field(default_factory=dict)
    ors: list[list[Node]] = field(default_factory=list)


def compile_tree(pattern: Any) -> Node:
    if not isinstance(pattern, dict):
        raise PatternError("Filter is not an object")
    return _object(pattern, in_or=False)


def _object(obj: dict[str, Any], *, in_or: bool) -> Node:
    if not obj:
        raise PatternError("Empty objects are not allowed")
    node = Node()
    for key, value in obj.items():
        if key == OR:
            node.ors.append(_or(value))
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise PatternError(
                f"{key} is Ruler reserved fieldName which cannot be used inside $or."
            )
        if isinstance(value, dict):
            node.fields[key] = _object(value, in_or=in_or)
        elif isinstance(value, list):
            node.fields[key] = _leaf(value)
        else:
            raise PatternError(f'"{key}" must be an object or an array')
    return node


def _or(value: Any) -> list[Node]:
    if not isinstance(value, list):
        raise PatternError("It must be an Array followed with $or.")
    branches: list[Node] = []
    for item in value:
        if not isinstance(item, dict):
            raise PatternError("Only JSON object is allowed in array of $or relationship.")
        branches.append(_object(item, in_or=True))
    if len(branches) < 2:
        raise PatternError("There must have at least 2 Objects in $or relationship.")
    return branches


def _leaf(values: list[Any]) -> Leaf:
    if not values:
        raise PatternError("Empty arrays are not allowed")
    leaf = Leaf()
    for value in values:
        if isinstance(value, dict):
            _match_expression(value, leaf)
        elif isinstance(value, str):
            leaf.tests.append(m.exact_string(value))
        elif isinstance(value, bool) or value is None:
            leaf.tests.append(m.exact_literal(value))
        elif is_number(value):
            leaf.tests.append(m.exact_number(value))
        else:
            raise PatternError("Match value must be String, number, true, false, or null")
    return leaf


def _single(expr: dict[str, Any]) -> tuple[str, Any]:
    if not expr:
        raise PatternError("Match expression name not found")
    if len(expr) > 1:
        raise PatternError("Only one key allowed in match expression")
    ((name, arg),) = expr.items()
    return name, arg


def _match_expression(expr: dict[str, Any], leaf: Leaf) -> None:
    name, arg = _single(expr)
    if name == "exact":
        leaf.tests.append(m.exact_string(_string(arg, "exact match pattern must be a string")))
    elif name in ("prefix", "suffix"):
        build = m.prefix if name == "prefix" else m.suffix
        if isinstance(arg, dict):
            sub, text = _single(arg)
            if sub != "equals-ignore-case":
                raise PatternError(f"Unsupported {name} pattern: {sub}")
            message = "equals-ignore-case match pattern must be a string"
            leaf.tests.append(build(_string(text, message), ignore_case=True))
        else:
            leaf.tests.append(build(_string(arg, f"{name} match pattern must be a string")))
    elif name == "equals-ignore-case":
        message = "equals-ignore-case match pattern must be a string"
        leaf.tests.append(m.equals_ignore_case(_string(arg, message)))
    elif name == "wildcard":
        leaf.tests.append(
            m.wildcard(check_wildcard(_string(arg, "wildcard match pattern must be a string")))
        )
    elif name == "numeric":
        leaf.tests.append(_numeric(arg))
    elif name == "anything-but":
        leaf.tests.append(_anything_but(arg))
    elif name == "exists":
        if not isinstance(arg, bool):
            raise PatternError("exists match pattern must be either true or false.")
        leaf.exists.append(arg)
    elif name == "cidr":
        leaf.tests.append(m.cidr(_network(_string(arg, "prefix match pattern must be a string"))))
    else:
        raise PatternError(f"Unrecognized match type {name}")


def _string(value: Any, message: str) -> str:
    if not isinstance(value, str):
        raise PatternError(message)
    return value


def check_wildcard(pattern: str) -> str:
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in "*\\":
                raise PatternError(f"Invalid escape character at pos {i}")
            i += 2
            continue
        if c == "*" and i + 1 < len(pattern) and pattern[i + 1] == "*":
            raise PatternError(f"Consecutive wildcard characters at pos {i + 1}")
        i += 1
    return pattern


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    address, slash, bits = text.partition("/")
    if not slash:
        raise PatternError(f"Malformed CIDR, one '/' required: {text}")
    if not bits.isdigit():
        raise PatternError(f"Malformed CIDR, mask bits must be an integer: {text}")
    try:
        return ipaddress.ip_network(f"{ipaddress.ip_address(address)}/{int(bits)}", strict=False)
    except ValueError as exc:
        raise PatternError(f"Nonsensical CIDR IP address: {text}") from exc


def _bound(value: Any, operator: str) -> float:
    if not is_number(value):
        raise PatternError(f"Value of {operator} must be numeric")
    if not -NUMERIC_LIMIT <= value <= NUMERIC_LIMIT:
        raise PatternError("Value must be between -5.0E9 and 5.0E9, inclusive")
    return float(value)


def _numeric(arg: Any) -> m.Test:
    if not isinstance(arg, list):
        raise PatternError("Value of numeric must be an array.")
    if not arg or not isinstance(arg[0], str):
        shown = arg[0] if arg else "]"
        raise PatternError(f"Invalid member in numeric match: {shown}")
    operator, rest = arg[0], arg[1:]
    if operator not in ("=", ">=", ">", "<=", "<"):
        raise PatternError(f"Unrecognized numeric range operator: {operator}")
    if not rest:
        raise PatternError(f"Value of {'equals' if operator == '=' else operator} must be numeric")
    value = _bound(rest[0], "equals" if operator == "=" else operator)
    if operator in ("=", "<=", "<"):
        if len(rest) > 1:
            raise PatternError("Too many elements in numeric expression")
        if operator == "=":
            return m.numeric_range(value, False, value, False)
        return m.numeric_range(None, False, value, operator == "<")
    if len(rest) == 1:
        return m.numeric_range(value, operator == ">", None, False)
    top_op = rest[1]
    if not isinstance(top_op, str):
        raise PatternError(f"Bad value in numeric range: {top_op}")
    if top_op not in ("<", "<="):
        raise PatternError(f"Bad numeric range operator: {top_op}")
    if len(rest) < 3:
        raise PatternError(f"Value of {top_op} must be numeric")
    top = _bound(rest[2], top_op)
    if len(rest) > 3:
        raise PatternError("Too many terms in numeric range expression")
    if top <= value:
        raise PatternError("Bad range: bottom must be less than top")
    return m.numeric_range(value, operator == ">", top, top_op == "<")


def _anything_but(arg: Any) -> m.Test:
    if isinstance(arg, dict):
        name, inner = _single(arg)
        if name == "equals-ignore-case":
            return _anything_but_ignore_case(inner)
        if name not in ("prefix", "suffix", "wildcard"):
            raise PatternError(f"Unsupported anything-but pattern: {name}")
        if name == "wildcard":
            text = check_wildcard(_string(inner, "wildcard match pattern must be a string"))
            return m.anything_but(m.wildcard(text))
        text = _string(inner, "prefix/suffix match pattern must be a string")
        if not text:
            raise PatternError("Null prefix/suffix not allowed")
        return m.anything_but(m.prefix(text) if name == "prefix" else m.suffix(text))
    if isinstance(arg, str):
        return m.anything_but_strings([arg])
    if is_number(arg):
        return m.anything_but_numbers([_bound(arg, "anything-but")])
    if not isinstance(arg, list):
        raise PatternError("Value of anything-but must be an array or single string/number value.")
    strings = [v for v in arg if isinstance(v, str)]
    numbers = [v for v in arg if is_number(v)]
    if len(strings) + len(numbers) != len(arg):
        raise PatternError("Inside anything but list, start|null|boolean is not supported.")
    if bool(strings) == bool(numbers):
        raise PatternError(
            "Inside anything but list, either all values are number or string, "
            "mixed type is not supported"
        )
    if strings:
        return m.anything_but_strings(strings)
    return m.anything_but_numbers([_bound(v, "anything-but") for v in numbers])


def _anything_but_ignore_case(inner: Any) -> m.Test:
    if isinstance(inner, str):
        return m.anything_but_strings([inner], ignore_case=True)
    if is_number(inner):
        raise PatternError(
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
            "supported."
        )
    if not isinstance(inner, list):
        raise PatternError("Value of anything-but must be an array or single string/number value.")
    if not all(isinstance(v, str) for v in inner):
        raise PatternError(
            "Inside anything-but/equals-ignore-case list, numberic|start|null|boolean is not "
            "supported."
        )
    return m.anything_but_strings(inner, ignore_case=True)
