"""Attribute value validity and item size accounting."""

from __future__ import annotations

from typing import Any

import pytest

from lambdamaker.engines.tables.items import check_item, check_value, item_size, value_size
from lambdamaker.errors import ValidationError

INVALID = "One or more parameter values were invalid: "


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {},
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        ),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, must"
            " contain exactly one of the supported datatypes",
        ),
        ({"NULL": False}, INVALID + "Null attribute value types must have the value of true"),
        ({"NS": []}, INVALID + "An number set  may not be empty"),
        ({"BS": []}, INVALID + "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, INVALID + "Input collection [a, a] contains duplicates."),
        (
            {"BS": [b"b", b"b"]},
            INVALID + "Input collection [Yg==, Yg==]of type BS contains duplicates.",
        ),
        ({"NS": ["1", "1"]}, "Input collection contains duplicates"),
        ({"N": ""}, "The parameter cannot be converted to a numeric value"),
        (
            {"N": "1e126"},
            "Number overflow. Attempting to store a number with magnitude larger than"
            " supported range",
        ),
        ({"L": [{"M": {"x": {"SS": []}}}]}, INVALID + "An string set  may not be empty"),
    ],
)
def test_invalid_values(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_value(value)
    assert info.value.message == message


def test_valid_item_passes() -> None:
    check_item(
        {"a": {"S": ""}, "b": {"L": []}, "c": {"M": {}}, "d": {"NS": ["1", "1.5"]}, "e": {"B": b""}}
    )


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "h\u00e9"}, 3),
        ({"N": "12345"}, 4),
        ({"N": "0"}, 2),
        ({"N": "-1.50"}, 2),
        ({"N": "9" * 38}, 20),
        ({"B": b"abc"}, 3),
        ({"B": "YWJj"}, 3),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"SS": ["ab", "c"]}, 3),
        ({"L": [{"S": "ab"}, {"NULL": True}]}, 3 + 3 + 2),
        ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
    ],
)
def test_value_sizes(value: Any, size: int) -> None:
    assert value_size(value) == size


def test_item_size_counts_names() -> None:
    assert item_size({"name": {"S": "abc"}, "n": {"N": "1"}}) == 4 + 3 + 1 + 2
