"""Typed values: DynamoDB number limits, equality, ordering and size."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lambdamaker.engines.tables.values import (
    compare,
    format_number,
    parse_number,
    size_of,
    values_equal,
)
from lambdamaker.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "rendered"),
    [("1.50", "1.5"), ("-0", "0"), ("1E+3", "1000"), ("0.000100", "0.0001"), ("007", "7")],
)
def test_numbers_are_normalised(text: str, rendered: str) -> None:
    assert format_number(parse_number(text)) == rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "The parameter cannot be converted to a numeric value: abc"),
        ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
        (
            "1E+126",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "1E-131",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
    ],
)
def test_number_limits(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_number(text)
    assert info.value.message == message


def test_38_digits_and_extremes_are_accepted() -> None:
    assert parse_number("9" * 38) == Decimal("9" * 38)
    assert parse_number("1E-130") and parse_number("9.9999999999999999999999999999999999999E+125")


def test_ordering_only_within_same_scalar_type() -> None:
    assert compare({"N": "10"}, {"N": "9"}) == 1
    assert compare({"S": "a"}, {"S": "b"}) == -1
    assert compare({"S": "\u00e9"}, {"S": "z"}) == 1  # UTF-8 byte order
    assert compare({"B": b"\x00"}, {"B": "AQ=="}) == -1  # str binaries are base64
    assert compare({"N": "1"}, {"S": "1"}) is None
    assert compare({"BOOL": True}, {"BOOL": False}) is None


def test_equality_and_size() -> None:
    assert values_equal({"M": {"a": {"N": "1.0"}}}, {"M": {"a": {"N": "1"}}})
    assert not values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
    assert not values_equal({"N": "1"}, {"S": "1"})
    assert (
        size_of({"S": "abc"}) == 3 and size_of({"NS": ["1"]}) == 1 and size_of({"N": "1"}) is None
    )


def test_order_key_sorts_like_compare() -> None:
    from lambdamaker.engines.tables.values import order_key

    numbers = [{"N": "10"}, {"N": "-1.5"}, {"N": "2"}]
    assert [v["N"] for v in sorted(numbers, key=order_key)] == ["-1.5", "2", "10"]
    strings = [{"S": "\u00e9"}, {"S": "z"}, {"S": "A"}]
    assert [v["S"] for v in sorted(strings, key=order_key)] == ["A", "z", "\u00e9"]
