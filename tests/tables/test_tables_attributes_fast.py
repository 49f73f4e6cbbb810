"""ExpressionAttributes' fast path for plain strings and digit-only numbers accepts exactly
what the full ``check_value`` accepts, and every other value still gets the full check."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.engines.tables import ExpressionAttributes
from lambdamaker.engines.tables.attributes import _plainly_valid
from lambdamaker.engines.tables.items import check_value
from lambdamaker.errors import ValidationError

VALUES: list[Any] = [
    {"S": "x"},
    {"S": ""},
    {"S": 1},
    {"S": None},
    {"N": "1"},
    {"N": "0"},
    {"N": "007"},
    {"N": "9" * 38},
    {"N": "9" * 39},
    {"N": "1" + "0" * 126},
    {"N": ""},
    {"N": "-1"},
    {"N": "1.5"},
    {"N": "1e3"},
    {"N": " 1"},
    {"N": "\u0663"},  # ARABIC-INDIC DIGIT THREE: a digit, not ASCII
    {"N": 1},
    {"S": "x", "N": "1"},
    {"NULL": True},
    {"B": b"x"},
    {},
    "x",
]


def _full(value: Any) -> str | None:
    try:
        check_value(value)
    except ValidationError as error:
        return error.message
    return None


@pytest.mark.parametrize("value", VALUES)
def test_the_fast_path_agrees_with_the_full_check(value: Any) -> None:
    expected = _full(value)
    if _plainly_valid(value):
        assert expected is None
    try:
        ExpressionAttributes(None, {":v": value})
        got = None
    except ValidationError as error:
        got = error.message
    if expected is None:
        assert got is None
    else:
        assert got == f"ExpressionAttributeValues contains invalid value: {expected} for key :v"


def test_the_fast_path_is_taken_for_plain_values() -> None:
    assert _plainly_valid({"S": "x"}) and _plainly_valid({"N": "12"})
    assert not _plainly_valid({"N": "1.5"}) and not _plainly_valid({"N": "9" * 39})
