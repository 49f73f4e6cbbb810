"""The 18 intrinsic functions: results and AWS's failures (States.Runtime, 'Invalid arguments in')."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.engines.workflows.intrinsics import FUNCTIONS, evaluate


def run(expression: str, data: Any = None) -> Any:
    return evaluate(expression, data if data is not None else {}, {}, {})


def fails(expression: str, data: Any = None) -> None:
    """The call fails the way AWS fails it: States.Runtime, 'Invalid arguments in States.X'."""
    name = expression[: expression.index("(")].strip()
    with pytest.raises(StatesError) as info:
        run(expression, data)
    assert info.value.error == RUNTIME
    assert info.value.cause == f"Invalid arguments in {name}"


def test_all_eighteen_functions_are_registered() -> None:
    assert len(FUNCTIONS) == 18


# --- States.Format -------------------------------------------------------------------------


def test_format_replaces_placeholders_in_order() -> None:
    assert (
        run("States.Format('Hello, my name is {}.', $.n)", {"n": "Arnav"})
        == "Hello, my name is Arnav."
    )
    assert run("States.Format('{}{}', 'a', 'b')") == "ab"
    assert run("States.Format('no placeholders')") == "no placeholders"
    assert run("States.Format($.t, $.n)", {"t": "Hi {}!", "n": "Ada"}) == "Hi Ada!"


def test_format_renders_values_like_aws() -> None:
    data = {"o": {"Arg1": 1, "Arg2": []}, "l": [1, "a", None]}
    got = run("States.Format('{}|{}|{}|{}|{}|{}|{}', null, true, 1, 1.5, 1.0, $.o, $.l)", data)
    assert got == "null|true|1|1.5|1.0|{Arg1=1, Arg2=[]}|[1, a, null]"


def test_format_escaped_braces_and_quotes_are_literal() -> None:
    assert run("States.Format('\\{\\} {} \\'q\\' \\\\', 'x')") == "{} x 'q' \\"


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format('{} {}', 'a')",
        "States.Format('{}', 'a', 'b')",
        "States.Format('Hello {', 'a')",
        "States.Format('Hello {{}}', 'a')",
        "States.Format('}')",
        "States.Format(1)",
        "States.Format($.t)",
    ],
)
def test_format_failures(expression: str) -> None:
    fails(expression, {"t": 123})


# --- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("  ", None),
        ("null", None),
        ("-0", 0),
        ("1.5", 1.5),
        ("true", True),
        ('"s"', "s"),
        ('{"a": [1, {"b": null}]}', {"a": [1, {"b": None}]}),
    ],
)
def test_string_to_json_parses(text: str, value: Any) -> None:
    assert run("States.StringToJson($.s)", {"s": text}) == value


@pytest.mark.parametrize("text", ["{", "{'a': 1}", "NaN", "[1,]"])
def test_string_to_json_rejects_invalid_json(text: str) -> None:
    fails("States.StringToJson($.s)", {"s": text})


def test_string_to_json_rejects_non_strings() -> None:
    fails("States.StringToJson($.s)", {"s": {"a": 1}})


def test_json_to_string_is_compact_and_keeps_unicode() -> None:
    data = {"o": {"k": [1, 2.5, None, True], "é": "✓"}}
    assert run("States.JsonToString($.o)", data) == '{"k":[1,2.5,null,true],"é":"✓"}'
    assert run("States.JsonToString('x')") == '"x"'


def test_json_merge_is_shallow_right_wins() -> None:
    data = {"a": {"n": {"a1": 1}, "b": 2, "d": 3}, "b": {"n": {"a3": 1}, "c": 3, "d": 4}}
    assert run("States.JsonMerge($.a, $.b, false)", data) == {
        "n": {"a3": 1},
        "b": 2,
        "c": 3,
        "d": 4,
    }


def test_json_merge_failures() -> None:
    data = {"o": {"x": 1}, "l": [], "n": None}
    fails("States.JsonMerge($.o, $.o, true)", data)
    fails("States.JsonMerge($.l, $.o, false)", data)
    fails("States.JsonMerge($.o, $.n, false)", data)
    fails("States.JsonMerge($.o, $.o)", data)


# --- arrays --------------------------------------------------------------------------------


def test_array_collects_arguments() -> None:
    assert run("States.Array()") == []
    assert run("States.Array('a', 1, $.x, States.Array())", {"x": {"k": 1}}) == [
        "a",
        1,
        {"k": 1},
        [],
    ]


def test_array_partition() -> None:
    data = {"a": [1, 2, 3, 4, 5]}
    assert run("States.ArrayPartition($.a, 2)", data) == [[1, 2], [3, 4], [5]]
    assert run("States.ArrayPartition($.a, 10)", data) == [[1, 2, 3, 4, 5]]
    assert run("States.ArrayPartition(States.Array(), 3)") == []
    assert run("States.ArrayPartition($.a, 2.6)", data) == [[1, 2], [3, 4], [5]]  # truncated


@pytest.mark.parametrize("size", ["0", "-1", "0.6", "'2'", "null"])
def test_array_partition_rejects_bad_sizes(size: str) -> None:
    fails(f"States.ArrayPartition($.a, {size})", {"a": [1]})


def test_array_partition_rejects_non_arrays() -> None:
    fails("States.ArrayPartition('x', 2)")


def test_array_contains_compares_json_values() -> None:
    data = {"a": [1, "x", {"k": [1, 2], "j": None}], "o": {"j": None, "k": [1, 2]}}
    assert run("States.ArrayContains($.a, 'x')", data) is True
    assert run("States.ArrayContains($.a, $.o)", data) is True
    assert run("States.ArrayContains($.a, true)", data) is False
    assert run("States.ArrayContains($.a, 2)", data) is False
    fails("States.ArrayContains('x', 'x')")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("1, 9, 2", [1, 3, 5, 7, 9]),
        ("3, 3, -1", [3]),
        ("5, 1, -2", [5, 3, 1]),
        ("5, 1, 1", []),
        ("1, 5, -1", []),
        ("1.4, 5.6, 2.2", [1, 3, 5]),
        ("1.6, 1.4, 1", [1]),
    ],
)
def test_array_range(args: str, expected: list[int]) -> None:
    assert run(f"States.ArrayRange({args})") == expected


def test_array_range_allows_exactly_1000_items() -> None:
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    assert run("States.ArrayRange(1000, 1, -1)")[-1] == 1


@pytest.mark.parametrize(
    "args", ["1, 1001, 1", "1001, 1, -1", "1, 10, 0", "1, 10, 0.49", "'a', 5, 1", "1, 5, true"]
)
def test_array_range_failures(args: str) -> None:
    fails(f"States.ArrayRange({args})")


def test_array_get_item() -> None:
    data = {"a": [10, {"b": 2}, None], "i": 1}
    assert run("States.ArrayGetItem($.a, 0)", data) == 10
    assert run("States.ArrayGetItem($.a, $.i)", data) == {"b": 2}
    assert run("States.ArrayGetItem($.a, 2)", data) is None
    assert run("States.ArrayGetItem($.a, 1.7)", data) == {"b": 2}  # truncated
    assert run("States.ArrayGetItem(States.Array(), 5)") is None  # AWS: empty array gives null


@pytest.mark.parametrize("index", ["3", "-1", "'1'", "null"])
def test_array_get_item_failures(index: str) -> None:
    fails(f"States.ArrayGetItem($.a, {index})", {"a": [1, 2, 3]})


def test_array_get_item_rejects_non_arrays() -> None:
    fails("States.ArrayGetItem('abc', 0)")


def test_array_length_and_unique() -> None:
    data = {"a": [1, 2, 2, "2", True, 1, {"x": 1, "y": 2}, {"y": 2, "x": 1}]}
    assert run("States.ArrayLength($.a)", data) == 8
    assert run("States.ArrayLength(States.Array())") == 0
    assert run("States.ArrayUnique($.a)", data) == [1, 2, "2", True, {"x": 1, "y": 2}]
    fails("States.ArrayLength('abc')")
    fails("States.ArrayUnique($.o)", {"o": {}})


# --- encoding and hashing ------------------------------------------------------------------


def test_base64_round_trip_with_unicode() -> None:
    assert run("States.Base64Encode('Data to encode')") == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')") == "Data to encode"
    assert run("States.Base64Encode('✓')") == "4pyT"
    assert run("States.Base64Decode('4pyT')") == "✓"
    assert run("States.Base64Encode('')") == ""


def test_base64_decode_is_lenient_like_aws() -> None:
    assert run("States.Base64Decode(' YWJjZA== ')") == "abcd"
    assert run("States.Base64Decode('YWJjZA')") == "abcd"


def test_base64_limits_and_types() -> None:
    assert len(run("States.Base64Encode($.s)", {"s": "a" * 10_000})) > 0
    fails("States.Base64Encode($.s)", {"s": "a" * 10_001})
    fails("States.Base64Decode($.s)", {"s": "A" * 10_001})
    fails("States.Base64Encode(1)")
    fails("States.Base64Decode($.o)", {"o": {}})


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "5d41402abc4b2a76b9719d911017c592"),
        ("SHA-1", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
        ("SHA-256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        (
            "SHA-384",
            "59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f",
        ),
        (
            "SHA-512",
            "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"
            "2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043",
        ),
    ],
)
def test_hash_algorithms_give_lowercase_hex(algorithm: str, digest: str) -> None:
    assert run(f"States.Hash('hello', '{algorithm}')") == digest


@pytest.mark.parametrize("algorithm", ["'sha-256'", "'SHA256'", "'MD-5'", "''", "123"])
def test_hash_rejects_unknown_algorithms(algorithm: str) -> None:
    fails(f"States.Hash('data', {algorithm})")


def test_hash_input_limit() -> None:
    assert len(run("States.Hash($.s, 'MD5')", {"s": "a" * 10_000})) == 32
    fails("States.Hash($.s, 'MD5')", {"s": "a" * 10_001})


# --- math ----------------------------------------------------------------------------------


def test_math_add() -> None:
    assert run("States.MathAdd(111, -1)") == 110
    assert run("States.MathAdd($.a, $.b)", {"a": 1.6, "b": 2.7}) == 5  # rounded half up
    assert run("States.MathAdd(2147483646, 1)") == 2147483647
    assert run("States.MathAdd(-2147483647, -1)") == -2147483648


@pytest.mark.parametrize(
    "args",
    [
        "2147483647, 1",
        "-2147483648, -1",
        "3000000000, 0",
        "'1', 2",
        "null, 1",
        "true, 1",
        "1, States.Array()",
    ],
)
def test_math_add_failures(args: str) -> None:
    fails(f"States.MathAdd({args})")


def test_math_random_range_and_seed() -> None:
    values = {run("States.MathRandom(1, 4)") for _ in range(200)}
    assert values <= {1, 2, 3}
    assert run("States.MathRandom(1, 1000, 42)") == run("States.MathRandom(1, 1000, 42)")
    assert isinstance(run("States.MathRandom(1, 10, -10)"), int)
    assert {run("States.MathRandom(1.6, 5.4)") for _ in range(100)} <= {1, 2, 3, 4}


@pytest.mark.parametrize(
    "args", ["1, 1", "10, 5", "1.4, 1.6", "'a', 10", "1, 10, 'seed'", "1, 10, null"]
)
def test_math_random_failures(args: str) -> None:
    fails(f"States.MathRandom({args})")


# --- strings and ids -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delimiter", "tokens"),
    [
        ("a,b,c", ",", ["a", "b", "c"]),
        ("1+2,3.4", ".+,", ["1", "2", "3", "4"]),
        ("a,,b,", ",", ["a", "b"]),
        ("", ",", []),
        ("abc", "", ["abc"]),
    ],
)
def test_string_split_uses_delimiter_characters(
    text: str, delimiter: str, tokens: list[str]
) -> None:
    assert run("States.StringSplit($.s, $.d)", {"s": text, "d": delimiter}) == tokens


@pytest.mark.parametrize(
    "data", [{"s": 1, "d": ","}, {"s": "a", "d": None}, {"s": "a", "d": [","]}]
)
def test_string_split_failures(data: dict[str, Any]) -> None:
    fails("States.StringSplit($.s, $.d)", data)


def test_uuid_is_a_fresh_v4() -> None:
    first, second = run("States.UUID()"), run("States.UUID()")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )
    assert uuid.UUID(first).version == 4 and first != second
    fails("States.UUID(1)")
