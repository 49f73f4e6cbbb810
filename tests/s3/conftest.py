"""S3 test fixtures.

In-process (``platform``, ``s3``, ``bucket``): a started platform with only S3 and a boto3-like
caller of the provider. Integration (``s3c``, ``live_bucket``): boto3 on the session server.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import S3Caller

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.s3 import S3Provider


@pytest.fixture()
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = Platform(PlatformConfig(data_dir=tmp_path / "data"), services=["s3"])
    p.start()
    yield p
    p.close()


@pytest.fixture()
def s3(platform: Platform) -> S3Caller:
    provider = platform.providers["s3"]
    assert isinstance(provider, S3Provider)
    return S3Caller(provider)


@pytest.fixture()
def bucket(s3: S3Caller) -> str:
    s3.create_bucket(Bucket="test-bucket")
    return "test-bucket"


# --- integration: the session server (tests/conftest.py) driven by boto3 ------------------------


@pytest.fixture()
def s3c(boto_client: Callable[..., Any]) -> Any:
    """A boto3 S3 client on the session server."""
    return boto_client("s3")


@pytest.fixture()
def live_bucket(s3c: Any) -> Iterator[str]:
    """A fresh bucket on the session server, emptied and deleted afterwards."""
    name = f"it-{uuid.uuid4().hex[:16]}"
    s3c.create_bucket(Bucket=name)
    yield name
    for page in s3c.get_paginator("list_multipart_uploads").paginate(Bucket=name):
        for upload in page.get("Uploads", []):
            s3c.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": c["Key"]} for c in page.get("Contents", [])]
        if keys:
            s3c.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    s3c.delete_bucket(Bucket=name)
