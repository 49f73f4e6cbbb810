from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime

import pytest
from s3_helpers import S3Caller, raises, spooled

from lambdamaker.gateway.protocol.body import Body
from lambdamaker.platform import Platform


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_put_then_get_returns_bytes_etag_and_defaults(s3: S3Caller, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello world")
    assert put["ETag"] == f'"{hashlib.md5(b"hello world").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="hello.txt")
    assert s3.body(got) == b"hello world"
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == 11
    assert got["ContentType"] == "binary/octet-stream"
    assert got["AcceptRanges"] == "bytes"
    assert got["LastModified"] <= datetime.now(UTC)
    assert "__http_status__" not in got


def test_put_object_stores_content_headers_and_metadata(s3: S3Caller, bucket: str) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    s3.put_object(
        Bucket=bucket,
        Key="doc",
        Body=b"{}",
        ContentType="application/json",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="doc.json"',
        ContentEncoding="identity",
        ContentLanguage="en",
        Expires=expires,
        Metadata={"Owner": "alice", "stage": "raw"},
        WebsiteRedirectLocation="/other",
    )
    head = s3.head_object(Bucket=bucket, Key="doc")
    assert head["ContentType"] == "application/json"
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="doc.json"'
    assert head["ContentEncoding"] == "identity"
    assert head["ContentLanguage"] == "en"
    assert head["Expires"] == expires
    assert head["Metadata"] == {"owner": "alice", "stage": "raw"}
    assert head["WebsiteRedirectLocation"] == "/other"
    assert "Body" not in head


def test_aws_chunked_is_not_stored_as_content_encoding(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", ContentEncoding="aws-chunked")
    assert "ContentEncoding" not in s3.head_object(Bucket=bucket, Key="a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"x", ContentEncoding="gzip,aws-chunked")
    assert s3.head_object(Bucket=bucket, Key="b")["ContentEncoding"] == "gzip"


def test_put_object_with_matching_md5_is_accepted(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=md5_b64(b"data"))


def test_put_object_with_bad_md5_is_rejected_and_keeps_nothing(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    with raises("BadDigest", 400) as err:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=md5_b64(b"other"))
    assert err[0].fields["CalculatedDigest"] == md5_b64(b"data")
    with raises("NoSuchKey", 404):
        s3.head_object(Bucket=bucket, Key="k")
    assert list(platform.blobs("s3").blob_ids()) == []


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_put_object_with_malformed_md5_is_invalid_digest(
    s3: S3Caller, bucket: str, value: str
) -> None:
    with raises("InvalidDigest", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=value)


def test_spooled_body_is_moved_into_place_not_copied(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    body = spooled(platform, b"x" * 100_000)
    spool_path = body.path
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    assert spool_path is not None and not spool_path.exists()
    assert s3.body(s3.get_object(Bucket=bucket, Key="big")) == b"x" * 100_000


def test_rejected_spooled_body_is_discarded(s3: S3Caller, bucket: str, platform: Platform) -> None:
    body = spooled(platform, b"payload")
    with raises("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=body, ContentMD5=md5_b64(b"nope"))
    assert list(platform.config.tmp_dir.iterdir()) == []


def test_put_object_larger_than_5_gib_is_entity_too_large(s3: S3Caller, bucket: str) -> None:
    huge = Body(path=None, size=5 * 1024**3 + 1, md5="0" * 32)
    with raises("EntityTooLarge", 400) as err:
        s3.put_object(Bucket=bucket, Key="huge", Body=huge)
    assert err[0].fields["ProposedSize"] == 5 * 1024**3 + 1


def test_key_longer_than_1024_utf8_bytes_is_key_too_long(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="é" * 512, Body=b"ok")  # exactly 1024 bytes
    with raises("KeyTooLongError", 400) as err:
        s3.put_object(Bucket=bucket, Key="é" * 512 + "x", Body=b"no")
    assert err[0].fields == {"Size": 1025, "MaxSizeAllowed": 1024}


def test_put_object_into_missing_bucket_is_no_such_bucket(s3: S3Caller, platform: Platform) -> None:
    with raises("NoSuchBucket", 404) as err:
        s3.put_object(Bucket="nope", Key="k", Body=b"x")
    assert err[0].fields["BucketName"] == "nope"
    assert list(platform.blobs("s3").blob_ids()) == []


def test_metadata_over_2_kb_is_metadata_too_large(s3: S3Caller, bucket: str) -> None:
    with raises("MetadataTooLarge", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"big": "v" * 2048})


def test_invalid_storage_class_is_rejected(s3: S3Caller, bucket: str) -> None:
    with raises("InvalidStorageClass", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="COLD")


def test_storage_class_is_stored_and_returned(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD_IA")
    assert s3.head_object(Bucket=bucket, Key="k")["StorageClass"] == "STANDARD_IA"
    s3.put_object(Bucket=bucket, Key="std", Body=b"x")
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="std")  # S3 omits STANDARD


def test_overwrite_replaces_object_and_deletes_old_blob(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", Metadata={"v": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert s3.body(got) == b"two"
    assert "Metadata" not in got
    assert len(list(platform.blobs("s3").blob_ids())) == 1


def test_get_stream_opened_before_an_overwrite_still_reads_the_old_bytes(
    s3: S3Caller, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"old bytes")
    got = s3.get_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"new bytes")
    assert s3.body(got) == b"old bytes"
    assert s3.body(s3.get_object(Bucket=bucket, Key="k")) == b"new bytes"


def test_unsent_get_body_releases_its_file(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    got = s3.get_object(Bucket=bucket, Key="k")
    got["Body"].close()
    del got  # must not warn (warnings are errors) nor leak the descriptor


def test_get_missing_key_is_no_such_key_with_key_field(s3: S3Caller, bucket: str) -> None:
    with raises("NoSuchKey", 404) as err:
        s3.get_object(Bucket=bucket, Key="missing/key")
    assert err[0].fields == {"Key": "missing/key"}


def test_get_in_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.get_object(Bucket="nope", Key="k")
    with raises("NoSuchBucket", 404):
        s3.head_object(Bucket="nope", Key="k")


def test_head_missing_key_is_404(s3: S3Caller, bucket: str) -> None:
    with raises("NoSuchKey", 404):
        s3.head_object(Bucket=bucket, Key="missing")


def test_response_overrides_replace_returned_headers(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentType="text/plain")
    expires = datetime(2031, 5, 6, tzinfo=UTC)
    got = s3.get_object(
        Bucket=bucket,
        Key="k",
        ResponseContentType="application/x-test",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
        ResponseContentEncoding="br",
        ResponseContentLanguage="fr",
        ResponseExpires=expires,
    )
    assert got["ContentType"] == "application/x-test"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache"
    assert got["ContentEncoding"] == "br"
    assert got["ContentLanguage"] == "fr"
    assert got["Expires"] == expires
    assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "text/plain"


def test_version_id_null_is_the_only_version(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.get_object(Bucket=bucket, Key="k", VersionId="null")
    with raises("InvalidArgument", 400):
        s3.get_object(Bucket=bucket, Key="k", VersionId="3HL4kqtJlcpXroDTDmJ")


# --- checksums ----------------------------------------------------------------------------------


def test_put_object_with_crc32_stores_and_returns_it(s3: S3Caller, bucket: str) -> None:
    value = crc32_b64(b"payload")
    put = s3.put_object(
        Bucket=bucket, Key="k", Body=b"payload", ChecksumCRC32=value, ChecksumAlgorithm="CRC32"
    )
    assert put["ChecksumCRC32"] == value
    assert put["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == value
    assert "ChecksumCRC32" not in s3.get_object(Bucket=bucket, Key="k")


def test_ranged_get_does_not_return_the_whole_object_checksum(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"payload", ChecksumCRC32=crc32_b64(b"payload"))
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range="bytes=0-1")
    assert "ChecksumCRC32" not in got


def test_put_object_with_wrong_crc32_is_bad_digest(s3: S3Caller, bucket: str) -> None:
    with raises("BadDigest", 400) as err:
        s3.put_object(Bucket=bucket, Key="k", Body=b"payload", ChecksumCRC32=crc32_b64(b"other"))
    assert "CRC32" in err[0].message


def test_put_object_with_sha256_is_verified(s3: S3Caller, bucket: str) -> None:
    good = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    assert (
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ChecksumSHA256=good)["ChecksumSHA256"]
        == good
    )
    with raises("BadDigest", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=b"abd", ChecksumSHA256=good)


def test_malformed_checksum_value_is_invalid_request(s3: S3Caller, bucket: str) -> None:
    with raises("InvalidRequest", 400):
        s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ChecksumCRC32="AAAA")


def test_two_checksums_are_invalid_request(s3: S3Caller, bucket: str) -> None:
    with raises("InvalidRequest", 400):
        s3.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"abc",
            ChecksumCRC32=crc32_b64(b"abc"),
            ChecksumSHA1=base64.b64encode(hashlib.sha1(b"abc").digest()).decode(),
        )


def test_checksum_algorithm_without_value_is_computed(s3: S3Caller, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ChecksumAlgorithm="SHA1")
    assert put["ChecksumSHA1"] == base64.b64encode(hashlib.sha1(b"abc").digest()).decode()


def test_checksum_we_cannot_compute_is_stored_as_sent(s3: S3Caller, bucket: str) -> None:
    value = base64.b64encode(b"\x01" * 8).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc", ChecksumCRC64NVME=value)
    got = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumCRC64NVME"] == value


# --- conditional writes -------------------------------------------------------------------------


def test_if_none_match_star_refuses_to_overwrite(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    with raises("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    assert s3.body(s3.get_object(Bucket=bucket, Key="k")) == b"first"


def test_if_match_on_put_needs_the_current_etag(s3: S3Caller, bucket: str) -> None:
    with raises("NoSuchKey", 404):
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", IfMatch='"abc"')
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["ETag"]
    with raises("PreconditionFailed", 412):
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch='"0123"')
    s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)
    assert s3.body(s3.get_object(Bucket=bucket, Key="k")) == b"two"


# --- deletes ------------------------------------------------------------------------------------


def test_delete_object_is_idempotent(s3: S3Caller, bucket: str, platform: Platform) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="k") == {}
    assert s3.delete_object(Bucket=bucket, Key="k") == {}
    with raises("NoSuchKey", 404):
        s3.get_object(Bucket=bucket, Key="k")
    assert list(platform.blobs("s3").blob_ids()) == []


def test_delete_object_in_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.delete_object(Bucket="nope", Key="k")


def test_conditional_delete_checks_the_etag(s3: S3Caller, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ETag"]
    with raises("PreconditionFailed", 412):
        s3.delete_object(Bucket=bucket, Key="k", IfMatch='"ffff"')
    s3.delete_object(Bucket=bucket, Key="k", IfMatch=etag)


def test_delete_objects_reports_each_key(s3: S3Caller, bucket: str) -> None:
    for key in ("a", "b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never-existed"}]},
    )
    assert [d["Key"] for d in out["Deleted"]] == ["a", "b", "never-existed"]
    assert "Errors" not in out
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_delete_objects_quiet_mode_reports_only_errors(s3: S3Caller, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "k" * 1025}], "Quiet": True},
    )
    assert "Deleted" not in out
    assert out["Errors"] == [
        {"Key": "k" * 1025, "Code": "KeyTooLongError", "Message": "Your key is too long"}
    ]


def test_delete_objects_with_a_bad_version_reports_it_per_key(s3: S3Caller, bucket: str) -> None:
    out = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": "v1"}, {"Key": "b"}]}
    )
    assert [e["Code"] for e in out["Errors"]] == ["InvalidArgument"]
    assert [d["Key"] for d in out["Deleted"]] == ["b"]


@pytest.mark.parametrize("count", [0, 1001])
def test_delete_objects_needs_1_to_1000_keys(s3: S3Caller, bucket: str, count: int) -> None:
    with raises("MalformedXML", 400):
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(count)]}
        )


def test_delete_objects_in_missing_bucket_is_no_such_bucket(s3: S3Caller) -> None:
    with raises("NoSuchBucket", 404):
        s3.delete_objects(Bucket="nope", Delete={"Objects": [{"Key": "a"}]})
