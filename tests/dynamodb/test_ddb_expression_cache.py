"""RequestExpressions' fast paths: a request without expressions parses nothing, and a cached
parse gives exactly what parsing again gives (trees, used placeholders, errors)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lambdamaker.errors import ServiceError, ValidationError
from lambdamaker.services.dynamodb import expressions as expr
from lambdamaker.services.dynamodb.expressions import RequestExpressions


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    expr._PARSED.clear()


def _fresh(params: dict[str, Any], **kwargs: Any) -> RequestExpressions:
    """Parsed without the cache (emptied first, emptied after)."""
    expr._PARSED.clear()
    try:
        return RequestExpressions(params, **kwargs)
    finally:
        expr._PARSED.clear()


def _same(a: RequestExpressions, b: RequestExpressions) -> None:
    assert (a.update, a.condition, a.filter, a.projection) == (
        b.update,
        b.condition,
        b.filter,
        b.projection,
    )
    assert a.present == b.present
    assert a.attrs.names == b.attrs.names and a.attrs.values == b.attrs.values
    assert a.attrs.used_names == b.attrs.used_names
    assert a.attrs.used_values == b.attrs.used_values


def test_no_expression_parameters_parse_nothing() -> None:
    plain = RequestExpressions({"TableName": "t", "Item": {"a": {"S": "x"}}})
    assert not plain.present
    assert (plain.update, plain.condition, plain.filter, plain.projection) == (None,) * 4
    assert plain.attrs.names == {} and plain.attrs.values == {}
    plain.finish()
    assert not expr._PARSED


def test_parameters_given_as_none_count_as_absent() -> None:
    given = RequestExpressions({"ConditionExpression": None, "ExpressionAttributeNames": None})
    assert not given.present and given.condition is None


UPDATE = {
    "UpdateExpression": "SET #v = :v, c = c + :one REMOVE gone",
    "ConditionExpression": "attribute_exists(#v) AND size(l) > :one",
    "ProjectionExpression": "#v, c",
    "ExpressionAttributeNames": {"#v": "v"},
    "ExpressionAttributeValues": {
        ":v": {"M": {"b": {"B": b"\x00\x01"}, "l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
        ":one": {"N": "1"},
    },
}


def test_a_cached_parse_equals_a_fresh_one() -> None:
    first = RequestExpressions(UPDATE)
    assert len(expr._PARSED) == 1
    second = RequestExpressions(UPDATE)
    assert second.update is first.update  # from the cache
    _same(second, _fresh(UPDATE))


def test_different_values_or_names_are_different_entries() -> None:
    RequestExpressions(UPDATE)
    other_values = {**UPDATE, "ExpressionAttributeValues": {":v": {"S": "1"}, ":one": {"N": "1"}}}
    got = RequestExpressions(other_values)
    _same(got, _fresh(other_values))
    assert got.update is not None and got.update.sets[0][1].value == {"S": "1"}  # type: ignore[union-attr]
    # A string "1" and a number "1", bytes and text: never the same entry.
    as_number = {**UPDATE, "ExpressionAttributeValues": {":v": {"N": "1"}, ":one": {"N": "1"}}}
    assert RequestExpressions(as_number).update.sets[0][1].value == {"N": "1"}  # type: ignore[union-attr]
    as_text = {**UPDATE, "ExpressionAttributeValues": {":v": {"B": "AA=="}, ":one": {"N": "1"}}}
    as_bytes = {**UPDATE, "ExpressionAttributeValues": {":v": {"B": b"AA=="}, ":one": {"N": "1"}}}
    assert expr._cache_key((None,), None, as_text["ExpressionAttributeValues"]) != expr._cache_key(
        (None,), None, as_bytes["ExpressionAttributeValues"]
    )
    renamed = {**UPDATE, "ExpressionAttributeNames": {"#v": "w"}}
    _same(RequestExpressions(renamed), _fresh(renamed))
    keys = {
        expr._cache_key(
            (p["UpdateExpression"], p["ConditionExpression"], None, p["ProjectionExpression"]),
            p["ExpressionAttributeNames"],
            p["ExpressionAttributeValues"],
        )
        for p in (UPDATE, other_values, as_number, renamed)
    }
    assert len(keys) == 4 and None not in keys


@pytest.mark.parametrize("repeat", [1, 2])
def test_unused_placeholders_are_refused_on_every_hit(repeat: int) -> None:
    params = {
        "ConditionExpression": "attribute_exists(a)",
        "ExpressionAttributeNames": {"#unused": "x"},
    }
    for _ in range(repeat + 1):
        with pytest.raises(
            ValidationError, match=re.escape("unused in expressions: keys: {#unused}")
        ):
            RequestExpressions(params)


def test_a_deferred_finish_counts_later_parses() -> None:
    params = {
        "FilterExpression": "#a = :a",
        "ExpressionAttributeNames": {"#a": "a", "#k": "k"},
        "ExpressionAttributeValues": {":a": {"S": "x"}},
    }
    for _ in range(2):
        deferred = RequestExpressions(params, defer_finish=True)
        assert deferred.attrs.used_names == {"#a"}
        deferred.attrs.name("#k")  # as the KeyConditionExpression's parse marks it
        deferred.finish()
    with pytest.raises(ValidationError, match=re.escape("keys: {#k}")):
        RequestExpressions(params)


def test_errors_are_raised_every_time_and_not_cached() -> None:
    bad = {"ConditionExpression": "a = :missing", "ExpressionAttributeValues": {":x": {"S": "1"}}}
    messages = set()
    for _ in range(2):
        with pytest.raises(ServiceError) as caught:
            RequestExpressions(bad)
        messages.add(str(caught.value))
    assert len(messages) == 1 and not expr._PARSED
    invalid_value = {"ConditionExpression": "a = :x", "ExpressionAttributeValues": {":x": {}}}
    for _ in range(2):
        with pytest.raises(ServiceError, match="ExpressionAttributeValues contains invalid value"):
            RequestExpressions(invalid_value)


def test_unusual_or_large_inputs_are_parsed_but_not_cached() -> None:
    big = {"ConditionExpression": "a = :x", "ExpressionAttributeValues": {":x": {"S": "y" * 5000}}}
    nested = {
        "ConditionExpression": "a = :x",
        "ExpressionAttributeValues": {":x": {"L": [{"S": "y" * 5000}]}},
    }
    odd = {"ConditionExpression": "a = :x", "ExpressionAttributeValues": {":x": {"N": 1}}}
    for params in (big, nested):
        assert RequestExpressions(params).condition is not None
    with pytest.raises(ServiceError):
        RequestExpressions(odd)
    assert not expr._PARSED


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expr._PARSED, "size", 3)
    for n in range(10):
        RequestExpressions({"ProjectionExpression": f"a{n}"})
        assert len(expr._PARSED) <= 3
