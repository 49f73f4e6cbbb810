"""The server process: readiness, credentials on first start, clean shutdown, the CLI."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdamaker import __version__
from lambdamaker.testing import ServerProcess


def test_health_names_version_and_enabled_services(lm_server: ServerProcess) -> None:
    health = lm_server.health()
    assert health["status"] == "ready"
    assert health["version"] == __version__
    assert {"s3", "iam", "sts"} <= set(health["services"])


def test_credentials_file_is_private_and_its_secret_is_never_logged(
    lm_server: ServerProcess,
) -> None:
    mode = stat.S_IMODE(lm_server.credentials_file.stat().st_mode)
    assert mode == 0o600
    key, secret = lm_server.credentials()
    assert key.startswith("AKIA") and len(key) == 20
    assert len(secret) == 40
    log = lm_server.log()
    assert str(lm_server.credentials_file) in log
    assert secret not in log


def test_cli_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lambdamaker", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "server" in out and "version" in out


def test_sigterm_shuts_down_cleanly_and_a_restart_keeps_the_keys(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    first = server.credentials()
    server.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    assert server.proc.wait(30) == 0  # type: ignore[union-attr]
    assert not (tmp_path / "data" / "server.json").exists()
    with ServerProcess(tmp_path / "data") as again:
        assert again.credentials() == first
        sts = boto3.client(
            "sts",
            endpoint_url=again.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=first[0],
            aws_secret_access_key=first[1],
        )
        assert sts.get_caller_identity()["Account"] == "000000000000"


def _client(server: ServerProcess, service: str, key: str, secret: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("s3", lambda c: c.list_buckets(), "SignatureDoesNotMatch"),
        ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch"),
        ("iam", lambda c: c.list_roles(), "SignatureDoesNotMatch"),
    ],
)
def test_wrong_secret_is_rejected_with_403(lm_server: ServerProcess, service, call, code) -> None:  # type: ignore[no-untyped-def]
    key, _ = lm_server.credentials()
    client = _client(lm_server, service, key, "x" * 40)
    with pytest.raises(ClientError) as info:
        call(client)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId"),
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId"),
        ("iam", lambda c: c.list_roles(), "InvalidClientTokenId"),
    ],
)
def test_unknown_access_key_is_rejected_with_403(
    lm_server: ServerProcess, service, call, code
) -> None:  # type: ignore[no-untyped-def]
    client = _client(lm_server, service, "AKIAUNKNOWNUNKNOWN00", "x" * 40)
    with pytest.raises(ClientError) as info:
        call(client)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] == code


def test_no_auth_mode_accepts_any_signature(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", extra_args=["--no-auth"]) as server:
        s3 = _client(server, "s3", "AKIAANYTHINGATALL000", "whatever")
        s3.create_bucket(Bucket="open")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["open"]


def test_server_json_names_the_endpoint(lm_server: ServerProcess) -> None:
    info = json.loads((lm_server.data_dir / "server.json").read_text())
    assert info["endpoint"] == lm_server.endpoint_url
    assert info["port"] == lm_server.port
