"""DynamoDB Scan and Query (legacy KeyConditions) through boto3: order, pages, segments."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from ddb_support import create_table


@pytest.fixture()
def numbers(ddb: Any) -> str:
    """A table keyed by (pk: S, sk: N) with sort keys -5..14 in partition "p" and 3 in "q"."""
    name = create_table(ddb, "reads", ("sk", "N"))
    writes = [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(n)}}}} for n in range(-5, 15)
    ]
    writes += [
        {"PutRequest": {"Item": {"pk": {"S": "q"}, "sk": {"N": str(n / 2)}}}} for n in range(3)
    ]
    ddb.batch_write_item(RequestItems={name: writes[:20]})
    ddb.batch_write_item(RequestItems={name: writes[20:]})
    return name


def _sks(items: list[dict[str, Any]]) -> list[float]:
    return [float(i["sk"]["N"]) for i in items]


def test_query_returns_a_partition_in_numeric_sort_order(ddb: Any, numbers: str) -> None:
    eq_p = {"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}}
    result = ddb.query(TableName=numbers, KeyConditions=eq_p)
    assert _sks(result["Items"]) == list(range(-5, 15))
    assert result["Count"] == 20
    backward = ddb.query(TableName=numbers, KeyConditions=eq_p, ScanIndexForward=False)
    assert _sks(backward["Items"]) == list(range(14, -6, -1))
    between = dict(
        eq_p, sk={"AttributeValueList": [{"N": "-2"}, {"N": "3"}], "ComparisonOperator": "BETWEEN"}
    )
    assert _sks(ddb.query(TableName=numbers, KeyConditions=between)["Items"]) == list(range(-2, 4))
    gt = dict(eq_p, sk={"AttributeValueList": [{"N": "9.5"}], "ComparisonOperator": "GT"})
    assert _sks(ddb.query(TableName=numbers, KeyConditions=gt)["Items"]) == list(range(10, 15))


def test_query_pages_resume_after_the_last_key(ddb: Any, numbers: str) -> None:
    eq_p = {"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}}
    pages = ddb.get_paginator("query").paginate(
        TableName=numbers, KeyConditions=eq_p, PaginationConfig={"PageSize": 6}
    )
    seen = [sk for page in pages for sk in _sks(page["Items"])]
    assert seen == list(range(-5, 15))
    first = ddb.query(TableName=numbers, KeyConditions=eq_p, Limit=3, ScanIndexForward=False)
    assert first["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "12"}}
    nxt = ddb.query(
        TableName=numbers,
        KeyConditions=eq_p,
        Limit=3,
        ScanIndexForward=False,
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert _sks(nxt["Items"]) == [11, 10, 9]


def test_query_needs_an_equality_on_the_partition_key(ddb: Any, numbers: str) -> None:
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=numbers,
            KeyConditions={"sk": {"AttributeValueList": [{"N": "1"}], "ComparisonOperator": "EQ"}},
        )
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=numbers, KeyConditionExpression="pk = :p")
    assert e.value.response["Error"]["Message"] == (
        "Invalid KeyConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :p"
    )


def test_scan_pages_cover_the_table_once(ddb: Any, numbers: str) -> None:
    whole = ddb.scan(TableName=numbers)
    assert whole["Count"] == 23 and "LastEvaluatedKey" not in whole
    pages = ddb.get_paginator("scan").paginate(TableName=numbers, PaginationConfig={"PageSize": 4})
    keys = [(i["pk"]["S"], i["sk"]["N"]) for p in pages for i in p["Items"]]
    assert len(keys) == 23 and len(set(keys)) == 23


def test_parallel_scan_segments_partition_the_table(ddb: Any, numbers: str) -> None:
    seen: list[tuple[str, str]] = []
    for segment in range(3):
        pages = ddb.get_paginator("scan").paginate(
            TableName=numbers,
            Segment=segment,
            TotalSegments=3,
            PaginationConfig={"PageSize": 5},
        )
        seen += [(i["pk"]["S"], i["sk"]["N"]) for p in pages for i in p["Items"]]
    assert len(seen) == 23 and len(set(seen)) == 23
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=numbers, Segment=3, TotalSegments=3)
    assert "must be less than parameter TotalSegments" in e.value.response["Error"]["Message"]


def test_scan_counts_without_items(ddb: Any, numbers: str) -> None:
    result = ddb.scan(TableName=numbers, Select="COUNT")
    assert result["Count"] == 23 and "Items" not in result


def test_a_page_longer_than_the_inline_bound_is_whole_and_in_order(ddb: Any) -> None:
    # Pages of up to INLINE_ROWS rows are read on the event loop; a longer one is read again in
    # a worker thread. Either way the caller sees one whole page.
    from lambdamaker.services.dynamodb.read_ops import INLINE_ROWS

    name = create_table(ddb, "long")
    n = INLINE_ROWS + 44
    for start in range(0, n, 25):
        writes = [
            {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}}}}
            for i in range(start, min(n, start + 25))
        ]
        ddb.batch_write_item(RequestItems={name: writes})
    for forward in (True, False):
        page = ddb.query(
            TableName=name,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            ScanIndexForward=forward,
        )
        got = [int(i["sk"]["N"]) for i in page["Items"]]
        assert got == (list(range(n)) if forward else list(range(n))[::-1])
        assert page["Count"] == page["ScannedCount"] == n
        assert "LastEvaluatedKey" not in page
    small = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p AND sk < :n",
        ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"N": "5"}},
    )
    assert [int(i["sk"]["N"]) for i in small["Items"]] == [0, 1, 2, 3, 4]
