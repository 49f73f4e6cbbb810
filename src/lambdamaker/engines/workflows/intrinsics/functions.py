"""The array, JSON and math intrinsics, and the registry of all 18 with their arities.

AWS behaviours kept here (observed on AWS, see the tests):
- ArrayRange is inclusive of its end, at most 1,000 items, a zero step fails, a step pointing
  away from the end gives ``[]``;
- ArrayGetItem fails for a negative index or one past the end, except on an empty array,
  where AWS returns ``null``; a fractional index is truncated;
- ArrayPartition's chunk size must be at least 1 after truncation;
- ArrayContains / ArrayUnique compare JSON values (``1`` is not ``true``, key order ignored);
- JsonMerge is shallow only: a ``true`` deep-merge flag fails, any other flag merges shallowly;
- StringToJson of a blank string is ``null``, of invalid JSON fails;
- MathAdd works on 32-bit integers (operands rounded half up; operands and sum must fit);
- MathRandom returns an integer in ``[start, end)`` (bounds truncated; start < end), the
  same one for the same seed.

Every function takes the evaluated arguments (a list) and the raw text of the first argument
when it is a string literal (only Format needs it); none mutates its arguments.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdamaker.engines.workflows.intrinsics import strings
from lambdamaker.engines.workflows.intrinsics.common import (
    invalid,
    is_number,
    json_key,
    rounded,
    to_json,
    truncated,
)

MAX_RANGE_ITEMS = 1000
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def array(args: list[Any], _raw: str | None) -> list[Any]:
    return list(args)


def array_partition(args: list[Any], _raw: str | None) -> list[list[Any]]:
    name = "States.ArrayPartition"
    items, size = args
    if not isinstance(items, list):
        invalid(name)
    chunk = truncated(name, size)
    if chunk < 1:
        invalid(name)
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def array_contains(args: list[Any], _raw: str | None) -> bool:
    items, value = args
    if not isinstance(items, list):
        invalid("States.ArrayContains")
    key = json_key(value)
    return any(json_key(item) == key for item in items)


def array_range(args: list[Any], _raw: str | None) -> list[int]:
    name = "States.ArrayRange"
    start, end, step = (truncated(name, arg) for arg in args)
    if step == 0:
        invalid(name)
    if (step > 0 and start > end) or (step < 0 and start < end):
        return []
    count = (end - start) // step + 1
    if count > MAX_RANGE_ITEMS:
        invalid(name)
    return [start + i * step for i in range(count)]


def array_get_item(args: list[Any], _raw: str | None) -> Any:
    name = "States.ArrayGetItem"
    items, index = args
    if not isinstance(items, list):
        invalid(name)
    position = truncated(name, index)
    if position < 0:
        invalid(name)
    if position >= len(items):
        if not items:
            return None
        invalid(name)
    return items[position]


def array_length(args: list[Any], _raw: str | None) -> int:
    (items,) = args
    if not isinstance(items, list):
        invalid("States.ArrayLength")
    return len(items)


def array_unique(args: list[Any], _raw: str | None) -> list[Any]:
    (items,) = args
    if not isinstance(items, list):
        invalid("States.ArrayUnique")
    seen: set[str] = set()
    out: list[Any] = []
    for item in items:
        key = json_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _reject_constant(token: str) -> Any:
    raise ValueError(token)


def string_to_json(args: list[Any], _raw: str | None) -> Any:
    name = "States.StringToJson"
    (text,) = args
    if not isinstance(text, str):
        invalid(name)
    if not text.strip():
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        invalid(name)


def json_to_string(args: list[Any], _raw: str | None) -> str:
    (value,) = args
    return to_json(value)


def json_merge(args: list[Any], _raw: str | None) -> dict[str, Any]:
    name = "States.JsonMerge"
    left, right, deep = args
    if not isinstance(left, dict) or not isinstance(right, dict) or deep is True:
        invalid(name)
    return {**left, **right}


def math_add(args: list[Any], _raw: str | None) -> int:
    name = "States.MathAdd"
    if not all(is_number(arg) for arg in args):
        invalid(name)
    first, second = (rounded(name, arg) for arg in args)
    total = first + second
    if not all(INT32_MIN <= n <= INT32_MAX for n in (first, second, total)):
        invalid(name)
    return total


def math_random(args: list[Any], _raw: str | None) -> int:
    name = "States.MathRandom"
    start, end = truncated(name, args[0]), truncated(name, args[1])
    if start >= end:
        invalid(name)
    if len(args) == 3:
        return random.Random(truncated(name, args[2])).randrange(start, end)
    return random.randrange(start, end)


Function = Callable[[list[Any], "str | None"], Any]


@dataclass(frozen=True, slots=True)
class Spec:
    """An intrinsic: how many arguments it takes (``max_args`` None: no limit) and its code."""

    min_args: int
    max_args: int | None
    function: Function


FUNCTIONS: dict[str, Spec] = {
    "States.Format": Spec(1, None, strings.states_format),
    "States.StringToJson": Spec(1, 1, string_to_json),
    "States.JsonToString": Spec(1, 1, json_to_string),
    "States.Array": Spec(0, None, array),
    "States.ArrayPartition": Spec(2, 2, array_partition),
    "States.ArrayContains": Spec(2, 2, array_contains),
    "States.ArrayRange": Spec(3, 3, array_range),
    "States.ArrayGetItem": Spec(2, 2, array_get_item),
    "States.ArrayLength": Spec(1, 1, array_length),
    "States.ArrayUnique": Spec(1, 1, array_unique),
    "States.Base64Encode": Spec(1, 1, strings.base64_encode),
    "States.Base64Decode": Spec(1, 1, strings.base64_decode),
    "States.Hash": Spec(2, 2, strings.states_hash),
    "States.JsonMerge": Spec(3, 3, json_merge),
    "States.MathRandom": Spec(2, 3, math_random),
    "States.MathAdd": Spec(2, 2, math_add),
    "States.StringSplit": Spec(2, 2, strings.string_split),
    "States.UUID": Spec(0, 0, strings.states_uuid),
}


def arity_ok(spec: Spec, count: int) -> bool:
    return count >= spec.min_args and (spec.max_args is None or count <= spec.max_args)
