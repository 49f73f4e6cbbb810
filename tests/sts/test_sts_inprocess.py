"""STS in-process: GetCallerIdentity, AssumeRole, GetSessionToken."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from iam_support import ACCOUNT, TRUST_LAMBDA, Caller, aws_error, make_role
from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.services.base import Principal

ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def principal_of(platform: Platform, access_key_id: str) -> Principal:
    """What the gateway builds from the credential-store record of a signing key."""
    rec = platform.credentials.lookup(access_key_id)
    assert rec is not None and rec.active
    return Principal(
        arn=rec.principal_arn,
        account_id=rec.account_id,
        access_key_id=rec.access_key_id,
        session_token=rec.session_token,
    )


# -- GetCallerIdentity -----------------------------------------------------------------------


def test_caller_identity_without_auth_is_the_root(sts: Caller) -> None:
    assert sts("GetCallerIdentity") == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": ROOT}


def test_caller_identity_of_the_admin_key_is_the_root(sts: Caller, platform: Platform) -> None:
    assert platform.admin_key is not None
    me = sts.as_principal(principal_of(platform, platform.admin_key.access_key_id))
    assert me("GetCallerIdentity") == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": ROOT}


def test_caller_identity_of_an_iam_user_key(sts: Caller, iam: Caller, platform: Platform) -> None:
    user = iam("CreateUser", UserName="alice", Path="/eng/")["User"]
    key = iam("CreateAccessKey", UserName="alice")["AccessKey"]
    me = sts.as_principal(principal_of(platform, key["AccessKeyId"]))
    assert me("GetCallerIdentity") == {
        "UserId": user["UserId"],
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/eng/alice",
    }


def test_user_id_is_the_unique_id_whatever_the_gateway_put_in_the_principal(
    sts: Caller, iam: Caller
) -> None:
    user = iam("CreateUser", UserName="alice")["User"]
    me = sts.as_principal(Principal(arn=user["Arn"], account_id=ACCOUNT, user_id="alice"))
    assert me("GetCallerIdentity")["UserId"] == user["UserId"]


# -- AssumeRole ------------------------------------------------------------------------------


def test_assume_role_returns_temporary_credentials_the_gateway_accepts(
    sts: Caller, iam: Caller, platform: Platform
) -> None:
    role = make_role(iam)
    before = time.time()
    out = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="job-42")
    creds = out["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", creds["AccessKeyId"])
    assert creds["SessionToken"] and creds["SecretAccessKey"]
    assert before + 3600 - 2 <= creds["Expiration"].timestamp() <= time.time() + 3600
    assumed_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/job-42"
    assert out["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:job-42",
        "Arn": assumed_arn,
    }
    rec = platform.credentials.lookup(creds["AccessKeyId"])
    assert rec is not None and rec.active
    assert rec.principal_arn == assumed_arn
    assert rec.session_token == creds["SessionToken"]
    assert rec.secret_access_key == creds["SecretAccessKey"]


def test_assumed_role_identity_reports_role_id_and_session(
    sts: Caller, iam: Caller, platform: Platform
) -> None:
    role = make_role(iam)
    creds = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    me = sts.as_principal(principal_of(platform, creds["AccessKeyId"]))
    assert me("GetCallerIdentity") == {
        "UserId": f"{role['RoleId']}:s1",
        "Account": ACCOUNT,
        "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/s1",
    }


def test_assumed_role_arn_leaves_out_the_role_path(sts: Caller, iam: Caller) -> None:
    role = make_role(iam, Path="/service-role/")
    out = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/s0"


def test_assume_role_duration_up_to_the_role_max(sts: Caller, iam: Caller) -> None:
    role = make_role(iam, MaxSessionDuration=43200)
    out = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0", DurationSeconds=43200)
    assert out["Credentials"]["Expiration"].timestamp() > time.time() + 43000


def test_assume_role_beyond_the_role_max_is_validation_error(sts: Caller, iam: Caller) -> None:
    role = make_role(iam)
    with aws_error("ValidationError", 400, "exceeds the MaxSessionDuration set for this role"):
        sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0", DurationSeconds=3601)


@pytest.mark.parametrize("duration", [0, 899, 43201])
def test_assume_role_duration_outside_model_range_is_validation_error(
    sts: Caller, iam: Caller, duration: int
) -> None:
    role = make_role(iam, MaxSessionDuration=43200)
    with aws_error("ValidationError", 400, "durationSeconds"):
        sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0", DurationSeconds=duration)


def test_role_chaining_is_limited_to_one_hour(sts: Caller, iam: Caller, platform: Platform) -> None:
    role = make_role(iam, MaxSessionDuration=43200)
    creds = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="a0")["Credentials"]
    chained = sts.as_principal(principal_of(platform, creds["AccessKeyId"]))
    with aws_error("ValidationError", 400, "role chaining"):
        chained("AssumeRole", RoleArn=role["Arn"], RoleSessionName="b0", DurationSeconds=7200)
    chained("AssumeRole", RoleArn=role["Arn"], RoleSessionName="b0", DurationSeconds=3600)


@pytest.mark.parametrize(
    "role_arn",
    [
        f"arn:aws:iam::{ACCOUNT}:role/missing",
        "arn:aws:iam::123456789012:role/fn-role",
        f"arn:aws:iam::{ACCOUNT}:role/other-path/fn-role",
        "not-an-arn-at-all-but-long",
    ],
)
def test_assume_unknown_role_is_access_denied(sts: Caller, iam: Caller, role_arn: str) -> None:
    make_role(iam)
    with aws_error("AccessDenied", 403, f"sts:AssumeRole on resource: {role_arn}"):
        sts("AssumeRole", RoleArn=role_arn, RoleSessionName="s0")


def test_access_denied_message_names_the_caller(sts: Caller) -> None:
    with aws_error("AccessDenied", 403, f"User: {ROOT} is not authorized"):
        sts("AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", RoleSessionName="s0")


@pytest.mark.parametrize("session", ["a", "has space", "x" * 65, "slash/es"])
def test_invalid_role_session_name_is_validation_error(
    sts: Caller, iam: Caller, session: str
) -> None:
    role = make_role(iam)
    with aws_error("ValidationError", 400, "roleSessionName"):
        sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName=session)


def test_session_policy_is_validated_and_sized(sts: Caller, iam: Caller) -> None:
    role = make_role(iam)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
    )
    out = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0", Policy=policy)
    assert 0 < out["PackedPolicySize"] < 100
    with aws_error("MalformedPolicyDocument", 400):
        sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0", Policy=TRUST_LAMBDA)


def test_oversized_session_policy_is_packed_policy_too_large(sts: Caller, iam: Caller) -> None:
    role = make_role(iam)
    actions = [f"s3:Action{i:04d}" for i in range(200)]
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )
    with aws_error("PackedPolicyTooLarge", 400):
        sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0", Policy=policy)


def test_assume_role_without_iam_provider_is_access_denied(tmp_path: Any) -> None:
    with Platform(PlatformConfig(data_dir=tmp_path / "sts-only"), services=["sts"]) as p:
        sts = Caller(p, "sts")
        with aws_error("AccessDenied", 403):
            sts("AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", RoleSessionName="s0")
        assert sts("GetCallerIdentity")["Arn"] == ROOT


def test_identity_survives_deletion_of_the_assumed_role(
    sts: Caller, iam: Caller, platform: Platform
) -> None:
    role = make_role(iam)
    creds = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0")["Credentials"]
    iam("DeleteRole", RoleName="fn-role")
    me = sts.as_principal(principal_of(platform, creds["AccessKeyId"]))
    identity = me("GetCallerIdentity")
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/s0"
    assert identity["UserId"].endswith(":s0")


# -- GetSessionToken -------------------------------------------------------------------------


def test_get_session_token_for_a_user_keeps_the_user_identity(
    sts: Caller, iam: Caller, platform: Platform
) -> None:
    user = iam("CreateUser", UserName="alice")["User"]
    key = iam("CreateAccessKey", UserName="alice")["AccessKey"]
    alice = sts.as_principal(principal_of(platform, key["AccessKeyId"]))
    creds = alice("GetSessionToken", DurationSeconds=900)["Credentials"]
    rec = platform.credentials.lookup(creds["AccessKeyId"])
    assert rec is not None and rec.principal_arn == user["Arn"] and rec.session_token
    # Temporary user keys are not long-term access keys: IAM does not list them.
    assert len(iam("ListAccessKeys", UserName="alice")["AccessKeyMetadata"]) == 1


def test_get_session_token_with_session_credentials_is_access_denied(
    sts: Caller, iam: Caller, platform: Platform
) -> None:
    role = make_role(iam)
    creds = sts("AssumeRole", RoleArn=role["Arn"], RoleSessionName="s0")["Credentials"]
    session = sts.as_principal(principal_of(platform, creds["AccessKeyId"]))
    with aws_error("AccessDenied", 403):
        session("GetSessionToken")


def test_root_session_tokens_last_at_most_an_hour(sts: Caller) -> None:
    with aws_error("ValidationError", 400):
        sts("GetSessionToken", DurationSeconds=7200)
    creds = sts("GetSessionToken")["Credentials"]
    assert creds["Expiration"].timestamp() <= time.time() + 3600
