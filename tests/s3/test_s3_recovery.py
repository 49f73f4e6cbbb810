"""Crash safety of the provider: what a restart finds after writes were cut short."""

from __future__ import annotations

from pathlib import Path

from s3_helpers import S3Caller

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.s3 import S3Provider


def restart(platform: Platform) -> tuple[Platform, S3Caller]:
    platform.close()
    again = Platform(PlatformConfig(data_dir=platform.config.data_dir), services=["s3"])
    again.start()
    provider = again.providers["s3"]
    assert isinstance(provider, S3Provider)
    return again, S3Caller(provider)


def test_objects_and_uploads_survive_a_restart(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    s3.put_object(Bucket=bucket, Key="kept", Body=b"durable", Metadata={"a": "b"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"part")
    again, s3b = restart(platform)
    try:
        got = s3b.get_object(Bucket=bucket, Key="kept")
        assert s3b.body(got) == b"durable"
        assert got["Metadata"] == {"a": "b"}
        assert [
            p["Size"] for p in s3b.list_parts(Bucket=bucket, Key="mp", UploadId=upload)["Parts"]
        ] == [4]
    finally:
        again.close()


def test_restart_sweeps_blobs_no_row_references(
    s3: S3Caller, bucket: str, platform: Platform
) -> None:
    s3.put_object(Bucket=bucket, Key="kept", Body=b"durable")
    # A crash between making a blob durable and committing its row leaves exactly this behind,
    # plus a half-written spool file from an interrupted upload.
    orphan = platform.blobs("s3").put_bytes(b"never committed")
    spool, spool_path = platform.new_spool_file()
    with spool:
        spool.write(b"half an upl")
    again, s3b = restart(platform)
    try:
        assert not platform.blobs("s3").path(orphan).exists()
        assert not Path(spool_path).exists()
        assert s3b.body(s3b.get_object(Bucket=bucket, Key="kept")) == b"durable"
        assert len(list(again.blobs("s3").blob_ids())) == 1
    finally:
        again.close()


def test_part_blobs_are_not_swept(s3: S3Caller, bucket: str, platform: Platform) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=b"p1")[
        "ETag"
    ]
    again, s3b = restart(platform)
    try:
        s3b.complete_multipart_upload(
            Bucket=bucket,
            Key="mp",
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
        assert s3b.body(s3b.get_object(Bucket=bucket, Key="mp")) == b"p1"
    finally:
        again.close()
