"""Conditional reads and ranges, as S3 documents them for GetObject and HeadObject."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from s3_helpers import S3Caller, raises

from lambdamaker.services.s3.conditions import ByteRange, parse_range


@pytest.fixture()
def obj(s3: S3Caller, bucket: str) -> tuple[str, datetime]:
    """A 10-byte object: (quoted etag, last modified)."""
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")["ETag"]
    return etag, s3.head_object(Bucket=bucket, Key="k")["LastModified"]


HOUR = timedelta(hours=1)


@pytest.mark.parametrize("operation", ["get_object", "head_object"])
def test_if_match_with_another_etag_is_precondition_failed(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime], operation: str
) -> None:
    with raises("PreconditionFailed", 412) as err:
        getattr(s3, operation)(Bucket=bucket, Key="k", IfMatch='"deadbeef"')
    assert err[0].fields["Condition"] == "If-Match"


def test_if_match_accepts_lists_stars_and_unquoted_etags(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    etag = obj[0]
    for value in (etag, etag.strip('"'), "*", f'"other", {etag}', f"W/{etag}"):
        s3.get_object(Bucket=bucket, Key="k", IfMatch=value)


def test_if_none_match_with_current_etag_is_not_modified(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    with raises("NotModified", 304) as err:
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=obj[0])
    assert err[0].headers["ETag"] == obj[0]
    assert "GMT" in err[0].headers["Last-Modified"]
    s3.get_object(Bucket=bucket, Key="k", IfNoneMatch='"other"')


def test_if_modified_since_a_later_date_is_not_modified(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    last = obj[1]
    with raises("NotModified", 304):
        s3.head_object(Bucket=bucket, Key="k", IfModifiedSince=last)
    with raises("NotModified", 304):
        s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=last + HOUR)
    s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=last - HOUR)


def test_if_unmodified_since_an_earlier_date_is_precondition_failed(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    last = obj[1]
    with raises("PreconditionFailed", 412) as err:
        s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=last - HOUR)
    assert err[0].fields["Condition"] == "If-Unmodified-Since"
    s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=last)


def test_if_match_true_overrides_a_false_if_unmodified_since(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    etag, last = obj
    got = s3.get_object(Bucket=bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=last - HOUR)
    assert s3.body(got) == b"0123456789"


def test_if_none_match_false_with_if_modified_since_true_is_not_modified(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    etag, last = obj
    with raises("NotModified", 304):
        s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag, IfModifiedSince=last - HOUR)


def test_if_none_match_true_ignores_if_modified_since(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    s3.get_object(Bucket=bucket, Key="k", IfNoneMatch='"other"', IfModifiedSince=obj[1] + HOUR)


def test_precondition_failed_wins_over_not_modified(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    with raises("PreconditionFailed", 412):
        s3.get_object(Bucket=bucket, Key="k", IfMatch='"other"', IfNoneMatch=obj[0])


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "content_range", "body"),
    [
        ("bytes=0-3", "bytes 0-3/10", b"0123"),
        ("bytes=7-", "bytes 7-9/10", b"789"),
        ("bytes=-3", "bytes 7-9/10", b"789"),
        ("bytes=8-100", "bytes 8-9/10", b"89"),
        ("bytes=-100", "bytes 0-9/10", b"0123456789"),
        ("bytes=5-5", "bytes 5-5/10", b"5"),
    ],
)
def test_range_get_returns_206_with_content_range(
    s3: S3Caller,
    bucket: str,
    obj: tuple[str, datetime],
    header: str,
    content_range: str,
    body: bytes,
) -> None:
    got = s3.get_object(Bucket=bucket, Key="k", Range=header)
    assert got["__http_status__"] == 206
    assert got["ContentRange"] == content_range
    assert got["ContentLength"] == len(body)
    assert s3.body(got) == body


def test_range_head_returns_206_with_content_range(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    got = s3.head_object(Bucket=bucket, Key="k", Range="bytes=2-4")
    assert (got["__http_status__"], got["ContentRange"], got["ContentLength"]) == (
        206,
        "bytes 2-4/10",
        3,
    )


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_unsatisfiable_range_is_invalid_range(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime], header: str
) -> None:
    with raises("InvalidRange", 416) as err:
        s3.get_object(Bucket=bucket, Key="k", Range=header)
    assert err[0].fields == {"RangeRequested": header, "ActualObjectSize": 10}


@pytest.mark.parametrize(
    "header", ["bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=a-b", "bytes=-"]
)
def test_unusable_range_header_is_ignored(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime], header: str
) -> None:
    got = s3.get_object(Bucket=bucket, Key="k", Range=header)
    assert "__http_status__" not in got
    assert s3.body(got) == b"0123456789"


def test_range_on_empty_object_is_invalid_range(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    with raises("InvalidRange", 416):
        s3.get_object(Bucket=bucket, Key="empty", Range="bytes=0-")
    assert s3.body(s3.get_object(Bucket=bucket, Key="empty")) == b""


def test_conditions_are_checked_before_the_range(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    with raises("NotModified", 304):
        s3.get_object(Bucket=bucket, Key="k", Range="bytes=100-", IfNoneMatch="*")


def test_part_number_one_of_a_simple_object_is_the_whole_object(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    got = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
    assert s3.body(got) == b"0123456789"
    assert got["ContentRange"] == "bytes 0-9/10"
    with raises("InvalidPartNumber", 416):
        s3.get_object(Bucket=bucket, Key="k", PartNumber=2)


def test_part_number_with_range_is_invalid_request(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    with raises("InvalidRequest", 400):
        s3.get_object(Bucket=bucket, Key="k", PartNumber=1, Range="bytes=0-1")


def test_part_number_out_of_bounds_is_invalid_argument(
    s3: S3Caller, bucket: str, obj: tuple[str, datetime]
) -> None:
    with raises("InvalidArgument", 400):
        s3.get_object(Bucket=bucket, Key="k", PartNumber=10001)


def test_parse_range_clamps_the_end_to_the_object() -> None:
    assert parse_range("bytes=3-99", 5) == ByteRange(3, 4)
    assert parse_range("Bytes = 1 - 2", 5) == ByteRange(1, 2)
    assert ByteRange(3, 4).length == 2
