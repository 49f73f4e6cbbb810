"""SNS subscription filter policies: validation and matching, for both scopes.

A filter policy is a JSON object. Its keys name message attributes (scope
``MessageAttributes``, the default) or properties of the JSON message body (scope
``MessageBody``, where objects nest). Each key maps to a list of conditions, any one of which
may match (OR); all keys must match (AND). ``$or`` holds a list of sub-policies, any of which
may match. A condition is a literal (string, number, ``true``/``false``, ``null``) or a
one-key object: ``prefix``, ``suffix``, ``equals-ignore-case``, ``anything-but`` (a value, a
list, or ``{"prefix"|"suffix"|"equals-ignore-case": s}``), ``numeric`` ranges, ``exists``,
``cidr``.

Invariants:
- ``parse_filter_policy`` either returns a ``FilterPolicy`` that never raises while matching,
  or raises ``FilterPolicyError`` with the text AWS puts after ``Invalid parameter: `` (the
  provider adds the prefix, which differs between Subscribe and SetSubscriptionAttributes).
- AWS's limits: at most 5 keys at the top level, and at most 150 combinations, computed as
  AWS documents: the product over arrays of (values x nesting depth), ``$or`` branches summed.
- Matching is total: a missing attribute, a non-JSON body, or a value of the wrong type is a
  non-match, never an error. A missing key matches only ``{"exists": false}``.
- Attribute types: ``String`` compares as a string, ``Number`` as a number, ``String.Array``
  matches when any element does; ``Binary`` attributes are ignored, as SNS does.
- Body arrays match when any element matches (a list of objects: when any object matches the
  nested policy as a whole; AWS's flattening can also combine fields of different elements,
  which this does not).
"""

from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import dataclass
from typing import Any

MAX_KEYS = 5
MAX_COMBINATIONS = 150
SCOPES = ("MessageAttributes", "MessageBody")

_MISSING = object()
_NUMERIC_OPS = ("<", "<=", "=", ">", ">=")
_STRING_OPS = ("prefix", "suffix", "equals-ignore-case")


class FilterPolicyError(ValueError):
    """An invalid filter policy. ``str(err)`` is AWS's text after ``Invalid parameter: ``."""


def _fail(detail: str) -> FilterPolicyError:
    return FilterPolicyError(f"FilterPolicy: {detail}")


@dataclass(frozen=True)
class FilterPolicy:
    policy: dict[str, Any]
    scope: str = "MessageAttributes"

    def matches(self, message: str, attributes: dict[str, dict[str, Any]] | None = None) -> bool:
        """Whether a message published with ``attributes`` (SNS shape: name -> ``{"DataType",
        "StringValue"}`` or ``{"Type", "Value"}``) reaches the subscription."""
        if self.scope == "MessageBody":
            try:
                body = json.loads(message)
            except ValueError:
                return False
            return isinstance(body, dict) and _match_object(self.policy, body)
        return _match_object(self.policy, _attribute_values(attributes or {}))


def parse_filter_policy(text: str, scope: str = "MessageAttributes") -> FilterPolicy:
    """Validate ``text`` as a filter policy of ``scope`` and compile it."""
    try:
        policy = json.loads(text)
    except ValueError as exc:
        raise _fail(f"failed to parse JSON. {exc}") from None
    if not isinstance(policy, dict):
        raise _fail("Filter policy must be a JSON object")
    if len([k for k in policy if k != "$or"]) > MAX_KEYS:
        raise _fail(f"Filter policy can not have more than {MAX_KEYS} keys")
    combos = _check_object(policy, scope, depth=1)
    if combos > MAX_COMBINATIONS:
        raise _fail("Filter policy is too complex")
    return FilterPolicy(policy, scope)


# -- validation ---------------------------------------------------------------------------


def _check_object(obj: dict[str, Any], scope: str, depth: int) -> int:
    if scope == "MessageAttributes" and depth > 1:
        raise FilterPolicyError(
            "Filter policy scope MessageAttributes does not support nested filter policy"
        )
    combos = 1
    for key, value in obj.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _fail('"$or" must be an array of at least two objects')
            total = 0
            for branch in value:
                if not isinstance(branch, dict) or not branch:
                    raise _fail('"$or" must be an array of at least two objects')
                total += _check_object(branch, scope, depth)
            combos *= total
        elif isinstance(value, dict):
            combos *= _check_object(value, scope, depth + 1)
        elif isinstance(value, list):
            if not value:
                raise _fail("Empty arrays are not allowed")
            for condition in value:
                _check_condition(condition)
            combos *= len(value) * depth
        else:
            raise _fail(f'"{key}" must be an object or an array')
    return combos


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, (str, bool)) or _is_number(condition):
        return
    if not isinstance(condition, dict):
        raise _fail("Match value must be String, number, true, false, or null")
    if len(condition) != 1:
        raise _fail("Only one key allowed in match expression")
    ((op, arg),) = condition.items()
    if op in _STRING_OPS:
        if not isinstance(arg, str):
            raise _fail(f"{op} match pattern must be a string")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise _fail("exists match pattern must be either true or false.")
    elif op == "anything-but":
        _check_anything_but(arg)
    elif op == "numeric":
        _check_numeric(arg)
    elif op == "cidr":
        _check_cidr(arg)
    else:
        raise _fail(f"Unrecognized match type {op}")


