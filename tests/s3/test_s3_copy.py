from __future__ import annotations

from datetime import timedelta

import pytest
from s3_helpers import S3Caller, raises

from lambdamaker.platform import Platform
from lambdamaker.services.s3.copy import parse_copy_source


@pytest.fixture()
def source(s3: S3Caller, bucket: str) -> str:
    s3.put_object(
        Bucket=bucket,
        Key="src/a b+c.txt",
        Body=b"source bytes",
        ContentType="text/plain",
        Metadata={"origin": "src"},
        CacheControl="max-age=5",
    )
    return "test-bucket/src/a%20b%2Bc.txt"


def test_copy_object_copies_bytes_and_metadata(s3: S3Caller, bucket: str, source: str) -> None:
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource=source)
    src = s3.head_object(Bucket=bucket, Key="src/a b+c.txt")
    assert out["CopyObjectResult"]["ETag"] == src["ETag"]
    assert out["CopyObjectResult"]["LastModified"] >= src["LastModified"]
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert s3.body(got) == b"source bytes"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"origin": "src"}
    assert got["CacheControl"] == "max-age=5"


def test_copy_source_may_start_with_a_slash(s3: S3Caller, bucket: str, source: str) -> None:
    s3.copy_object(Bucket=bucket, Key="dst", CopySource="/" + source)
    assert s3.body(s3.get_object(Bucket=bucket, Key="dst")) == b"source bytes"


def test_copy_with_replace_directive_uses_request_metadata(
    s3: S3Caller, bucket: str, source: str
) -> None:
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        MetadataDirective="REPLACE",
        Metadata={"new": "yes"},
        ContentType="application/json",
    )
    got = s3.head_object(Bucket=bucket, Key="dst")
    assert got["Metadata"] == {"new": "yes"}
    assert got["ContentType"] == "application/json"
    assert "CacheControl" not in got


def test_copy_with_copy_directive_ignores_request_metadata(
    s3: S3Caller, bucket: str, source: str
) -> None:
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, Metadata={"ignored": "1"})
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"origin": "src"}


def test_unknown_metadata_directive_is_invalid_argument(
    s3: S3Caller, bucket: str, source: str
) -> None:
    with raises("InvalidArgument", 400):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, MetadataDirective="MERGE")


def test_copy_onto_itself_without_changes_is_invalid_request(
    s3: S3Caller, bucket: str, source: str
) -> None:
    with raises("InvalidRequest", 400) as err:
        s3.copy_object(Bucket=bucket, Key="src/a b+c.txt", CopySource=source)
    assert "copy an object to itself" in err[0].message


def test_copy_onto_itself_with_replaced_metadata_updates_it(
    s3: S3Caller, bucket: str, source: str, platform: Platform
) -> None:
    s3.copy_object(
        Bucket=bucket,
        Key="src/a b+c.txt",
        CopySource=source,
        MetadataDirective="REPLACE",
        Metadata={"v": "2"},
    )
    got = s3.get_object(Bucket=bucket, Key="src/a b+c.txt")
    assert got["Metadata"] == {"v": "2"}
    assert s3.body(got) == b"source bytes"
    assert len(list(platform.blobs("s3").blob_ids())) == 1


def test_copy_onto_itself_changing_storage_class_is_allowed(
    s3: S3Caller, bucket: str, source: str
) -> None:
    s3.copy_object(Bucket=bucket, Key="src/a b+c.txt", CopySource=source, StorageClass="GLACIER_IR")
    assert s3.head_object(Bucket=bucket, Key="src/a b+c.txt")["StorageClass"] == "GLACIER_IR"


def test_copy_from_missing_key_is_no_such_key(s3: S3Caller, bucket: str) -> None:
    with raises("NoSuchKey", 404):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/missing")


def test_copy_from_missing_bucket_is_no_such_bucket(s3: S3Caller, bucket: str) -> None:
    with raises("NoSuchBucket", 404) as err:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource="nope/key")
    assert err[0].fields["BucketName"] == "nope"


def test_copy_into_missing_bucket_is_no_such_bucket(
    s3: S3Caller, bucket: str, source: str, platform: Platform
) -> None:
    with raises("NoSuchBucket", 404):
        s3.copy_object(Bucket="nope", Key="dst", CopySource=source)
    assert len(list(platform.blobs("s3").blob_ids())) == 1


@pytest.mark.parametrize("value", ["just-a-bucket", "bucket/", "/", ""])
def test_copy_source_without_bucket_and_key_is_invalid_argument(
    s3: S3Caller, bucket: str, value: str
) -> None:
    with raises("InvalidArgument", 400):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=value)


def test_copy_source_version_id_null_is_accepted(s3: S3Caller, bucket: str, source: str) -> None:
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=source + "?versionId=null")
    with raises("InvalidArgument", 400):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source + "?versionId=abc")


def test_parse_copy_source_decodes_the_key() -> None:
    assert parse_copy_source("b/dir/a%20b%3Fc?versionId=null") == ("b", "dir/a b?c", "null")


def test_copy_source_if_match_mismatch_is_precondition_failed(
    s3: S3Caller, bucket: str, source: str
) -> None:
    with raises("PreconditionFailed", 412):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfMatch='"nope"')


def test_copy_source_if_none_match_hit_is_precondition_failed_not_304(
    s3: S3Caller, bucket: str, source: str
) -> None:
    etag = s3.head_object(Bucket=bucket, Key="src/a b+c.txt")["ETag"]
    with raises("PreconditionFailed", 412):
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, CopySourceIfNoneMatch=etag)


def test_copy_source_date_conditions(s3: S3Caller, bucket: str, source: str) -> None:
    last = s3.head_object(Bucket=bucket, Key="src/a b+c.txt")["LastModified"]
    hour = timedelta(hours=1)
    with raises("PreconditionFailed", 412):
        s3.copy_object(
            Bucket=bucket, Key="dst", CopySource=source, CopySourceIfModifiedSince=last + hour
        )
    with raises("PreconditionFailed", 412):
        s3.copy_object(
            Bucket=bucket, Key="dst", CopySource=source, CopySourceIfUnmodifiedSince=last - hour
        )
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        CopySourceIfModifiedSince=last - hour,
        CopySourceIfUnmodifiedSince=last + hour,
    )


def test_copy_source_if_match_true_overrides_if_unmodified_since(
    s3: S3Caller, bucket: str, source: str
) -> None:
    head = s3.head_object(Bucket=bucket, Key="src/a b+c.txt")
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource=source,
        CopySourceIfMatch=head["ETag"],
        CopySourceIfUnmodifiedSince=head["LastModified"] - timedelta(hours=1),
    )


def test_copy_keeps_full_object_checksum_and_can_add_one(
    s3: S3Caller, bucket: str, source: str
) -> None:
    out = s3.copy_object(Bucket=bucket, Key="dst", CopySource=source, ChecksumAlgorithm="SHA256")
    assert "ChecksumSHA256" in out["CopyObjectResult"]
    again = s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/dst")
    assert again["CopyObjectResult"]["ChecksumSHA256"] == out["CopyObjectResult"]["ChecksumSHA256"]


def test_copy_of_multipart_object_gets_a_plain_md5_etag(s3: S3Caller, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"abc")[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    out = s3.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/mp")
    assert out["CopyObjectResult"]["ETag"] == '"900150983cd24fb0d6963f7d28e17f72"'
