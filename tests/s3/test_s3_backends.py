"""The provider's SQL on both store backends (SQLite and PostgreSQL): one scenario each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import S3Caller, raises

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.s3 import S3Provider


@pytest.fixture()
def backend_s3(store_url: str, tmp_path: Path) -> Iterator[S3Caller]:
    platform = Platform(
        PlatformConfig(data_dir=tmp_path / "data", store_url=store_url), services=["s3"]
    )
    platform.start()
    provider = platform.providers["s3"]
    assert isinstance(provider, S3Provider)
    yield S3Caller(provider)
    platform.close()


def keys(out: dict[str, Any]) -> list[str]:
    return [c["Key"] for c in out.get("Contents", [])]


def test_object_lifecycle_on_each_backend(backend_s3: S3Caller) -> None:
    s3 = backend_s3
    s3.create_bucket(Bucket="backend")
    s3.create_bucket(Bucket="backend")  # us-east-1 re-create: the insert conflict path
    names = ["B", "a", "a/b", "a/c/d", "é", "z", "~", "\u4e2d", "\U0001f600"]
    for key in names:
        s3.put_object(Bucket="backend", Key=key, Body=key.encode())
    s3.put_object(Bucket="backend", Key="a", Body=b"overwritten")
    assert s3.body(s3.get_object(Bucket="backend", Key="a")) == b"overwritten"
    # UTF-8 byte order, which PostgreSQL gives only under the C collation.
    assert keys(s3.list_objects_v2(Bucket="backend")) == sorted(names, key=str.encode)
    out = s3.list_objects_v2(Bucket="backend", Delimiter="/", MaxKeys=3)
    rest = s3.list_objects_v2(
        Bucket="backend", Delimiter="/", ContinuationToken=out["NextContinuationToken"]
    )
    assert keys(out) + keys(rest) == [k for k in sorted(names, key=str.encode) if "/" not in k]
    assert [
        p["Prefix"] for p in out.get("CommonPrefixes", []) + rest.get("CommonPrefixes", [])
    ] == ["a/"]
    with raises("PreconditionFailed", 412):
        s3.put_object(Bucket="backend", Key="z", Body=b"x", IfNoneMatch="*")
    s3.copy_object(Bucket="backend", Key="copy", CopySource="backend/z")

    upload = s3.create_multipart_upload(Bucket="backend", Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket="backend", Key="mp", UploadId=upload, PartNumber=1, Body=b"1")[
        "ETag"
    ]
    etag = s3.upload_part(Bucket="backend", Key="mp", UploadId=upload, PartNumber=1, Body=b"2")[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket="backend",
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.body(s3.get_object(Bucket="backend", Key="mp")) == b"2"

    with raises("BucketNotEmpty", 409):
        s3.delete_bucket(Bucket="backend")
    everything = keys(s3.list_objects_v2(Bucket="backend"))
    s3.delete_objects(Bucket="backend", Delete={"Objects": [{"Key": k} for k in everything]})
    s3.create_multipart_upload(Bucket="backend", Key="left-behind")
    s3.delete_bucket(Bucket="backend")
    with raises("NoSuchBucket", 404):
        s3.put_object(Bucket="backend", Key="k", Body=b"x")
    assert list(s3.provider.blobs.blob_ids()) == []
