"""The legacy ``Expected`` / ``ConditionalOperator`` on PutItem, DeleteItem and UpdateItem through
boto3, and ``legacy.filter_condition`` (QueryFilter / ScanFilter) as a pure function."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import create_table, error_of

from lambdamaker.errors import ServiceError
from lambdamaker.services.dynamodb.legacy import filter_condition

KEY = {"pk": {"S": "k"}}
ITEM = dict(
    KEY,
    n={"N": "5"},
    s={"S": "hello"},
    b={"B": b"\x01\x02\x03"},
    ss={"SS": ["a", "b"]},
    l={"L": [{"S": "x"}, {"N": "1"}]},
)


@pytest.fixture()
def table(ddb: Any) -> str:
    name = create_table(ddb, "legacy", None)
    ddb.put_item(TableName=name, Item=ITEM)
    return name


def _holds(ddb: Any, table: str, expected: dict[str, Any], operator: str | None = None) -> bool:
    """Whether an UpdateItem guarded by ``expected`` went through."""
    extra = {"ConditionalOperator": operator} if operator else {}
    try:
        ddb.update_item(
            TableName=table,
            Key=KEY,
            AttributeUpdates={"touched": {"Value": {"N": "1"}, "Action": "ADD"}},
            Expected=expected,
            **extra,
        )
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
        return False
    return True


def _op(op: str, *values: dict[str, Any]) -> dict[str, Any]:
    return {"ComparisonOperator": op, "AttributeValueList": list(values)}


CASES = [
    ("n", _op("EQ", {"N": "5"}), True),
    ("n", _op("EQ", {"S": "5"}), False),
    ("n", _op("NE", {"N": "4"}), True),
    ("missing", _op("NE", {"N": "4"}), True),
    ("n", _op("NE", {"N": "5"}), False),
    ("n", _op("LT", {"N": "6"}), True),
    ("n", _op("LE", {"N": "5"}), True),
    ("n", _op("GT", {"N": "5"}), False),
    ("n", _op("GE", {"N": "5"}), True),
    ("s", _op("LT", {"N": "6"}), False),
    ("s", _op("GT", {"S": "apple"}), True),
    ("b", _op("GE", {"B": b"\x01"}), True),
    ("n", _op("NOT_NULL"), True),
    ("missing", _op("NOT_NULL"), False),
    ("missing", _op("NULL"), True),
    ("n", _op("NULL"), False),
    ("s", _op("CONTAINS", {"S": "ell"}), True),
    ("ss", _op("CONTAINS", {"S": "b"}), True),
    ("l", _op("CONTAINS", {"N": "1"}), True),
    ("ss", _op("CONTAINS", {"S": "z"}), False),
    ("ss", _op("NOT_CONTAINS", {"S": "z"}), True),
    ("s", _op("NOT_CONTAINS", {"S": "ell"}), False),
    ("missing", _op("NOT_CONTAINS", {"S": "z"}), False),
    ("s", _op("BEGINS_WITH", {"S": "he"}), True),
    ("s", _op("BEGINS_WITH", {"S": "lo"}), False),
    ("b", _op("BEGINS_WITH", {"B": b"\x01\x02"}), True),
    ("n", _op("IN", {"N": "1"}, {"N": "5"}), True),
    ("n", _op("IN", {"N": "1"}, {"S": "5"}), False),
    ("n", _op("BETWEEN", {"N": "1"}, {"N": "5"}), True),
    ("n", _op("BETWEEN", {"N": "6"}, {"N": "9"}), False),
    ("s", _op("BETWEEN", {"S": "a"}, {"S": "z"}), True),
    ("n", {"Value": {"N": "5"}}, True),
    ("n", {"Value": {"N": "5"}, "Exists": True}, True),
    ("n", {"Value": {"N": "6"}, "Exists": True}, False),
    ("missing", {"Exists": False}, True),
    ("n", {"Exists": False}, False),
    ("n", {"ComparisonOperator": "GT", "Value": {"N": "1"}}, True),
]


@pytest.mark.parametrize(("name", "condition", "holds"), CASES)
def test_expected_comparison_operators(
    ddb: Any, table: str, name: str, condition: dict[str, Any], holds: bool
) -> None:
    assert _holds(ddb, table, {name: condition}) is holds


def test_conditional_operator_and_or(ddb: Any, table: str) -> None:
    true, false = {"Value": {"N": "5"}}, {"Exists": False}
    assert _holds(ddb, table, {"n": true, "s": _op("EQ", {"S": "hello"})}) is True
    assert _holds(ddb, table, {"n": true, "s": false}) is False
    assert _holds(ddb, table, {"n": true, "s": false}, "AND") is False
    assert _holds(ddb, table, {"n": true, "s": false}, "OR") is True
    assert _holds(ddb, table, {"n": false, "s": false}, "OR") is False


def test_put_and_delete_honour_expected(ddb: Any, table: str) -> None:
    other = {"pk": {"S": "other"}}
    ddb.put_item(TableName=table, Item=other, Expected={"pk": {"Exists": False}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table,
            Item=dict(other, v={"N": "1"}),
            Expected={"pk": {"Exists": False}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    assert e.value.response["Item"] == other
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key=KEY, Expected={"n": {"Value": {"N": "6"}}})
    assert error_of(e)[0] == "ConditionalCheckFailedException"
    ddb.delete_item(TableName=table, Key=KEY, Expected={"n": {"Value": {"N": "5"}}})
    assert "Item" not in ddb.get_item(TableName=table, Key=KEY)


def test_update_expression_with_expected_is_allowed_only_without_condition_expression(
    ddb: Any, table: str
) -> None:
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table,
            Item=KEY,
            Expected={"n": {"Exists": True, "Value": {"N": "5"}}},
            ConditionExpression="attribute_exists(pk)",
        )
    assert error_of(e) == (
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
    )


INVALID = [
    (
        {"a": {"Exists": True}},
        None,
        "1 validation error detected: One or more parameter values were invalid: Value must be "
        "provided when Exists is true for Attribute: a",
    ),
    (
        {"a": {}},
        None,
        "1 validation error detected: One or more parameter values were invalid: Value must be "
        "provided when Exists is null for Attribute: a",
    ),
    (
        {"a": {"Exists": False, "Value": {"N": "1"}}},
        None,
        "1 validation error detected: One or more parameter values were invalid: Value cannot be "
        "used when Exists is false for Attribute: a",
    ),
    (
        {"a": {"Exists": True, "ComparisonOperator": "NULL"}},
        None,
        "1 validation error detected: One or more parameter values were invalid: Exists and "
        "ComparisonOperator cannot be used together for Attribute: a",
    ),
    (
        {"a": {"AttributeValueList": [{"N": "1"}]}},
        None,
        "1 validation error detected: One or more parameter values were invalid: "
        "AttributeValueList can only be used with a ComparisonOperator for Attribute: a",
    ),
    (
        {"a": _op("EQ")},
        None,
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
        "ComparisonOperator",
    ),
    (
        {"a": _op("NULL", {"N": "1"})},
        None,
        "One or more parameter values were invalid: Invalid number of argument(s) for the NULL "
        "ComparisonOperator",
    ),
    (
        {"a": _op("BETWEEN", {"N": "1"})},
        None,
        "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN "
        "ComparisonOperator",
    ),
    (
        {"a": _op("LT", {"SS": ["x"]})},
        None,
        "One or more parameter values were invalid: ComparisonOperator LT is not valid for SS "
        "AttributeValue type",
    ),
    (
        {"a": {"Value": {"N": "1"}}},
        "OR",
        "ConditionalOperator can only be used when Filter or Expected has two or more elements",
    ),
]


@pytest.mark.parametrize(("expected", "operator", "message"), INVALID)
def test_malformed_expected_is_refused_and_writes_nothing(
    ddb: Any, table: str, expected: dict[str, Any], operator: str | None, message: str
) -> None:
    extra = {"ConditionalOperator": operator} if operator else {}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "fresh"}}, Expected=expected, **extra)
    assert error_of(e) == ("ValidationException", message)
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "fresh"}})


def test_conditional_operator_without_expected_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key=KEY, ConditionalOperator="AND")
    assert error_of(e) == (
        "ValidationException",
        "ConditionalOperator cannot be used without Filter or Expected",
    )


def test_filter_condition_evaluates_like_a_filter_expression() -> None:
    filters = {
        "n": _op("GT", {"N": "3"}),
        "s": _op("BEGINS_WITH", {"S": "he"}),
    }
    both = filter_condition(filters, None)
    assert both is not None
    assert both.evaluate(ITEM)
    assert not both.evaluate(dict(ITEM, s={"S": "bye"}))
    either = filter_condition(filters, "OR")
    assert either is not None
    assert either.evaluate(dict(ITEM, s={"S": "bye"}))
    assert not either.evaluate({"n": {"N": "1"}})
    assert filter_condition(None, None) is None


def test_filter_condition_refuses_bad_arity() -> None:
    with pytest.raises(ServiceError) as e:
        filter_condition({"n": _op("IN")}, None)
    assert e.value.code == "ValidationException"
