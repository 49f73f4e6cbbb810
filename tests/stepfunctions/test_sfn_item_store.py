"""Distributed Map against this platform's S3 (boto3 against the server): ItemReader reads a
JSON / CSV object and an S3 listing, ResultWriter writes its manifest, and a missing key or
bucket fails the Map with the S3 error AWS names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sfn_support import distributed_map, run_to_end, unique


@pytest.fixture()
def s3(boto_client: Callable[..., Any]) -> Any:
    return boto_client("s3")


PASS = {"P": {"Type": "Pass", "End": True}}


def reader_map(reader: dict[str, Any], **extra: Any) -> str:
    return distributed_map(PASS, "P", ItemReader=reader, **extra)


def run(sfn: Any, definition: str, payload: dict[str, Any]) -> dict[str, Any]:
    return run_to_end(sfn, definition, payload)[2]


def bucket(s3: Any) -> str:
    name = unique("items")
    s3.create_bucket(Bucket=name)
    return name


GET_JSON = {
    "Resource": "arn:aws:states:::s3:getObject",
    "ReaderConfig": {"InputType": "JSON"},
    "Parameters": {"Bucket.$": "$.b", "Key.$": "$.k"},
}


def test_item_reader_reads_a_json_array_from_s3(sfn: Any, s3: Any) -> None:
    name = bucket(s3)
    s3.put_object(Bucket=name, Key="in/items.json", Body=json.dumps([{"a": 1}, {"a": 2}]))
    out = run(sfn, reader_map(GET_JSON), {"b": name, "k": "in/items.json"})
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == [{"a": 1}, {"a": 2}]


def test_item_reader_reads_csv_rows_as_objects(sfn: Any, s3: Any) -> None:
    name = bucket(s3)
    s3.put_object(Bucket=name, Key="rows.csv", Body=b"x,y\n1,2\n3,4\n")
    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket.$": "$.b", "Key": "rows.csv"},
    }
    out = run(sfn, reader_map(reader), {"b": name})
    assert out["status"] == "SUCCEEDED", out
    assert json.loads(out["output"]) == [{"x": "1", "y": "2"}, {"x": "3", "y": "4"}]


def test_item_reader_lists_objects_under_a_prefix(sfn: Any, s3: Any) -> None:
    name = bucket(s3)
    for key in ("p/b.txt", "p/a.txt", "q/c.txt"):
        s3.put_object(Bucket=name, Key=key, Body=b"12345")
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket.$": "$.b", "Prefix": "p/"},
    }
    out = run(sfn, reader_map(reader), {"b": name})
    assert out["status"] == "SUCCEEDED", out
    items = json.loads(out["output"])
    assert [item["Key"] for item in items] == ["p/a.txt", "p/b.txt"]
    assert all(item["Size"] == 5 and item["StorageClass"] == "STANDARD" for item in items)
    assert all(isinstance(item["LastModified"], int) and item["Etag"] for item in items)


def test_missing_key_fails_the_map_with_s3_no_such_key(sfn: Any, s3: Any) -> None:
    name = bucket(s3)
    out = run(sfn, reader_map(GET_JSON), {"b": name, "k": "absent.json"})
    assert out["status"] == "FAILED"
    assert out["error"] == "S3.NoSuchKey"
    assert "(Service: S3, Status Code: 404" in out["cause"]


def test_missing_bucket_fails_the_map_with_s3_no_such_bucket(sfn: Any) -> None:
    out = run(sfn, reader_map(GET_JSON), {"b": unique("nobucket"), "k": "x.json"})
    assert out["status"] == "FAILED"
    assert out["error"] == "S3.NoSuchBucket"


def test_result_writer_puts_the_manifest_in_s3(sfn: Any, s3: Any) -> None:
    name = bucket(s3)
    s3.put_object(Bucket=name, Key="items.json", Body=json.dumps([1, 2, 3]))
    writer = {
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": name, "Prefix": "out"},
        }
    }
    out = run(sfn, reader_map(GET_JSON, **writer), {"b": name, "k": "items.json"})
    assert out["status"] == "SUCCEEDED", out
    result = json.loads(out["output"])
    written = result["ResultWriterDetails"]
    assert written["Bucket"] == name
    manifest = json.loads(s3.get_object(Bucket=name, Key=written["Key"])["Body"].read())
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=name, Prefix="out/")["Contents"]]
    assert written["Key"] in keys
    assert manifest["ResultFiles"]["SUCCEEDED"], manifest
