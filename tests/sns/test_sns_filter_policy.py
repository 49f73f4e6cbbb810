"""The SNS filter policy language, in-process: matching tables for both scopes, and the
validation messages AWS gives for malformed policies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdamaker.engines.events.filter_policy import FilterPolicyError, parse_filter_policy


def s(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def n(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def arr(*values: Any) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(list(values))}


ATTRIBUTE_CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"store": ["example_corp"]}, {"store": s("example_corp")}, True),
    ({"store": ["example_corp"]}, {"store": s("Example_Corp")}, False),
    ({"store": ["example_corp"]}, {}, False),
    ({"store": ["a", "b"]}, {"store": s("b")}, True),
    ({"store": ["a"], "event": ["x"]}, {"store": s("a"), "event": s("y")}, False),
    ({"store": ["a"], "event": ["x"]}, {"store": s("a"), "event": s("x")}, True),
    ({"price": [210.75]}, {"price": n("210.75")}, True),
    ({"price": [210.75]}, {"price": s("210.75")}, False),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": n("150")}, True),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": n("150.5")}, False),
    ({"price": [{"numeric": ["=", 5]}]}, {"price": n("5.0")}, True),
    ({"price": [{"numeric": ["<", 0]}]}, {"price": s("-1")}, False),
    ({"tags": ["rugby"]}, {"tags": arr("soccer", "rugby")}, True),
    ({"tags": ["golf"]}, {"tags": arr("soccer", "rugby")}, False),
    ({"tags": [{"prefix": "rug"}]}, {"tags": arr("soccer", "rugby")}, True),
    ({"event": [{"prefix": "order-"}]}, {"event": s("order-placed")}, True),
    ({"event": [{"suffix": "-placed"}]}, {"event": s("order-placed")}, True),
    ({"event": [{"suffix": "-placed"}]}, {"event": s("order-cancelled")}, False),
    ({"event": [{"equals-ignore-case": "ORDER"}]}, {"event": s("order")}, True),
    ({"event": [{"anything-but": "order"}]}, {"event": s("refund")}, True),
    ({"event": [{"anything-but": "order"}]}, {"event": s("order")}, False),
    ({"event": [{"anything-but": "order"}]}, {}, False),
    ({"event": [{"anything-but": ["a", "b"]}]}, {"event": s("b")}, False),
    ({"event": [{"anything-but": ["a", "b"]}]}, {"event": s("c")}, True),
    ({"price": [{"anything-but": [100, 200]}]}, {"price": n("100")}, False),
    ({"price": [{"anything-but": [100, 200]}]}, {"price": n("150")}, True),
    ({"event": [{"anything-but": {"prefix": "order"}}]}, {"event": s("order-1")}, False),
    ({"event": [{"anything-but": {"prefix": "order"}}]}, {"event": s("refund")}, True),
    ({"event": [{"anything-but": {"suffix": ".tmp"}}]}, {"event": s("a.tmp")}, False),
    ({"event": [{"exists": True}]}, {"event": s("x")}, True),
    ({"event": [{"exists": True}]}, {}, False),
    ({"event": [{"exists": False}]}, {}, True),
    ({"event": [{"exists": False}]}, {"event": s("x")}, False),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("10.0.0.255")}, True),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("10.0.1.0")}, False),
    ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": s("2001:db8::1")}, True),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("not-an-ip")}, False),
    ({"blob": [{"exists": True}]}, {"blob": {"DataType": "Binary", "BinaryValue": b"x"}}, False),
    (
        {"source": ["aws.cloudwatch"], "$or": [{"metric": ["CPU"]}, {"ns": ["EC2"]}]},
        {"source": s("aws.cloudwatch"), "ns": s("EC2")},
        True,
    ),
    (
        {"source": ["aws.cloudwatch"], "$or": [{"metric": ["CPU"]}, {"ns": ["EC2"]}]},
        {"source": s("aws.cloudwatch"), "ns": s("S3")},
        False,
    ),
    ({}, {}, True),
]


@pytest.mark.parametrize(("policy", "attributes", "expected"), ATTRIBUTE_CASES)
def test_attribute_policies_match_as_sns_does(
    policy: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    compiled = parse_filter_policy(json.dumps(policy), "MessageAttributes")
    assert compiled.matches("any body", attributes) is expected


def test_attributes_in_the_notification_shape_match_too() -> None:
    compiled = parse_filter_policy('{"store": ["a"]}')
    assert compiled.matches("", {"store": {"Type": "String", "Value": "a"}})


BODY = {
    "store": "example_corp",
    "price": 120,
    "customer": {"interests": ["rugby", "football"], "tier": "gold", "ip": "192.168.1.7"},
    "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 5}],
    "flag": True,
    "gone": None,
}

BODY_CASES: list[tuple[dict[str, Any], bool]] = [
    ({"store": ["example_corp"]}, True),
    ({"store": ["other"]}, False),
    ({"price": [120]}, True),
    ({"price": ["120"]}, False),
    ({"price": [{"numeric": [">=", 100, "<", 200]}]}, True),
    ({"customer": {"tier": ["gold"]}}, True),
    ({"customer": {"tier": ["silver"]}}, False),
    ({"customer": {"interests": ["rugby"]}}, True),
    ({"customer": {"interests": [{"prefix": "foot"}]}}, True),
    ({"customer": {"ip": [{"cidr": "192.168.0.0/16"}]}}, True),
    ({"customer": {"missing": [{"exists": False}]}}, True),
    ({"customer": {"tier": [{"exists": True}]}}, True),
    ({"customer": ["gold"]}, False),
    ({"items": {"sku": ["B2"]}}, True),
    ({"items": {"sku": ["C3"]}}, False),
    ({"flag": [True]}, True),
    ({"flag": [False]}, False),
    ({"gone": [None]}, True),
    ({"absent": {"deeper": [{"exists": False}]}}, True),
    ({"absent": {"deeper": ["x"]}}, False),
    ({"$or": [{"store": ["nope"]}, {"customer": {"tier": ["gold"]}}]}, True),
    ({"$or": [{"store": ["nope"]}, {"customer": {"tier": ["silver"]}}]}, False),
]


@pytest.mark.parametrize(("policy", "expected"), BODY_CASES)
def test_body_policies_match_nested_json(policy: dict[str, Any], expected: bool) -> None:
    compiled = parse_filter_policy(json.dumps(policy), "MessageBody")
    assert compiled.matches(json.dumps(BODY)) is expected


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"a string"'])
def test_a_body_that_is_no_json_object_never_matches(body: str) -> None:
    assert not parse_filter_policy('{"a": [{"exists": false}]}', "MessageBody").matches(body)


INVALID: list[tuple[str, str, str]] = [
    ("{not json", "MessageAttributes", "FilterPolicy: failed to parse JSON."),
    ("[1]", "MessageAttributes", "FilterPolicy: Filter policy must be a JSON object"),
    (
        json.dumps({f"k{i}": ["v"] for i in range(6)}),
        "MessageAttributes",
        "FilterPolicy: Filter policy can not have more than 5 keys",
    ),
    (
        json.dumps({"a": list(range(10)), "b": list(range(10)), "c": list(range(2))}),
        "MessageAttributes",
        "FilterPolicy: Filter policy is too complex",
    ),
    (
        json.dumps({"a": {"b": {"c": ["1", "2", "3", "4"]}}, "d": {"e": list("abcdefg")}}),
        "MessageBody",
        "FilterPolicy: Filter policy is too complex",
    ),
    (
        '{"a": {"b": ["x"]}}',
        "MessageAttributes",
        "Filter policy scope MessageAttributes does not support nested filter policy",
    ),
    ('{"a": "x"}', "MessageAttributes", 'FilterPolicy: "a" must be an object or an array'),
    ('{"a": []}', "MessageAttributes", "FilterPolicy: Empty arrays are not allowed"),
    (
        '{"a": [["x"]]}',
        "MessageAttributes",
        "FilterPolicy: Match value must be String, number, true, false, or null",
    ),
    (
        '{"a": [{"prefix": "x", "suffix": "y"}]}',
        "MessageAttributes",
        "FilterPolicy: Only one key allowed in match expression",
    ),
    ('{"a": [{"wildcard": "x*"}]}', "MessageAttributes", "Unrecognized match type wildcard"),
    ('{"a": [{"prefix": 1}]}', "MessageAttributes", "prefix match pattern must be a string"),
    ('{"a": [{"exists": "yes"}]}', "MessageAttributes", "exists match pattern must be"),
    ('{"a": [{"numeric": ["~", 1]}]}', "MessageAttributes", "numeric range operator: ~"),
    ('{"a": [{"numeric": [">", "x"]}]}', "MessageAttributes", "Value of > must be numeric"),
    ('{"a": [{"numeric": ["=", "x"]}]}', "MessageAttributes", "Value of equals must be numeric"),
    ('{"a": [{"numeric": [">", 5, "<", 1]}]}', "MessageAttributes", "Bottom must be less than top"),
    (
        '{"a": [{"numeric": ["<", 5, "<", 9]}]}',
        "MessageAttributes",
        "Too many elements in numeric expression",
    ),
    ('{"a": [{"numeric": [">", 0, ">", 9]}]}', "MessageAttributes", "Bad numeric range operator"),
    ('{"a": [{"cidr": "10.0.0.1"}]}', "MessageAttributes", "Malformed CIDR, one '/' required"),
    ('{"a": [{"cidr": "10.0.0.300/8"}]}', "MessageAttributes", "Nonstandard IP address"),
    ('{"a": [{"anything-but": []}]}', "MessageAttributes", "Empty arrays are not allowed"),
    ('{"a": [{"anything-but": [true]}]}', "MessageAttributes", "Inside anything but list"),
    ('{"$or": [{"a": ["x"]}]}', "MessageAttributes", '"$or" must be an array'),
]


@pytest.mark.parametrize(("text", "scope", "message"), INVALID)
def test_malformed_policies_are_refused_with_aws_messages(
    text: str, scope: str, message: str
) -> None:
    with pytest.raises(FilterPolicyError) as exc:
        parse_filter_policy(text, scope)
    assert message in str(exc.value)


def test_nested_combinations_follow_the_documented_formula() -> None:
    # AWS's example: 4 values three levels deep and 3 values two levels deep: 3*4*2*3 = 72.
    policy = {"a": {"b": {"c": ["1", "2", "3", "4"]}}, "d": {"e": ["1", "2", "3"]}}
    parse_filter_policy(json.dumps(policy), "MessageBody")
