"""The functions Step Functions adds to JSONata ($partition, $range, $hash, $random, $uuid,
$parse) and the one it removes ($eval), as the Step Functions docs describe them."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from lambdamaker.engines.workflows.errors import QUERY_EVALUATION_ERROR, StatesError
from lambdamaker.engines.workflows.jsonata_eval import evaluate


def run(expression: str, state_input: Any = None) -> Any:
    return evaluate(expression, {"input": state_input}, {}, field="Output")


def failure(expression: str, state_input: Any = None) -> str:
    with pytest.raises(StatesError) as caught:
        run(expression, state_input)
    assert caught.value.error == QUERY_EVALUATION_ERROR
    return caught.value.cause


def test_partition_splits_into_chunks_with_a_shorter_last_chunk() -> None:
    assert run("$partition([1,2,3,4,5,6,7,8,9], 3)") == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert run("$partition([1,2,3,4,5], 2)") == [[1, 2], [3, 4], [5]]
    assert run("$partition([], 2)") == []


def test_partition_rejects_a_chunk_size_that_is_not_a_positive_integer() -> None:
    assert "$partition" in failure("$partition([1,2], 0)")
    assert "$partition" in failure("$partition([1,2], 1.5)")


def test_range_includes_the_end_when_a_step_lands_on_it() -> None:
    assert run("$range(0, 10, 2)") == [0, 2, 4, 6, 8, 10]
    assert run("$range(0, 9, 3)") == [0, 3, 6, 9]
    assert run("$range(0, 10, 3)") == [0, 3, 6, 9]


def test_range_counts_down_with_a_negative_step() -> None:
    assert run("$range(5, 1, -2)") == [5, 3, 1]


def test_range_of_one_item_is_that_item_as_jsonata_sequences_collapse() -> None:
    assert run("$range(1, 9, 9)") == 1


def test_range_reads_its_arguments_from_the_state_input() -> None:
    assert run("$range($states.input.a, $states.input.b, 1)", {"a": 1, "b": 3}) == [1, 2, 3]


def test_range_rejects_a_zero_step_fractions_and_more_than_1000_items() -> None:
    assert "D3303" in failure("$range(1, 2, 0)")
    assert "D3302" in failure("$range(1.5, 2, 1)")
    assert "1000" in failure("$range(0, 1000, 1)")
    assert len(run("$range(1, 1000, 1)")) == 1000


@pytest.mark.parametrize(
    ("algorithm", "name"),
    [
        ("MD5", "md5"),
        ("SHA-1", "sha1"),
        ("SHA-256", "sha256"),
        ("SHA-384", "sha384"),
        ("SHA-512", "sha512"),
    ],
)
def test_hash_returns_the_lowercase_hex_digest(algorithm: str, name: str) -> None:
    expected = hashlib.new(name, b"input data").hexdigest()
    assert run(f"$hash('input data', '{algorithm}')") == expected


def test_hash_rejects_an_unknown_algorithm_and_a_non_string() -> None:
    assert "'SHA-2' is not supported" in failure("$hash('x', 'SHA-2')")
    cause = failure("$hash(1, 'MD5')")
    assert 'T0410: Argument 1 of function "hash" does not match function signature' in cause


def test_random_is_in_the_unit_interval() -> None:
    for _ in range(20):
        value = run("$random()")
        assert 0 <= value < 1


def test_random_with_a_seed_repeats_and_different_seeds_differ() -> None:
    assert run("$random(42)") == run("$random(42)")
    assert run("$random(42)") != run("$random(43)")
    assert "D3306" in failure("$random(1.5)")


def test_uuid_is_a_fresh_version_4_uuid() -> None:
    first, second = run("$uuid()"), run("$uuid()")
    assert uuid.UUID(first).version == 4
    assert first != second


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("-0", 0),
        ("1", 1),
        ("1.1", 1.1),
        ("true", True),
        ('"HelloWorld"', "HelloWorld"),
        ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
        ('{"a": null}', {"a": None}),
        ("null", None),
    ],
)
def test_parse_turns_a_json_string_into_its_value(text: str, value: Any) -> None:
    assert run("$parse($states.input.s)", {"s": text}) == value


def test_parse_of_invalid_json_fails() -> None:
    assert "D3307" in failure("$parse('{')")


def test_eval_is_not_available() -> None:
    assert failure("$eval('1+1')").endswith("T1006: Attempted to invoke a non-function")


def test_a_variable_named_like_an_aws_function_shadows_it() -> None:
    assert evaluate("$uuid", {}, {"uuid": "mine"}, field="Output") == "mine"
