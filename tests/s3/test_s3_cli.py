"""The AWS CLI (``aws s3`` and ``aws s3api``) against the real server."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]
MiB = 1024 * 1024


@pytest.fixture()
def cli_bucket(aws_cli: Cli) -> Any:
    name = f"cli-{uuid.uuid4().hex[:16]}"
    aws_cli("s3", "mb", f"s3://{name}")
    yield name
    aws_cli("s3", "rb", f"s3://{name}", "--force", check=False)


def api(aws_cli: Cli, *args: str) -> dict[str, Any]:
    out = aws_cli("s3api", *args, "--output", "json").stdout
    result: dict[str, Any] = json.loads(out) if out.strip() else {}
    return result


def test_mb_ls_rb(aws_cli: Cli) -> None:
    name = f"cli-{uuid.uuid4().hex[:16]}"
    assert f"make_bucket: {name}" in aws_cli("s3", "mb", f"s3://{name}").stdout
    assert name in aws_cli("s3", "ls").stdout
    assert f"remove_bucket: {name}" in aws_cli("s3", "rb", f"s3://{name}").stdout
    assert name not in aws_cli("s3", "ls").stdout


def test_cp_ls_and_rm(aws_cli: Cli, cli_bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "hello world.txt"
    src.write_bytes(b"hello from the cli\n")
    aws_cli("s3", "cp", str(src), f"s3://{cli_bucket}/docs/hello world.txt")
    listing = aws_cli("s3", "ls", f"s3://{cli_bucket}/docs/").stdout
    assert "hello world.txt" in listing and " 19 " in listing
    top = aws_cli("s3", "ls", f"s3://{cli_bucket}").stdout
    assert "PRE docs/" in top
    back = tmp_path / "back.txt"
    aws_cli("s3", "cp", f"s3://{cli_bucket}/docs/hello world.txt", str(back))
    assert back.read_bytes() == b"hello from the cli\n"
    aws_cli("s3", "rm", f"s3://{cli_bucket}/docs/hello world.txt")
    assert aws_cli("s3", "ls", f"s3://{cli_bucket}/docs/", check=False).stdout == ""


def test_cp_of_a_large_file_uses_multipart(aws_cli: Cli, cli_bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    block = hashlib.sha256(b"cli").digest() * (MiB // 32)
    src.write_bytes(block * 20)
    aws_cli("s3", "cp", str(src), f"s3://{cli_bucket}/big.bin")
    head = api(aws_cli, "head-object", "--bucket", cli_bucket, "--key", "big.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].endswith('-3"')  # the CLI's 8 MiB chunks
    back = tmp_path / "big-back.bin"
    aws_cli("s3", "cp", f"s3://{cli_bucket}/big.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()


def test_sync_and_recursive_rm(aws_cli: Cli, cli_bucket: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(rel)
    aws_cli("s3", "sync", str(tree), f"s3://{cli_bucket}/tree")
    listing = aws_cli("s3", "ls", "--recursive", f"s3://{cli_bucket}/tree/").stdout
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        assert f"tree/{rel}" in listing
    # A second sync has nothing to do.
    assert aws_cli("s3", "sync", str(tree), f"s3://{cli_bucket}/tree").stdout.strip() == ""
    aws_cli("s3", "rm", "--recursive", f"s3://{cli_bucket}/tree/")
    assert "Contents" not in api(aws_cli, "list-objects-v2", "--bucket", cli_bucket)


def test_s3api_object_calls(aws_cli: Cli, cli_bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"x": 1}')
    put = api(
        aws_cli,
        "put-object",
        "--bucket",
        cli_bucket,
        "--key",
        "cfg.json",
        "--body",
        str(body),
        "--content-type",
        "application/json",
        "--metadata",
        "team=ml",
    )
    assert put["ETag"] == '"' + hashlib.md5(b'{"x": 1}').hexdigest() + '"'
    out = tmp_path / "out.json"
    got = api(aws_cli, "get-object", "--bucket", cli_bucket, "--key", "cfg.json", str(out))
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"team": "ml"}
    assert out.read_text() == '{"x": 1}'
    api(
        aws_cli,
        "copy-object",
        "--bucket",
        cli_bucket,
        "--key",
        "cfg-copy.json",
        "--copy-source",
        f"{cli_bucket}/cfg.json",
    )
    listed = api(aws_cli, "list-objects-v2", "--bucket", cli_bucket)
    assert [c["Key"] for c in listed["Contents"]] == ["cfg-copy.json", "cfg.json"]
    legacy = api(aws_cli, "list-objects", "--bucket", cli_bucket)
    assert [c["Key"] for c in legacy["Contents"]] == ["cfg-copy.json", "cfg.json"]
    api(aws_cli, "delete-object", "--bucket", cli_bucket, "--key", "cfg-copy.json")
    missing = aws_cli("s3api", "head-object", "--bucket", cli_bucket, "--key", "nope", check=False)
    assert missing.returncode != 0 and "404" in missing.stderr
    err = aws_cli(
        "s3api", "get-object", "--bucket", cli_bucket, "--key", "nope", str(out), check=False
    )
    assert "NoSuchKey" in err.stderr


def test_s3api_bucket_calls(aws_cli: Cli, cli_bucket: str) -> None:
    api(aws_cli, "head-bucket", "--bucket", cli_bucket)
    assert api(aws_cli, "get-bucket-location", "--bucket", cli_bucket)["LocationConstraint"] is None
    names = [b["Name"] for b in api(aws_cli, "list-buckets")["Buckets"]]
    assert cli_bucket in names
    config = {
        "QueueConfigurations": [
            {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectCreated:*"]}
        ]
    }
    api(
        aws_cli,
        "put-bucket-notification-configuration",
        "--bucket",
        cli_bucket,
        "--notification-configuration",
        json.dumps(config),
        "--skip-destination-validation",  # the queue does not exist
    )
    got = api(aws_cli, "get-bucket-notification-configuration", "--bucket", cli_bucket)
    assert got["QueueConfigurations"][0]["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:q"
    bad = aws_cli("s3api", "create-bucket", "--bucket", "Bad_Name", check=False)
    assert "InvalidBucketName" in bad.stderr


def test_s3api_multipart_calls(aws_cli: Cli, cli_bucket: str, tmp_path: Path) -> None:
    upload = api(aws_cli, "create-multipart-upload", "--bucket", cli_bucket, "--key", "mp")
    uid = upload["UploadId"]
    part = tmp_path / "part"
    part.write_bytes(b"only part")
    etag = api(
        aws_cli,
        "upload-part",
        "--bucket",
        cli_bucket,
        "--key",
        "mp",
        "--upload-id",
        uid,
        "--part-number",
        "1",
        "--body",
        str(part),
    )["ETag"]
    uploads = api(aws_cli, "list-multipart-uploads", "--bucket", cli_bucket)
    assert [u["UploadId"] for u in uploads["Uploads"]] == [uid]
    parts = api(aws_cli, "list-parts", "--bucket", cli_bucket, "--key", "mp", "--upload-id", uid)
    assert [p["ETag"] for p in parts["Parts"]] == [etag]
    done = api(
        aws_cli,
        "complete-multipart-upload",
        "--bucket",
        cli_bucket,
        "--key",
        "mp",
        "--upload-id",
        uid,
        "--multipart-upload",
        json.dumps({"Parts": [{"PartNumber": 1, "ETag": etag}]}),
    )
    assert done["ETag"].endswith('-1"')
    second = api(aws_cli, "create-multipart-upload", "--bucket", cli_bucket, "--key", "gone")
    api(
        aws_cli,
        "abort-multipart-upload",
        "--bucket",
        cli_bucket,
        "--key",
        "gone",
        "--upload-id",
        second["UploadId"],
    )
    assert "Uploads" not in api(aws_cli, "list-multipart-uploads", "--bucket", cli_bucket)
