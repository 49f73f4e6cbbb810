"""EventBridge event patterns in-process: one table of (pattern, event, match?) per match type,
each row checked against the behaviour AWS documents for its matcher (aws/event-ruler)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdamaker.engines.events.patterns import EventPattern, InvalidEventPattern

Row = tuple[dict[str, Any], dict[str, Any], bool]


def check(rows: list[Row]) -> None:
    for pattern, event, expected in rows:
        got = EventPattern.compile(json.dumps(pattern)).matches(json.dumps(event))
        assert got is expected, (pattern, event, expected)


def test_exact_values_match_by_type() -> None:
    check([
        ({"a": ["x"]}, {"a": "x"}, True),
        ({"a": ["x"]}, {"a": "X"}, False),
        ({"a": ["x", "y"]}, {"a": "y"}, True),
        ({"a": ["5"]}, {"a": 5}, False),
        ({"a": [5]}, {"a": "5"}, False),
        ({"a": [5]}, {"a": 5.0}, True),
        ({"a": [5]}, {"a": 5.0000001}, True),  # six decimals, as ruler compares
        ({"a": [5]}, {"a": 5.01}, False),
        ({"a": [300]}, {"a": 3.0e2}, True),
        ({"a": [123456789012]}, {"a": 123456789012}, True),  # beyond 5e9: by literal text
        ({"a": [True]}, {"a": True}, True),
        ({"a": [True]}, {"a": "true"}, False),
        ({"a": [False]}, {"a": 0}, False),
        ({"a": [None]}, {"a": None}, True),
        ({"a": [None]}, {}, False),
        ({"a": ["x"]}, {}, False),
        ({"a": [""]}, {"a": ""}, True),
    ])  # fmt: skip


def test_every_field_must_match_and_nesting_descends() -> None:
    check([
        ({"a": ["x"], "b": ["y"]}, {"a": "x", "b": "y"}, True),
        ({"a": ["x"], "b": ["y"]}, {"a": "x", "b": "z"}, False),
        ({"detail": {"state": ["running"]}}, {"detail": {"state": "running"}}, True),
        ({"detail": {"state": ["running"]}}, {"detail": {"state": {"x": 1}}}, False),
        ({"detail": {"state": ["running"]}}, {"detail": "running"}, False),
        ({"a": {"b": {"c": [1]}}}, {"a": {"b": {"c": 1, "d": 2}}}, True),
    ])  # fmt: skip


def test_event_arrays_match_if_any_element_does() -> None:
    check([
        ({"r": ["arn:1"]}, {"r": ["arn:0", "arn:1"]}, True),
        ({"r": ["arn:2"]}, {"r": ["arn:0", "arn:1"]}, False),
        ({"r": ["x"]}, {"r": [["a", ["x"]]]}, True),
        ({"r": [{"exists": True}]}, {"r": []}, False),
        ({"r": [{"exists": False}]}, {"r": []}, True),
        ({"a": {"b": [1]}}, {"a": [{"b": 2}, {"b": 1}]}, True),
        # Array consistency: one pattern object matches within one element.
        ({"a": {"b": [1], "c": [2]}}, {"a": [{"b": 1}, {"c": 2}]}, False),
        ({"a": {"b": [1], "c": [2]}}, {"a": [{"b": 1}, {"b": 1, "c": 2}]}, True),
    ])  # fmt: skip


def test_prefix_and_suffix() -> None:
    check([
        ({"a": [{"prefix": "us-"}]}, {"a": "us-east-1"}, True),
        ({"a": [{"prefix": "us-"}]}, {"a": "eu-west-1"}, False),
        ({"a": [{"prefix": "us-"}]}, {"a": "US-east-1"}, False),
        ({"a": [{"prefix": ""}]}, {"a": "anything"}, True),
        ({"a": [{"prefix": "1"}]}, {"a": 12}, False),
        ({"a": [{"prefix": {"equals-ignore-case": "us-"}}]}, {"a": "US-east-1"}, True),
        ({"a": [{"suffix": ".png"}]}, {"a": "img.png"}, True),
        ({"a": [{"suffix": ".png"}]}, {"a": "img.PNG"}, False),
        ({"a": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"a": "img.PNG"}, True),
        ({"a": [{"suffix": ".png"}]}, {"a": "png"}, False),
    ])  # fmt: skip


def test_anything_but() -> None:
    check([
        ({"a": [{"anything-but": "x"}]}, {"a": "y"}, True),
        ({"a": [{"anything-but": "x"}]}, {"a": "x"}, False),
        ({"a": [{"anything-but": "x"}]}, {}, False),
        ({"a": [{"anything-but": "x"}]}, {"a": 5}, True),
        ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "y"}, False),
        ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "z"}, True),
        ({"a": [{"anything-but": 5}]}, {"a": 5.0}, False),
        ({"a": [{"anything-but": [1, 2]}]}, {"a": 3}, True),
        ({"a": [{"anything-but": [1, 2]}]}, {"a": "3"}, False),
        ({"a": [{"anything-but": {"prefix": "init"}}]}, {"a": "initializing"}, False),
        ({"a": [{"anything-but": {"prefix": "init"}}]}, {"a": "running"}, True),
        ({"a": [{"anything-but": {"suffix": ".txt"}}]}, {"a": "a.txt"}, False),
        ({"a": [{"anything-but": {"suffix": ".txt"}}]}, {"a": "a.png"}, True),
        ({"a": [{"anything-but": {"equals-ignore-case": "X"}}]}, {"a": "x"}, False),
        ({"a": [{"anything-but": {"equals-ignore-case": ["X", "y"]}}]}, {"a": "Y"}, False),
        ({"a": [{"anything-but": {"equals-ignore-case": ["X", "y"]}}]}, {"a": "z"}, True),
        ({"a": [{"anything-but": {"wildcard": "*.txt"}}]}, {"a": "a.txt"}, False),
        ({"a": [{"anything-but": {"wildcard": "*.txt"}}]}, {"a": "a.png"}, True),
    ])  # fmt: skip


def test_numeric_ranges() -> None:
    check([
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 0}, False),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 0.000001}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5.1}, False),
        ({"n": [{"numeric": [">=", 0, "<", 5]}]}, {"n": 0}, True),
        ({"n": [{"numeric": [">=", 0, "<", 5]}]}, {"n": 5}, False),
        ({"n": [{"numeric": ["<", 10]}]}, {"n": -1e9}, True),
        ({"n": [{"numeric": ["=", 301.8]}]}, {"n": 3.018e2}, True),
        ({"n": [{"numeric": [">", 0]}]}, {"n": "7"}, False),
        ({"n": [{"numeric": [">", 0]}]}, {"n": 6e9}, False),  # beyond the numeric range
        ({"n": [{"numeric": [">", 0]}]}, {"n": [-1, 3]}, True),
        ({"n": [{"numeric": [">", 0]}]}, {"n": True}, False),
    ])  # fmt: skip


def test_exists() -> None:
    check([
        ({"a": [{"exists": True}]}, {"a": "x"}, True),
        ({"a": [{"exists": True}]}, {"a": None}, True),
        ({"a": [{"exists": True}]}, {}, False),
        ({"a": [{"exists": True}]}, {"a": {"b": 1}}, False),  # objects are not leaves
        ({"a": [{"exists": False}]}, {}, True),
        ({"a": [{"exists": False}]}, {"a": "x"}, False),
        ({"a": {"b": [{"exists": False}]}}, {}, True),
        ({"a": {"b": [{"exists": False}]}}, {"a": {"c": 1}}, True),
        ({"a": {"b": [{"exists": False}]}}, {"a": {"b": 1}}, False),
        ({"a": [{"exists": False}, "x"]}, {"a": "x"}, True),
    ])  # fmt: skip


def test_cidr_and_ip_addresses() -> None:
    check([
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.255"}, True),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.1.0"}, False),
        ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "not-an-ip"}, False),
        ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:db8:ffff::1"}, True),
        ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:db9::1"}, False),
        ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "10.0.0.1"}, False),
        ({"ip": ["2001:db8::1"]}, {"ip": "2001:0db8:0:0:0:0:0:1"}, True),
    ])  # fmt: skip


def test_equals_ignore_case_and_wildcard() -> None:
    check([
        ({"a": [{"equals-ignore-case": "Alice"}]}, {"a": "aLiCe"}, True),
        ({"a": [{"equals-ignore-case": "Alice"}]}, {"a": "Alicia"}, False),
        ({"a": [{"wildcard": "dir/*.png"}]}, {"a": "dir/sub/a.png"}, True),
        ({"a": [{"wildcard": "dir/*.png"}]}, {"a": "dir/a.jpg"}, False),
        ({"a": [{"wildcard": "*"}]}, {"a": ""}, True),
        ({"a": [{"wildcard": "a\\*b"}]}, {"a": "a*b"}, True),
        ({"a": [{"wildcard": "a\\*b"}]}, {"a": "axb"}, False),
        ({"a": [{"wildcard": "a*b*c"}]}, {"a": "abc"}, True),
        ({"a": [{"wildcard": "a.c"}]}, {"a": "abc"}, False),
        ({"a": [{"wildcard": "*"}]}, {"a": 1}, False),
    ])  # fmt: skip


def test_or_combines_whole_sub_patterns() -> None:
    pattern = {
        "source": ["aws.cloudwatch"],
        "$or": [
            {"metricName": ["CPUUtilization", "ReadLatency"]},
            {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
            {"scope": ["Service"]},
        ],
    }
    check([
        (pattern, {"source": "aws.cloudwatch", "metricName": "ReadLatency"}, True),
        (pattern, {"source": "aws.cloudwatch", "metricType": "MetricType"}, False),
        (pattern, {"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/ES"}, True),
        (pattern, {"source": "other", "scope": "Service"}, False),
        ({"detail": {"$or": [{"c": [{"numeric": [">", 0]}]}, {"d": ["x"]}]}}, {"detail": {"d": "x"}}, True),
        ({"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}]}]}, {"c": "3"}, True),
    ])  # fmt: skip


INVALID = [
    ([], "Filter is not an object"),
    ({}, "Empty objects are not allowed"),
    ({"a": "x"}, '"a" must be an object or an array'),
    ({"a": []}, "Empty arrays are not allowed"),
    ({"a": [["x"]]}, "Match value must be String, number, true, false, or null"),
    ({"a": [{"prefix": 1}]}, "prefix match pattern must be a string"),
    ({"a": [{"suffix": None}]}, "suffix match pattern must be a string"),
    ({"a": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed in match expression"),
    ({"a": [{"nope": "a"}]}, "Unrecognized match type nope"),
    ({"a": [{"exists": "yes"}]}, "exists match pattern must be either true or false."),
    ({"a": [{"numeric": 5}]}, "Value of numeric must be an array."),
    ({"a": [{"numeric": [">", "x"]}]}, "Value of > must be numeric"),
    ({"a": [{"numeric": ["~", 1]}]}, "Unrecognized numeric range operator: ~"),
    ({"a": [{"numeric": [">", 1, ">", 2]}]}, "Bad numeric range operator: >"),
    ({"a": [{"numeric": ["<", 1, ">", 2]}]}, "Too many elements in numeric expression"),
    ({"a": [{"numeric": [">", 1, "<", 2, 3]}]}, "Too many terms in numeric range expression"),
    ({"a": [{"numeric": [">", 6e9]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"a": [{"anything-but": True}]}, "Value of anything-but must be an array or single string/number value."),
    ({"a": [{"anything-but": ["x", 1]}]}, "Inside anything but list, either all values are number or string, mixed type is not supported"),
    ({"a": [{"anything-but": [None]}]}, "Inside anything but list, start|null|boolean is not supported."),
    ({"a": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed"),
    ({"a": [{"anything-but": {"exists": True}}]}, "Unsupported anything-but pattern: exists"),
    ({"a": [{"wildcard": "a**b"}]}, "Consecutive wildcard characters at pos 2"),
    ({"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 1"),
    ({"a": [{"cidr": "10.0.0.0"}]}, "Malformed CIDR, one '/' required: 10.0.0.0"),
    ({"a": [{"cidr": "10.0.0.0/33"}]}, "Nonsensical CIDR IP address: 10.0.0.0/33"),
    ({"$or": {"a": ["x"]}}, "It must be an Array followed with $or."),
    ({"$or": [{"a": ["x"]}]}, "There must have at least 2 Objects in $or relationship."),
    ({"$or": [{"a": ["x"]}, "b"]}, "Only JSON object is allowed in array of $or relationship."),
    ({"$or": [{"prefix": ["x"]}, {"b": ["y"]}]}, "prefix is Ruler reserved fieldName which cannot be used inside $or."),
]  # fmt: skip


@pytest.mark.parametrize(("pattern", "reason"), INVALID)
def test_invalid_patterns_are_rejected_with_rulers_reason(pattern: Any, reason: str) -> None:
    with pytest.raises(InvalidEventPattern) as exc:
        EventPattern.compile(json.dumps(pattern))
    assert exc.value.reason == reason
    assert str(exc.value) == f"Event pattern is not valid. Reason: {reason}"


def test_malformed_json_is_an_invalid_pattern() -> None:
    with pytest.raises(InvalidEventPattern):
        EventPattern.compile('{"a": [')
    with pytest.raises(InvalidEventPattern):
        EventPattern.compile('{"a": [NaN]}')


def test_matching_never_raises_on_odd_events() -> None:
    pattern = EventPattern.compile('{"a": {"b": [{"numeric": [">", 0]}, {"prefix": "x"}]}}')
    for event in ("[]", "1", '{"a": [1, [2, {"b": [3]}]]}', '{"a": {"b": [[], {}, null]}}'):
        pattern.matches(event)
    assert pattern.matches('{"a": [1, [2, {"b": [3]}]]}')
