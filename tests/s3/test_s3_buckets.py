from __future__ import annotations

from datetime import UTC, datetime

import pytest
from s3_helpers import S3Caller, raises

from lambdamaker.services.s3 import S3Provider


def test_create_bucket_then_head_and_list_it(s3: S3Caller) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    assert s3.create_bucket(Bucket="alpha")["Location"] == "/alpha"
    assert s3.head_bucket(Bucket="alpha")["BucketRegion"] == "us-east-1"
    listed = s3.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["alpha"]
    assert listed["Buckets"][0]["CreationDate"] >= before
    assert len(listed["Owner"]["ID"]) == 64


def test_list_buckets_is_sorted_by_name(s3: S3Caller) -> None:
    for name in ("zeta", "alpha", "mid.dle"):
        s3.create_bucket(Bucket=name)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["alpha", "mid.dle", "zeta"]


def test_list_buckets_pages_with_max_buckets(s3: S3Caller) -> None:
    for name in ("b-1", "b-2", "b-3"):
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == ["b-1", "b-2"]
    second = s3.list_buckets(MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in second["Buckets"]] == ["b-3"]
    assert "ContinuationToken" not in second


def test_list_buckets_with_a_bad_token_is_invalid_argument(s3: S3Caller) -> None:
    with raises("InvalidArgument", 400):
        s3.list_buckets(ContinuationToken="garbage!")


def test_list_buckets_filters_by_prefix(s3: S3Caller) -> None:
    for name in ("logs-a", "logs-b", "data-a"):
        s3.create_bucket(Bucket=name)
    listed = s3.list_buckets(Prefix="logs-")
    assert [b["Name"] for b in listed["Buckets"]] == ["logs-a", "logs-b"]
    assert listed["Prefix"] == "logs-"


def test_list_buckets_shows_only_the_callers_account(s3: S3Caller) -> None:
    s3.create_bucket(Bucket="mine")
    other = S3Caller(s3.provider, account="111111111111")
    assert other.list_buckets()["Buckets"] == []


def test_recreating_own_bucket_in_us_east_1_succeeds(s3: S3Caller) -> None:
    s3.create_bucket(Bucket="again")
    assert s3.create_bucket(Bucket="again")["Location"] == "/again"


def test_recreating_own_bucket_outside_us_east_1_is_already_owned(s3: S3Caller) -> None:
    west = S3Caller(s3.provider, region="eu-west-1")
    west.create_bucket(
        Bucket="again", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    with raises("BucketAlreadyOwnedByYou", 409) as err:
        west.create_bucket(
            Bucket="again", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert err[0].fields["BucketName"] == "again"


def test_bucket_of_another_account_already_exists(s3: S3Caller) -> None:
    s3.create_bucket(Bucket="taken")
    other = S3Caller(s3.provider, account="111111111111")
    with raises("BucketAlreadyExists", 409):
        other.create_bucket(Bucket="taken")


def test_location_constraint_sets_region_and_location(s3: S3Caller) -> None:
    west = S3Caller(s3.provider, region="eu-west-2")
    west.create_bucket(Bucket="west", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    assert s3.get_bucket_location(Bucket="west") == {"LocationConstraint": "eu-west-2"}
    assert s3.head_bucket(Bucket="west")["BucketRegion"] == "eu-west-2"


def test_us_east_1_bucket_has_empty_location(s3: S3Caller, bucket: str) -> None:
    assert s3.get_bucket_location(Bucket=bucket) == {}


def test_eu_location_constraint_means_eu_west_1(s3: S3Caller) -> None:
    s3.create_bucket(Bucket="old-eu", CreateBucketConfiguration={"LocationConstraint": "EU"})
    assert s3.get_bucket_location(Bucket="old-eu") == {"LocationConstraint": "EU"}
    assert s3.head_bucket(Bucket="old-eu")["BucketRegion"] == "eu-west-1"


def test_naming_us_east_1_as_location_constraint_is_invalid(s3: S3Caller) -> None:
    with raises("InvalidLocationConstraint", 400):
        s3.create_bucket(
            Bucket="b-1", CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )


def test_regional_endpoint_needs_a_location_constraint(s3: S3Caller) -> None:
    west = S3Caller(s3.provider, region="us-west-2")
    with raises("IllegalLocationConstraintException", 400) as err:
        west.create_bucket(Bucket="b-1")
    assert "unspecified" in err[0].message


def test_regional_endpoint_rejects_another_regions_constraint(s3: S3Caller) -> None:
    west = S3Caller(s3.provider, region="us-west-2")
    with raises("IllegalLocationConstraintException", 400):
        west.create_bucket(
            Bucket="b-1", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )


def test_nonsense_location_constraint_is_invalid(s3: S3Caller) -> None:
    with raises("InvalidLocationConstraint", 400):
        s3.create_bucket(Bucket="b-1", CreateBucketConfiguration={"LocationConstraint": "mars"})


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "UpperCase",
        "under_score",
        "-leading",
        "trailing-",
        ".dot",
        "two..dots",
        "192.168.5.4",
        "xn--punycode",
        "sthree-bucket",
        "amzn-s3-demo-bucket",
        "name-s3alias",
        "name--ol-s3",
        "name.mrap",
        "name--x-s3",
        "spa ce",
    ],
)
def test_invalid_bucket_names_are_rejected(s3: S3Caller, name: str) -> None:
    with raises("InvalidBucketName", 400) as err:
        s3.create_bucket(Bucket=name)
    assert err[0].fields["BucketName"] == name
    assert s3.list_buckets()["Buckets"] == []


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my.bucket-1", "1numbers2", "192.168.5.4x"])
def test_valid_bucket_names_are_accepted(s3: S3Caller, name: str) -> None:
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)


def test_delete_bucket_removes_it(s3: S3Caller, bucket: str) -> None:
    assert s3.delete_bucket(Bucket=bucket) == {}
    with raises("NoSuchBucket", 404):
        s3.head_bucket(Bucket=bucket)


def test_delete_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404) as err:
        s3.delete_bucket(Bucket="nope")
    assert err[0].fields == {"BucketName": "nope"}


def test_delete_non_empty_bucket_is_bucket_not_empty(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with raises("BucketNotEmpty", 409):
        s3.delete_bucket(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_delete_bucket_discards_unfinished_uploads(s3: S3Caller, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"part")
    blobs = set(s3.provider.blobs.blob_ids())
    assert len(blobs) == 1
    s3.delete_bucket(Bucket=bucket)
    assert set(s3.provider.blobs.blob_ids()) == set()


def test_expected_bucket_owner_mismatch_is_access_denied(s3: S3Caller, bucket: str) -> None:
    with raises("AccessDenied", 403):
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner="999999999999")
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner="000000000000")


def test_head_missing_bucket_is_404(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.head_bucket(Bucket="nope")


def test_provider_is_registered_for_s3() -> None:
    from lambdamaker.services import provider_class

    assert provider_class("s3") is S3Provider
