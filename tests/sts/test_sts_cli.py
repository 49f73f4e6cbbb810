"""STS through the real AWS CLI: get-caller-identity and assume-role."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

Cli = Callable[..., subprocess.CompletedProcess[str]]
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def run_json(aws_cli: Cli, *args: str) -> Any:
    return json.loads(aws_cli(*args, "--output", "json").stdout)


def test_get_caller_identity_with_the_cli(aws_cli: Cli) -> None:
    identity = run_json(aws_cli, "sts", "get-caller-identity")
    assert identity == {
        "UserId": "000000000000",
        "Account": "000000000000",
        "Arn": "arn:aws:iam::000000000000:root",
    }


def test_assume_role_with_the_cli_and_use_its_credentials(
    aws_cli: Cli, aws_cli_env: dict[str, str]
) -> None:
    role = f"cli-assume-{uuid.uuid4().hex[:10]}"
    arn = run_json(
        aws_cli, "iam", "create-role", "--role-name", role, "--assume-role-policy-document", TRUST
    )["Role"]["Arn"]
    out = run_json(
        aws_cli, "sts", "assume-role", "--role-arn", arn, "--role-session-name", "cli-session"
    )
    creds = out["Credentials"]
    assert out["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::000000000000:assumed-role/{role}/cli-session"
    )
    # Environment credentials take precedence over the shared credentials file.
    aws_cli_env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    identity = run_json(aws_cli, "sts", "get-caller-identity")
    assert identity["Arn"] == out["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]

    denied = aws_cli(
        "sts", "assume-role", "--role-arn", arn.replace(role, role + "-nope"),
        "--role-session-name", "x1", check=False,
    )  # fmt: skip
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr
