"""Deployment packages: zip validation, S3 sources, unpacked trees, crash leftovers."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from lambda_support import Caller, aws_error, echo_zip, make_zip

from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.lambda_ import LambdaProvider


def functions_dir(platform: Platform) -> Path:
    return platform.config.data_dir / "functions"


def trees(platform: Platform, kind: str = "code") -> list[str]:
    return sorted(p.name for p in (functions_dir(platform) / kind).iterdir())


def bomb_zip(size: int) -> bytes:
    """A small zip whose one entry unpacks to ``size`` zero bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("big.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as entry:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                entry.write(chunk)
            entry.write(b"\0" * (size % len(chunk)))
    return buf.getvalue()


@pytest.mark.parametrize(
    "payload",
    [
        b"this is not a zip",
        b"",
        echo_zip()[:-30],  # truncated central directory
    ],
)
def test_corrupt_zip_is_refused(lam: Caller, platform: Platform, payload: bytes) -> None:
    with aws_error("InvalidParameterValueException", 400, "Could not unzip uploaded file"):
        lam.create("fn", payload)
    assert lam("ListFunctions")["Functions"] == []
    assert list(platform.blobs("lambda").blob_ids()) == []


def test_zip_with_corrupted_data_is_refused(lam: Caller) -> None:
    data = bytearray(make_zip({"app.py": "x = 1\n" * 200}))
    start = data.index(b"app.py") + len("app.py")
    data[start + 5 : start + 15] = b"\xff" * 10  # inside the compressed bytes
    with aws_error("InvalidParameterValueException", 400, "Could not unzip"):
        lam.create("fn", bytes(data))


@pytest.mark.parametrize("name", ["/etc/evil.py", "../evil.py", "pkg/../../evil.py", "C:/evil.py"])
def test_entries_escaping_the_package_root_are_refused(
    lam: Caller, platform: Platform, name: str
) -> None:
    with aws_error("InvalidParameterValueException", 400, "Could not unzip uploaded file"):
        lam.create("fn", make_zip({"app.py": "x = 1", name: "boom"}))
    assert trees(platform) == []
    assert not (platform.config.data_dir / "evil.py").exists()


def test_link_escaping_the_package_root_is_refused(lam: Caller) -> None:
    import stat

    code = make_zip(
        {"app.py": "x = 1", "link": "../../../etc/passwd"}, {"link": stat.S_IFLNK | 0o777}
    )
    with aws_error("InvalidParameterValueException", 400, "Could not unzip"):
        lam.create("fn", code)


def test_unzipped_size_over_250_mb_is_refused(lam: Caller, platform: Platform) -> None:
    with aws_error(
        "InvalidParameterValueException", 400, "Unzipped size must be smaller than 262144000 bytes"
    ):
        lam.create("fn", bomb_zip(262144000 + 1))
    assert trees(platform) == []


def test_zipped_upload_over_50_mb_is_too_large(lam: Caller) -> None:
    with aws_error(
        "RequestEntityTooLargeException",
        413,
        "Request must be smaller than 69905067 bytes for the CreateFunction operation",
    ):
        lam.create("fn", b"PK" + os.urandom(50 * 1024 * 1024))


def test_unpacked_tree_keeps_permissions_and_is_shared_by_identical_packages(
    lam: Caller, platform: Platform
) -> None:
    code = make_zip({"app.py": "x = 1", "bin/tool": "#!/bin/sh\n", "pkg/": ""}, {"bin/tool": 0o755})
    lam.create("a", code)
    lam.create("b", code)
    [tree] = trees(platform)
    root = functions_dir(platform) / "code" / tree
    assert (root / "app.py").read_text() == "x = 1"
    assert os.access(root / "bin" / "tool", os.X_OK)
    assert (root / "pkg").is_dir()


def test_code_from_s3_is_copied_at_create_and_update(lam: Caller, s3: Caller) -> None:
    s3("CreateBucket", Bucket="code")
    code = echo_zip()
    s3("PutObject", Bucket="code", Key="fn.zip", Body=code)
    created = lam(
        "CreateFunction",
        FunctionName="fn",
        Runtime="python3.11",
        Handler="app.handler",
        Role="arn:aws:iam::000000000000:role/r",
        Code={"S3Bucket": "code", "S3Key": "fn.zip"},
    )
    assert created["CodeSize"] == len(code)
    lam.wait_active("fn")
    newer = echo_zip("# v2\n")
    s3("PutObject", Bucket="code", Key="fn.zip", Body=newer)
    updated = lam("UpdateFunctionCode", FunctionName="fn", S3Bucket="code", S3Key="fn.zip")
    assert updated["CodeSize"] == len(newer)
    s3("DeleteObject", Bucket="code", Key="fn.zip")
    # The function keeps its own copy.
    assert lam.wait_active("fn")["CodeSize"] == len(newer)


def test_missing_s3_object_or_bucket_is_reported_as_lambda_does(lam: Caller, s3: Caller) -> None:
    with aws_error("InvalidParameterValueException", 400, "S3 Error Code: NoSuchBucket"):
        lam(
            "CreateFunction",
            FunctionName="fn",
            Runtime="python3.11",
            Handler="app.handler",
            Role="arn:aws:iam::000000000000:role/r",
            Code={"S3Bucket": "nope", "S3Key": "fn.zip"},
        )
    s3("CreateBucket", Bucket="code")
    with aws_error("InvalidParameterValueException", 400, "S3 Error Code: NoSuchKey"):
        lam(
            "CreateFunction",
            FunctionName="fn",
            Runtime="python3.11",
            Handler="app.handler",
            Role="arn:aws:iam::000000000000:role/r",
            Code={"S3Bucket": "code", "S3Key": "fn.zip"},
        )


def test_restart_sweeps_leftovers_and_reunpacks_lost_trees(tmp_path: Path) -> None:
    config = PlatformConfig(data_dir=tmp_path / "data")
    services = ["s3", "iam", "sts", "lambda"]
    with Platform(config, services=services) as platform:
        lam = Caller(platform)
        lam.create("fn")
        lam.wait_active("fn")
        [tree] = trees(platform)
        blobs = set(platform.blobs("lambda").blob_ids())
        # What a crash between unpacking and committing leaves behind:
        (functions_dir(platform) / "code" / "deadbeef").mkdir()
        orphan = platform.blobs("lambda").put_bytes(b"orphan")
    import shutil

    shutil.rmtree(functions_dir(platform) / "code" / tree)
    with Platform(config, services=services) as platform:
        assert set(platform.blobs("lambda").blob_ids()) == blobs
        assert orphan not in blobs
        lam = Caller(platform)
        provider = platform.providers["lambda"]
        assert isinstance(provider, LambdaProvider)
        spec = provider.targets.get("fn", None).primary.spec
        assert (Path(spec.code_dir) / "app.py").exists()
        assert trees(platform) == [tree]
