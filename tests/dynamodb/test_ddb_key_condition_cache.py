"""The KeyConditionExpression parse cache (``key_conditions._PARSED_KEYS``, a
``parse_cache.ParseCache``): a hit gives what parsing again gives, for the same key schema only;
an entry is made on a key's second parse; errors and unused placeholders are refused on every
request."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import create_table

from lambdamaker.errors import ServiceError, ValidationError
from lambdamaker.services.dynamodb import expressions as expr
from lambdamaker.services.dynamodb import key_conditions as kc
from lambdamaker.services.dynamodb.expressions import RequestExpressions

SCHEMA = [("pk", "S"), ("sk", "S")]
QUERY = {
    "KeyConditionExpression": "#p = :p AND begins_with(sk, :s)",
    "ExpressionAttributeNames": {"#p": "pk"},
    "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"S": "x"}},
}


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    expr._PARSED.clear()
    kc._PARSED_KEYS.clear()


def _conditions(params: dict[str, Any], schema: list[tuple[str, str]] = SCHEMA) -> Any:
    expressions = RequestExpressions(params, defer_finish=True)
    out = kc.expression_conditions(params["KeyConditionExpression"], schema, expressions)
    return out, expressions


def _fresh(params: dict[str, Any], schema: list[tuple[str, str]] = SCHEMA) -> Any:
    expr._PARSED.clear()
    kc._PARSED_KEYS.clear()
    try:
        return _conditions(params, schema)
    finally:
        expr._PARSED.clear()
        kc._PARSED_KEYS.clear()


def test_a_cached_key_condition_equals_a_fresh_one() -> None:
    first, _ = _conditions(QUERY)
    assert not kc._PARSED_KEYS  # seen once: no entry yet
    again, _ = _conditions(QUERY)
    assert len(kc._PARSED_KEYS) == 1
    entry = next(iter(kc._PARSED_KEYS.values()))
    second, expressions = _conditions(QUERY)
    assert len(kc._PARSED_KEYS) == 1 and next(iter(kc._PARSED_KEYS.values())) is entry
    assert again == first
    fresh, fresh_expressions = _fresh(QUERY)
    assert (
        first
        == second
        == fresh
        == {
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
            "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]},
        }
    )
    assert second["pk"]["AttributeValueList"] is not first["pk"]["AttributeValueList"]
    assert expressions.attrs.used_names == fresh_expressions.attrs.used_names == {"#p"}
    assert expressions.attrs.used_values == fresh_expressions.attrs.used_values == {":p", ":s"}


def test_other_values_texts_or_schemas_are_other_entries() -> None:
    hash_only = {
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": "pk"},
        "ExpressionAttributeValues": {":p": {"S": "a"}},
    }
    expected = _fresh(hash_only, [("pk", "S")])[0]
    other = {**QUERY, "ExpressionAttributeValues": {":p": {"S": "b"}, ":s": {"S": "x"}}}
    for _ in range(3):
        _conditions(QUERY)
        assert _conditions(other)[0]["pk"]["AttributeValueList"] == [{"S": "b"}]
        # The same request against another key schema (an index keyed by sk, pk): parsed again.
        swapped = [("sk", "S"), ("pk", "S")]
        with pytest.raises(ValidationError, match="Query key condition not supported"):
            _conditions(QUERY, swapped)
        assert _conditions(hash_only, [("pk", "S")])[0] == expected
        with pytest.raises(ValidationError, match="missed key schema element: other"):
            _conditions(hash_only, [("other", "S")])
    assert len(kc._PARSED_KEYS) == 3  # failures are not entries


@pytest.mark.parametrize(
    ("params", "schema", "message"),
    [
        (
            {**QUERY, "ExpressionAttributeNames": {"#p": "pk", "#x": "x"}},
            SCHEMA,
            "unused in expressions: keys: {#x}",
        ),
        (
            {
                **QUERY,
                "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"S": "x"}, ":u": {"S": "u"}},
            },
            SCHEMA,
            "unused in expressions: keys: {:u}",
        ),
        ({**QUERY, "KeyConditionExpression": "#p = :p AND sk = :missing"}, SCHEMA, ":missing"),
        (
            {**QUERY, "ExpressionAttributeValues": {":p": {"S": "a"}, ":s": {"N": "1"}}},
            [("pk", "S"), ("sk", "N")],
            "operator or function: begins_with, operand type: N",
        ),
    ],
)
def test_errors_are_raised_on_every_request(
    params: dict[str, Any], schema: list[tuple[str, str]], message: str
) -> None:
    for _ in range(3):
        with pytest.raises(ServiceError, match=re.escape(message)):
            _conditions(params, schema)


def test_uncacheable_requests_are_parsed_every_time() -> None:
    big = {**QUERY, "ExpressionAttributeValues": {":p": {"S": "a" * 5000}, ":s": {"S": "x"}}}
    for _ in range(2):
        assert _conditions(big)[0]["pk"]["AttributeValueList"] == [{"S": "a" * 5000}]
    assert not kc._PARSED_KEYS


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kc._PARSED_KEYS, "size", 3)
    for n in range(10):
        for _ in range(2):
            _conditions(
                {**QUERY, "ExpressionAttributeValues": {":p": {"S": f"{n}"}, ":s": {"S": "x"}}}
            )
        assert 0 < len(kc._PARSED_KEYS) <= 3
        assert kc._PARSED_KEYS.seen() <= 24


def test_one_off_queries_leave_no_entries() -> None:
    for n in range(20):
        params = {**QUERY, "ExpressionAttributeValues": {":p": {"S": f"{n}"}, ":s": {"S": "x"}}}
        assert _conditions(params)[0]["pk"]["AttributeValueList"] == [{"S": f"{n}"}]
    assert not kc._PARSED_KEYS and not expr._PARSED


def test_repeated_queries_through_the_server(ddb: Any) -> None:
    table = create_table(ddb, "kcache", ("sk", "S"))
    for pk in ("a", "b"):
        for sk in ("x1", "x2", "y1"):
            ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    for _ in range(2):
        for pk in ("a", "b"):
            got = ddb.query(
                TableName=table,
                **{**QUERY, "ExpressionAttributeValues": {":p": {"S": pk}, ":s": {"S": "x"}}},
            )
            assert [i["sk"]["S"] for i in got["Items"]] == ["x1", "x2"]
            assert {i["pk"]["S"] for i in got["Items"]} == {pk}
        with pytest.raises(ClientError, match=re.escape("unused in expressions: keys: {#x}")):
            ddb.query(
                TableName=table, **{**QUERY, "ExpressionAttributeNames": {"#p": "pk", "#x": "x"}}
            )
