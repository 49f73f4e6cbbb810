"""The sort-preserving key encodings order bytes as DynamoDB orders values."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal

import pytest

from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb.keys import encode_key, encode_number
from lambdamaker.services.dynamodb.values import canonical_number, check_item, item_size


def test_number_encoding_orders_like_numeric_values() -> None:
    rng = random.Random(5)
    numbers = [Decimal(0), Decimal("-0"), Decimal("1e125"), Decimal("-1e125"), Decimal("1e-130")]
    for _ in range(2000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        numbers.append(Decimal(f"{rng.choice('-+')}{digits}e{rng.randint(-40, 40)}"))
    numbers += [Decimal(1), Decimal("1.0"), Decimal("10"), Decimal("9.99"), Decimal("-1.5")]
    by_bytes = sorted(numbers, key=encode_number)
    for a, b in itertools.pairwise(by_bytes):
        assert a <= b
        assert (encode_number(a) == encode_number(b)) == (a == b)


def test_equal_numbers_have_equal_keys() -> None:
    assert encode_key("N", "1") == encode_key("N", canonical_number("1.000"))
    assert encode_key("N", "-0") == encode_key("N", "0")


def test_strings_order_by_utf8_bytes() -> None:
    words = ["a", "ab", "b", "Z", "é", "\U0001f600", ""]
    assert sorted(words, key=lambda w: encode_key("S", w)) == sorted(
        words, key=lambda w: w.encode()
    )


def test_numbers_come_back_canonical() -> None:
    assert canonical_number("01.50") == "1.5"
    assert canonical_number("1e3") == "1000"
    assert canonical_number("-0.000") == "0"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"N": "abc"}, "cannot be converted into a number"),
        ({"N": "1" * 39}, "more than 38 significant digits"),
        ({"N": "1e126"}, "Number overflow"),
        ({"N": "1e999999999"}, "Number overflow"),  # past Decimal's own exponent limit
        ({"N": "1e-131"}, "Number underflow"),
        ({"N": "1e-999999999"}, "Number underflow"),  # not silently 0
        ({"SS": []}, "may not be empty"),
        ({"SS": ["a", "a"]}, "contains duplicates"),
        ({}, "Supplied AttributeValue is empty"),
        ({"S": "a", "N": "1"}, "more than one datatypes"),
    ],
)
def test_invalid_values_are_refused(value: dict[str, object], message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        check_item({"a": value})


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"id": {"S": "abc"}}) == 5
    assert item_size({"n": {"N": "123"}}) == 1 + 3
    assert item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
