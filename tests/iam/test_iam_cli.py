"""IAM through the real AWS CLI against the session server."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
S3_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

Cli = Callable[..., subprocess.CompletedProcess[str]]


def run_json(aws_cli: Cli, *args: str) -> Any:
    out = aws_cli(*args, "--output", "json").stdout
    return json.loads(out) if out.strip() else None


def test_role_and_policies_with_the_cli(aws_cli: Cli, tmp_path: Path) -> None:
    uid = uuid.uuid4().hex[:10]
    role = f"cli-role-{uid}"
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(json.dumps(TRUST, indent=2))
    created = run_json(
        aws_cli,
        "iam", "create-role", "--role-name", role,
        "--assume-role-policy-document", f"file://{trust_file}",
        "--tags", "Key=team,Value=ml",
    )  # fmt: skip
    assert created["Role"]["AssumeRolePolicyDocument"] == TRUST
    got = run_json(aws_cli, "iam", "get-role", "--role-name", role)
    assert got["Role"]["Arn"] == f"arn:aws:iam::000000000000:role/{role}"
    assert got["Role"]["AssumeRolePolicyDocument"] == TRUST

    aws_cli("iam", "attach-role-policy", "--role-name", role, "--policy-arn", BASIC_EXECUTION)
    attached = run_json(aws_cli, "iam", "list-attached-role-policies", "--role-name", role)
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [BASIC_EXECUTION]

    aws_cli(
        "iam", "put-role-policy", "--role-name", role, "--policy-name", "read",
        "--policy-document", json.dumps(S3_READ),
    )  # fmt: skip
    inline = run_json(
        aws_cli, "iam", "get-role-policy", "--role-name", role, "--policy-name", "read"
    )
    assert inline["PolicyDocument"] == S3_READ
    names = run_json(aws_cli, "iam", "list-role-policies", "--role-name", role)["PolicyNames"]
    assert names == ["read"]

    policy = run_json(
        aws_cli, "iam", "create-policy", "--policy-name", f"cli-pol-{uid}",
        "--policy-document", json.dumps(S3_READ),
    )["Policy"]  # fmt: skip
    version = run_json(
        aws_cli, "iam", "get-policy-version", "--policy-arn", policy["Arn"], "--version-id", "v1"
    )
    assert version["PolicyVersion"]["Document"] == S3_READ

    aws_cli("iam", "tag-role", "--role-name", role, "--tags", "Key=env,Value=prod")
    tags = run_json(aws_cli, "iam", "list-role-tags", "--role-name", role)["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}, {"Key": "env", "Value": "prod"}]
    aws_cli("iam", "untag-role", "--role-name", role, "--tag-keys", "team")

    conflict = aws_cli("iam", "delete-role", "--role-name", role, check=False)
    assert conflict.returncode != 0 and "DeleteConflict" in conflict.stderr
    aws_cli("iam", "delete-role-policy", "--role-name", role, "--policy-name", "read")
    aws_cli("iam", "detach-role-policy", "--role-name", role, "--policy-arn", BASIC_EXECUTION)
    aws_cli("iam", "delete-role", "--role-name", role)
    aws_cli("iam", "delete-policy", "--policy-arn", policy["Arn"])

    missing = aws_cli("iam", "get-role", "--role-name", role, check=False)
    assert missing.returncode != 0
    assert "NoSuchEntity" in missing.stderr and f"{role} cannot be found" in missing.stderr


def test_users_and_keys_with_the_cli(aws_cli: Cli) -> None:
    user = f"cli-user-{uuid.uuid4().hex[:10]}"
    created = run_json(aws_cli, "iam", "create-user", "--user-name", user)
    assert created["User"]["UserName"] == user
    key = run_json(aws_cli, "iam", "create-access-key", "--user-name", user)["AccessKey"]
    listed = run_json(aws_cli, "iam", "list-access-keys", "--user-name", user)
    assert [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    aws_cli(
        "iam", "update-access-key", "--user-name", user,
        "--access-key-id", key["AccessKeyId"], "--status", "Inactive",
    )  # fmt: skip
    aws_cli("iam", "delete-access-key", "--user-name", user, "--access-key-id", key["AccessKeyId"])
    users = run_json(aws_cli, "iam", "list-users")["Users"]
    assert user in {u["UserName"] for u in users}
    aws_cli("iam", "delete-user", "--user-name", user)
    bad = aws_cli(
        "iam", "create-role", "--role-name", "bad name",
        "--assume-role-policy-document", json.dumps(TRUST), check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "ValidationError" in bad.stderr
