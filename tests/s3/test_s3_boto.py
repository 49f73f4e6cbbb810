"""S3 through the real server with boto3: every operation, and the errors a user would see."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import timedelta
from typing import Any

import boto3
import pytest
from s3_helpers import client_error

from lambdamaker.testing import ServerProcess

MiB = 1024 * 1024


# --- buckets ------------------------------------------------------------------------------------


def test_bucket_lifecycle(s3c: Any) -> None:
    name = "it-lifecycle-bucket"
    assert s3c.create_bucket(Bucket=name)["Location"] == f"/{name}"
    assert s3c.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = s3c.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert listed["Owner"]["ID"]
    assert s3c.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    assert s3c.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with client_error("404", 404):
        s3c.head_bucket(Bucket=name)


def test_bucket_in_another_region(lm_server: ServerProcess) -> None:
    key, secret = lm_server.credentials()
    west = boto3.client(
        "s3",
        endpoint_url=lm_server.endpoint_url,
        region_name="eu-west-2",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    name = "it-west-bucket"
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    try:
        assert west.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-2"
        assert west.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-2"
        with client_error("IllegalLocationConstraintException", 400):
            west.create_bucket(Bucket="it-west-unspecified")
    finally:
        west.delete_bucket(Bucket=name)


def test_bucket_errors(s3c: Any, live_bucket: str) -> None:
    with client_error("InvalidBucketName", 400) as err:
        s3c.create_bucket(Bucket="Invalid_Bucket")
    assert err[0]["Error"]["BucketName"] == "Invalid_Bucket"
    with client_error("NoSuchBucket", 404) as err:
        s3c.delete_bucket(Bucket="it-does-not-exist")
    assert err[0]["Error"]["BucketName"] == "it-does-not-exist"
    s3c.put_object(Bucket=live_bucket, Key="k", Body=b"x")
    with client_error("BucketNotEmpty", 409):
        s3c.delete_bucket(Bucket=live_bucket)


def test_naming_us_east_1_as_location_constraint_is_invalid_location_constraint(s3c: Any) -> None:
    with client_error("InvalidLocationConstraint", 400):
        s3c.create_bucket(
            Bucket="it-bad-location", CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )


def test_recreating_a_bucket_in_us_east_1_returns_200(s3c: Any, live_bucket: str) -> None:
    assert s3c.create_bucket(Bucket=live_bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


# --- objects ------------------------------------------------------------------------------------


def test_put_get_head_with_metadata_and_content_headers(s3c: Any, live_bucket: str) -> None:
    put = s3c.put_object(
        Bucket=live_bucket,
        Key="dir/file name é.json",
        Body=b'{"a": 1}',
        ContentType="application/json",
        CacheControl="max-age=30",
        ContentDisposition="attachment",
        ContentLanguage="en",
        Metadata={"Stage": "raw", "run-id": "42"},
    )
    assert put["ETag"] == '"' + hashlib.md5(b'{"a": 1}').hexdigest() + '"'
    got = s3c.get_object(Bucket=live_bucket, Key="dir/file name é.json")
    assert got["Body"].read() == b'{"a": 1}'
    assert got["ContentType"] == "application/json"
    assert got["CacheControl"] == "max-age=30"
    assert got["ContentDisposition"] == "attachment"
    assert got["ContentLanguage"] == "en"
    assert got["Metadata"] == {"stage": "raw", "run-id": "42"}
    assert got["ETag"] == put["ETag"]
    head = s3c.head_object(Bucket=live_bucket, Key="dir/file name é.json")
    assert head["ContentLength"] == 8
    assert head["LastModified"] == got["LastModified"]


def test_boto3_default_crc32_is_verified_and_returned(s3c: Any, live_bucket: str) -> None:
    put = s3c.put_object(Bucket=live_bucket, Key="k", Body=b"checked")
    assert put["ChecksumCRC32"]
    got = s3c.get_object(Bucket=live_bucket, Key="k", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    assert got["Body"].read() == b"checked"


def test_put_with_wrong_crc32_header_is_bad_digest_and_stores_nothing(
    s3c: Any, live_bucket: str
) -> None:
    # The gateway computes the named checksum while spooling; S3 compares it with the claim.
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    with client_error("BadDigest", 400):
        s3c.put_object(Bucket=live_bucket, Key="crc", Body=b"data", ChecksumCRC32=wrong)
    with client_error("404", 404):
        s3c.head_object(Bucket=live_bucket, Key="crc")
    right = base64.b64encode(zlib.crc32(b"data").to_bytes(4, "big")).decode()
    put = s3c.put_object(Bucket=live_bucket, Key="crc", Body=b"data", ChecksumCRC32=right)
    assert put["ChecksumCRC32"] == right


def test_put_with_wrong_content_md5_is_bad_digest(s3c: Any, live_bucket: str) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with client_error("BadDigest", 400):
        s3c.put_object(Bucket=live_bucket, Key="k", Body=b"data", ContentMD5=wrong)
    with client_error("404", 404):
        s3c.head_object(Bucket=live_bucket, Key="k")


def test_missing_objects_and_buckets(s3c: Any, live_bucket: str) -> None:
    with client_error("NoSuchKey", 404) as err:
        s3c.get_object(Bucket=live_bucket, Key="missing")
    assert err[0]["Error"]["Key"] == "missing"
    with client_error("404", 404):
        s3c.head_object(Bucket=live_bucket, Key="missing")
    with client_error("NoSuchBucket", 404):
        s3c.get_object(Bucket="it-no-such-bucket", Key="k")
    with client_error("NoSuchBucket", 404):
        s3c.put_object(Bucket="it-no-such-bucket", Key="k", Body=b"x")


def test_key_too_long(s3c: Any, live_bucket: str) -> None:
    with client_error("KeyTooLongError", 400):
        s3c.put_object(Bucket=live_bucket, Key="k" * 1025, Body=b"x")


def test_range_requests(s3c: Any, live_bucket: str) -> None:
    s3c.put_object(Bucket=live_bucket, Key="digits", Body=b"0123456789")
    got = s3c.get_object(Bucket=live_bucket, Key="digits", Range="bytes=2-4")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == "bytes 2-4/10"
    assert got["Body"].read() == b"234"
    assert (
        s3c.get_object(Bucket=live_bucket, Key="digits", Range="bytes=-2")["Body"].read() == b"89"
    )
    with client_error("InvalidRange", 416) as err:
        s3c.get_object(Bucket=live_bucket, Key="digits", Range="bytes=20-")
    assert err[0]["Error"]["ActualObjectSize"] == "10"
    head = s3c.head_object(Bucket=live_bucket, Key="digits", Range="bytes=0-0")
    assert (head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"]) == (206, 1)


def test_conditional_gets(s3c: Any, live_bucket: str) -> None:
    etag = s3c.put_object(Bucket=live_bucket, Key="k", Body=b"v1")["ETag"]
    last = s3c.head_object(Bucket=live_bucket, Key="k")["LastModified"]
    with client_error("304", 304):
        s3c.get_object(Bucket=live_bucket, Key="k", IfNoneMatch=etag)
    with client_error("304", 304):
        s3c.head_object(Bucket=live_bucket, Key="k", IfModifiedSince=last)
    with client_error("PreconditionFailed", 412):
        s3c.get_object(Bucket=live_bucket, Key="k", IfMatch='"nope"')
    with client_error("412", 412):
        s3c.head_object(Bucket=live_bucket, Key="k", IfUnmodifiedSince=last - timedelta(hours=1))
    got = s3c.get_object(
        Bucket=live_bucket, Key="k", IfMatch=etag, IfUnmodifiedSince=last - timedelta(hours=1)
    )
    assert got["Body"].read() == b"v1"


def test_response_header_overrides(s3c: Any, live_bucket: str) -> None:
    s3c.put_object(Bucket=live_bucket, Key="k", Body=b"x", ContentType="text/plain")
    got = s3c.get_object(
        Bucket=live_bucket,
        Key="k",
        ResponseContentType="application/octet-stream",
        ResponseContentDisposition='attachment; filename="x.bin"',
    )
    assert got["ContentType"] == "application/octet-stream"
    assert got["ContentDisposition"] == 'attachment; filename="x.bin"'


def test_conditional_put(s3c: Any, live_bucket: str) -> None:
    s3c.put_object(Bucket=live_bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with client_error("PreconditionFailed", 412):
        s3c.put_object(Bucket=live_bucket, Key="once", Body=b"second", IfNoneMatch="*")


def test_delete_object_and_delete_objects(s3c: Any, live_bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3c.put_object(Bucket=live_bucket, Key=key, Body=b"x")
    assert (
        s3c.delete_object(Bucket=live_bucket, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 204
    )
    assert (
        s3c.delete_object(Bucket=live_bucket, Key="a")["ResponseMetadata"]["HTTPStatusCode"] == 204
    )
    out = s3c.delete_objects(Bucket=live_bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "zzz"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["b", "zzz"]
    quiet = s3c.delete_objects(
        Bucket=live_bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True}
    )
    assert "Deleted" not in quiet
    assert "Contents" not in s3c.list_objects_v2(Bucket=live_bucket)


# --- copy ---------------------------------------------------------------------------------------


def test_copy_object(s3c: Any, live_bucket: str) -> None:
    src_key = "src/ü a+b?.txt"
    s3c.put_object(Bucket=live_bucket, Key=src_key, Body=b"copy me", Metadata={"m": "1"})
    out = s3c.copy_object(
        Bucket=live_bucket, Key="dst", CopySource={"Bucket": live_bucket, "Key": src_key}
    )
    assert out["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    got = s3c.get_object(Bucket=live_bucket, Key="dst")
    assert (got["Body"].read(), got["Metadata"]) == (b"copy me", {"m": "1"})
    s3c.copy_object(
        Bucket=live_bucket,
        Key="dst2",
        CopySource=f"{live_bucket}/{src_key}",
        MetadataDirective="REPLACE",
        Metadata={"m": "2"},
    )
    assert s3c.head_object(Bucket=live_bucket, Key="dst2")["Metadata"] == {"m": "2"}
    with client_error("InvalidRequest", 400):
        s3c.copy_object(
            Bucket=live_bucket, Key=src_key, CopySource={"Bucket": live_bucket, "Key": src_key}
        )
    with client_error("PreconditionFailed", 412):
        s3c.copy_object(
            Bucket=live_bucket,
            Key="dst3",
            CopySource={"Bucket": live_bucket, "Key": src_key},
            CopySourceIfMatch='"0000"',
        )
    with client_error("NoSuchKey", 404):
        s3c.copy_object(
            Bucket=live_bucket, Key="dst4", CopySource={"Bucket": live_bucket, "Key": "nope"}
        )


# --- listing ------------------------------------------------------------------------------------


def test_list_objects_v2_with_paginator_prefix_and_delimiter(s3c: Any, live_bucket: str) -> None:
    keys = [f"data/{i:02d}.csv" for i in range(7)] + ["logs/a", "logs/b", "root", "sp ace+plus"]
    for key in keys:
        s3c.put_object(Bucket=live_bucket, Key=key, Body=b"")
    pages = list(
        s3c.get_paginator("list_objects_v2").paginate(
            Bucket=live_bucket, PaginationConfig={"PageSize": 3}
        )
    )
    assert len(pages) == 4
    assert [c["Key"] for p in pages for c in p.get("Contents", [])] == sorted(keys)
    top = s3c.list_objects_v2(Bucket=live_bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["data/", "logs/"]
    assert [c["Key"] for c in top["Contents"]] == ["root", "sp ace+plus"]
    assert top["KeyCount"] == 4
    sub = s3c.list_objects_v2(Bucket=live_bucket, Prefix="data/", StartAfter="data/04.csv")
    assert [c["Key"] for c in sub["Contents"]] == ["data/05.csv", "data/06.csv"]
    owned = s3c.list_objects_v2(Bucket=live_bucket, FetchOwner=True, MaxKeys=1)
    assert owned["Contents"][0]["Owner"]["ID"]
    assert owned["IsTruncated"] is True


def test_bad_continuation_token(s3c: Any, live_bucket: str) -> None:
    with client_error("InvalidArgument", 400):
        s3c.list_objects_v2(Bucket=live_bucket, ContinuationToken="bogus")


def test_list_objects_v1_paginator(s3c: Any, live_bucket: str) -> None:
    keys = [f"k{i}" for i in range(5)] + ["d/x", "d/y"]
    for key in keys:
        s3c.put_object(Bucket=live_bucket, Key=key, Body=b"")
    pages = list(
        s3c.get_paginator("list_objects").paginate(
            Bucket=live_bucket, PaginationConfig={"PageSize": 2}
        )
    )
    assert [c["Key"] for p in pages for c in p.get("Contents", [])] == sorted(keys)
    delimited = list(
        s3c.get_paginator("list_objects").paginate(
            Bucket=live_bucket, Delimiter="/", PaginationConfig={"PageSize": 2}
        )
    )
    assert [p["Prefix"] for page in delimited for p in page.get("CommonPrefixes", [])] == ["d/"]


# --- multipart ----------------------------------------------------------------------------------


def test_multipart_upload_by_hand(s3c: Any, live_bucket: str) -> None:
    upload = s3c.create_multipart_upload(Bucket=live_bucket, Key="mp", ContentType="text/plain")
    uid = upload["UploadId"]
    listed = s3c.list_multipart_uploads(Bucket=live_bucket)
    assert [u["UploadId"] for u in listed["Uploads"]] == [uid]
    part1 = b"1" * (5 * MiB)
    e1 = s3c.upload_part(Bucket=live_bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1)
    s3c.put_object(Bucket=live_bucket, Key="tail-source", Body=b"0123456789")
    e2 = s3c.upload_part_copy(
        Bucket=live_bucket,
        Key="mp",
        UploadId=uid,
        PartNumber=2,
        CopySource={"Bucket": live_bucket, "Key": "tail-source"},
        CopySourceRange="bytes=3-6",
    )
    parts = s3c.list_parts(Bucket=live_bucket, Key="mp", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, 4)]
    with client_error("InvalidPart", 400):
        s3c.complete_multipart_upload(
            Bucket=live_bucket,
            Key="mp",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": e1["ETag"]}]},
        )
    with client_error("InvalidPartOrder", 400):
        s3c.complete_multipart_upload(
            Bucket=live_bucket,
            Key="mp",
            UploadId=uid,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 2, "ETag": e2["CopyPartResult"]["ETag"]},
                    {"PartNumber": 1, "ETag": e1["ETag"]},
                ]
            },
        )
    done = s3c.complete_multipart_upload(
        Bucket=live_bucket,
        Key="mp",
        UploadId=uid,
        MultipartUpload={
            "Parts": [
                {"PartNumber": 1, "ETag": e1["ETag"], "ChecksumCRC32": e1["ChecksumCRC32"]},
                {"PartNumber": 2, "ETag": e2["CopyPartResult"]["ETag"]},
            ]
        },
    )
    assert done["ETag"].endswith('-2"')
    got = s3c.get_object(Bucket=live_bucket, Key="mp")
    assert got["ContentType"] == "text/plain"
    assert got["Body"].read() == part1 + b"3456"
    with client_error("NoSuchUpload", 404):
        s3c.list_parts(Bucket=live_bucket, Key="mp", UploadId=uid)


def test_multipart_errors(s3c: Any, live_bucket: str) -> None:
    uid = s3c.create_multipart_upload(Bucket=live_bucket, Key="small")["UploadId"]
    e1 = s3c.upload_part(Bucket=live_bucket, Key="small", UploadId=uid, PartNumber=1, Body=b"a")
    e2 = s3c.upload_part(Bucket=live_bucket, Key="small", UploadId=uid, PartNumber=2, Body=b"b")
    with client_error("EntityTooSmall", 400):
        s3c.complete_multipart_upload(
            Bucket=live_bucket,
            Key="small",
            UploadId=uid,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": e1["ETag"]},
                    {"PartNumber": 2, "ETag": e2["ETag"]},
                ]
            },
        )
    with client_error("InvalidArgument", 400):
        s3c.upload_part(Bucket=live_bucket, Key="small", UploadId=uid, PartNumber=10001, Body=b"x")
    assert (
        s3c.abort_multipart_upload(Bucket=live_bucket, Key="small", UploadId=uid)[
            "ResponseMetadata"
        ]["HTTPStatusCode"]
        == 204
    )
    with client_error("NoSuchUpload", 404):
        s3c.abort_multipart_upload(Bucket=live_bucket, Key="small", UploadId=uid)
    with client_error("NoSuchUpload", 404):
        s3c.upload_part(Bucket=live_bucket, Key="small", UploadId="bogus", PartNumber=1, Body=b"x")


@pytest.mark.slow
def test_50_mb_upload_file_goes_multipart_and_round_trips(
    s3c: Any, live_bucket: str, tmp_path: Any
) -> None:
    from boto3.s3.transfer import TransferConfig

    source = tmp_path / "fifty.bin"
    digest = hashlib.sha256()
    with open(source, "wb") as f:
        for i in range(50):
            chunk = hashlib.sha256(str(i).encode()).digest() * (MiB // 32)
            digest.update(chunk)
            f.write(chunk)
    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    s3c.upload_file(str(source), live_bucket, "models/fifty.bin", Config=config)
    head = s3c.head_object(Bucket=live_bucket, Key="models/fifty.bin")
    assert head["ContentLength"] == 50 * MiB
    assert head["ETag"].endswith('-7"')
    target = tmp_path / "back.bin"
    s3c.download_file(live_bucket, "models/fifty.bin", str(target), Config=config)
    check = hashlib.sha256()
    with open(target, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            check.update(block)
    assert check.hexdigest() == digest.hexdigest()


# --- notifications ------------------------------------------------------------------------------


def test_notification_configuration_round_trip(s3c: Any, live_bucket: str) -> None:
    config = {
        "QueueConfigurations": [
            {
                "Id": "new-csv",
                "QueueArn": "arn:aws:sqs:us-east-1:000000000000:incoming",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
            }
        ],
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:score",
                "Events": ["s3:ObjectRemoved:*"],
            }
        ],
    }
    # The destinations do not exist: validation of them is skipped (see test_s3_notify_*).
    s3c.put_bucket_notification_configuration(
        Bucket=live_bucket, NotificationConfiguration=config, SkipDestinationValidation=True
    )
    got = s3c.get_bucket_notification_configuration(Bucket=live_bucket)
    assert got["QueueConfigurations"] == config["QueueConfigurations"]
    assert got["LambdaFunctionConfigurations"][0]["Id"]
    with client_error("InvalidArgument", 400):
        s3c.put_bucket_notification_configuration(
            Bucket=live_bucket,
            NotificationConfiguration={
                "TopicConfigurations": [{"TopicArn": "arn:nope", "Events": ["s3:ObjectCreated:*"]}]
            },
        )
    s3c.put_bucket_notification_configuration(Bucket=live_bucket, NotificationConfiguration={})
    got = s3c.get_bucket_notification_configuration(Bucket=live_bucket)
    assert "QueueConfigurations" not in got


def test_objects_survive_in_the_data_dir(
    lm_server: ServerProcess, s3c: Any, live_bucket: str
) -> None:
    s3c.put_object(Bucket=live_bucket, Key="k", Body=b"on disk")
    assert (lm_server.data_dir / "objects").is_dir()
    blobs = [p for p in (lm_server.data_dir / "objects").rglob("*") if p.is_file()]
    assert any(p.read_bytes() == b"on disk" for p in blobs if p.stat().st_size == 7)