def _check_anything_but(arg: Any) -> None:
    if isinstance(arg, str) or _is_number(arg):
        return
    if isinstance(arg, list):
        if not arg:
            raise _fail("Empty arrays are not allowed")
        if not all(isinstance(v, str) or _is_number(v) for v in arg):
            raise _fail("Inside anything but list, start|null|boolean is not supported.")
        return
    if isinstance(arg, dict):
        if len(arg) != 1:
            raise _fail("Only one key allowed in match expression")
        ((op, value),) = arg.items()
        if op not in _STRING_OPS:
            raise _fail(f"Unsupported anything-but pattern: {op}")
        if not isinstance(value, str):
            raise _fail(f"{op} match pattern must be a string")
        return
    raise _fail("anything-but match pattern must be a string, number, array or object")


def _check_numeric(arg: Any) -> None:
    if not isinstance(arg, list) or not arg:
        raise _fail("Value of numeric must be an array.")
    terms = list(arg)
    op = terms.pop(0)
    if not isinstance(op, str):
        raise _fail(f"Invalid member in numeric match: {op}")
    if op not in _NUMERIC_OPS:
        raise _fail(f"Unrecognized numeric range operator: {op}")
    if not terms or not _is_number(terms[0]):
        raise _fail(f"Value of {'equals' if op == '=' else op} must be numeric")
    bottom = terms.pop(0)
    if not terms:
        return
    if op not in (">", ">="):
        raise _fail("Too many elements in numeric expression")
    op2 = terms.pop(0)
    if not isinstance(op2, str):
        raise _fail(f"Bad value in numeric range: {op2}")
    if op2 not in ("<", "<="):
        raise _fail(f"Bad numeric range operator: {op2}")
    if not terms or not _is_number(terms[0]):
        raise _fail(f"Value of {op2} must be numeric")
    if terms[0] <= bottom:
        raise _fail("Bottom must be less than top")
    if len(terms) > 1:
        raise _fail("Too many terms in numeric range expression")


def _check_cidr(arg: Any) -> None:
    if not isinstance(arg, str):
        raise _fail("cidr match pattern must be a string")
    if arg.count("/") != 1:
        raise _fail(f"Malformed CIDR, one '/' required: {arg}")
    try:
        ipaddress.ip_network(arg, strict=False)
    except ValueError:
        raise _fail(f"Nonstandard IP address: {arg}") from None


# -- matching -----------------------------------------------------------------------------


def _attribute_values(attributes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Message attributes as the JSON values the policy compares against. ``String.Array``
    values become lists (matched element-wise); unparseable ones and ``Binary`` are dropped."""
    out: dict[str, Any] = {}
    for name, attr in attributes.items():
        data_type = str(attr.get("DataType", attr.get("Type", "")))
        raw = attr.get("StringValue", attr.get("Value"))
        if raw is None:
            continue
        base = data_type.split(".", 1)[0]
        if data_type == "String.Array":
            try:
                parsed = json.loads(raw)
            except ValueError:
                continue
            out[name] = parsed if isinstance(parsed, list) else [parsed]
        elif base == "Number":
            try:
                number = float(raw)
            except ValueError:
                continue
            out[name] = number
        elif base == "String":
            out[name] = str(raw)
    return out


def _match_object(policy: dict[str, Any], data: dict[str, Any]) -> bool:
    for key, spec in policy.items():
        if key == "$or":
            if not any(_match_object(branch, data) for branch in spec):
                return False
            continue
        value = data.get(key, _MISSING)
        if isinstance(spec, dict):
            if not _match_nested(spec, value):
                return False
        elif not _match_key(spec, value):
            return False
    return True


def _match_nested(spec: dict[str, Any], value: Any) -> bool:
    if isinstance(value, dict):
        return _match_object(spec, value)
    if isinstance(value, list):
        return any(isinstance(v, dict) and _match_object(spec, v) for v in value)
    # A missing parent: only a sub-policy satisfied by absence (``exists: false``) matches.
    return _match_object(spec, {})


def _match_key(conditions: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(c, dict) and c.get("exists") is False for c in conditions)
    if isinstance(value, dict):
        return False
    values = value if isinstance(value, list) else [value]
    return any(_match_one(c, v) for c in conditions for v in values)


def _equal(condition: Any, value: Any) -> bool:
    if _is_number(condition):
        return _is_number(value) and math.isclose(float(condition), float(value), abs_tol=1e-5)
    if isinstance(condition, bool) or condition is None:
        return value is condition
    return isinstance(value, str) and value == condition


def _match_one(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):
        return _equal(condition, value)
    ((op, arg),) = condition.items()
    if op == "exists":
        return bool(arg)
    if op in _STRING_OPS:
        return isinstance(value, str) and _string_op(op, arg, value)
    if op == "anything-but":
        if isinstance(arg, dict):
            ((sub_op, sub_arg),) = arg.items()
            return isinstance(value, str) and not _string_op(sub_op, sub_arg, value)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_equal(x, value) for x in excluded)
    if op == "numeric":
        return _is_number(value) and _in_range(arg, float(value))
    if op == "cidr":
        return isinstance(value, str) and _in_cidr(arg, value)
    return False


def _string_op(op: str, arg: str, value: str) -> bool:
    if op == "prefix":
        return value.startswith(arg)
    if op == "suffix":
        return value.endswith(arg)
    return value.casefold() == arg.casefold()


def _in_range(terms: list[Any], number: float) -> bool:
    for i in range(0, len(terms), 2):
        op, bound = terms[i], float(terms[i + 1])
        ok = {
            "<": number < bound,
            "<=": number <= bound,
            "=": number == bound,
            ">": number > bound,
            ">=": number >= bound,
        }[op]
        if not ok:
            return False
    return True


def _in_cidr(network: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
