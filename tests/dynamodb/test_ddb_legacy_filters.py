"""The legacy ``QueryFilter`` / ``ScanFilter`` (with ``ConditionalOperator``) through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import create_table, error_of


@pytest.fixture()
def table(ddb: Any) -> str:
    name = create_table(ddb, "legacy-filters", ("sk", "N"))
    for i in range(10):
        item = {"pk": {"S": "p"}, "sk": {"N": str(i)}, "n": {"N": str(i * 10)}}
        if i % 2:
            item["odd"] = {"BOOL": True}
        ddb.put_item(TableName=name, Item=item)
    return name


def _sks(page: dict[str, Any]) -> list[int]:
    return sorted(int(i["sk"]["N"]) for i in page["Items"])


def test_scan_filter_and_or(ddb: Any, table: str) -> None:
    filters = {
        "n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "50"}]},
        "odd": {"ComparisonOperator": "NOT_NULL"},
    }
    page = ddb.scan(TableName=table, ScanFilter=filters)
    assert _sks(page) == [5, 7, 9]
    assert page["ScannedCount"] == 10
    page = ddb.scan(TableName=table, ScanFilter=filters, ConditionalOperator="OR")
    assert _sks(page) == [1, 3, 5, 6, 7, 8, 9]


def test_query_filter_applies_after_the_key_condition(ddb: Any, table: str) -> None:
    page = ddb.query(
        TableName=table,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={
            "n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "20"}, {"N": "60"}]}
        },
    )
    assert _sks(page) == [2, 3, 4, 5, 6]
    assert page["ScannedCount"] == 10


def test_query_filter_on_a_key_attribute_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.query(
            TableName=table,
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
            QueryFilter={"sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}},
        )
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "QueryFilter can only contain non-primary key attributes" in message


def test_scan_filter_with_a_filter_expression_is_refused(ddb: Any, table: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        ddb.scan(
            TableName=table,
            ScanFilter={"n": {"ComparisonOperator": "NOT_NULL"}},
            FilterExpression="attribute_exists(n)",
        )
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "Can not use both expression and non-expression parameters" in message
