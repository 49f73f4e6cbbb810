"""STS over HTTP with boto3: identities of every kind of key, and temporary credentials that
the gateway's authentication honours."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdamaker.testing import ServerProcess

ACCOUNT = "000000000000"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture()
def uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture()
def client_with(lm_server: ServerProcess) -> Callable[..., Any]:
    """A client signed with the given key (and session token), not the admin key."""

    def make(service: str, key: str, secret: str, token: str | None = None, **config: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=lm_server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return make


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_admin_key_is_the_account_root(boto_client: Callable[..., Any]) -> None:
    identity = boto_client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert identity["Account"] == ACCOUNT
    assert identity["UserId"] == ACCOUNT


def test_key_from_create_access_key_signs_as_the_user(
    boto_client: Callable[..., Any], client_with: Callable[..., Any], uid: str
) -> None:
    iam = boto_client("iam")
    user = iam.create_user(UserName=f"alice-{uid}", Path="/eng/")["User"]
    key = iam.create_access_key(UserName=f"alice-{uid}")["AccessKey"]
    sts = client_with("sts", key["AccessKeyId"], key["SecretAccessKey"])
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice-{uid}"
    assert identity["UserId"] == user["UserId"]
    # The user also sees itself through IAM.
    me = client_with("iam", key["AccessKeyId"], key["SecretAccessKey"]).get_user()["User"]
    assert me["UserName"] == f"alice-{uid}"


def test_deleted_key_is_invalid_client_token_id(
    boto_client: Callable[..., Any], client_with: Callable[..., Any], uid: str
) -> None:
    iam = boto_client("iam")
    iam.create_user(UserName=f"gone-{uid}")
    key = iam.create_access_key(UserName=f"gone-{uid}")["AccessKey"]
    sts = client_with("sts", key["AccessKeyId"], key["SecretAccessKey"])
    sts.get_caller_identity()
    iam.delete_access_key(UserName=f"gone-{uid}", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error_of(exc) == ("InvalidClientTokenId", 403)


def test_inactive_key_is_rejected_until_reactivated(
    boto_client: Callable[..., Any], client_with: Callable[..., Any], uid: str
) -> None:
    iam = boto_client("iam")
    name = f"paused-{uid}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = client_with("sts", key["AccessKeyId"], key["SecretAccessKey"])
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error_of(exc) == ("InvalidClientTokenId", 403)
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")


def test_assume_role_credentials_sign_as_the_assumed_role(
    boto_client: Callable[..., Any], client_with: Callable[..., Any], uid: str
) -> None:
    role = boto_client("iam").create_role(
        RoleName=f"job-{uid}", Path="/service-role/", AssumeRolePolicyDocument=TRUST
    )["Role"]
    out = boto_client("sts").assume_role(
        RoleArn=role["Arn"], RoleSessionName="train-1", DurationSeconds=900
    )
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    expiry = creds["Expiration"].astimezone(UTC)
    assert datetime.now(UTC) < expiry <= datetime.now(UTC) + timedelta(seconds=901)
    assumed_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/job-{uid}/train-1"
    assert out["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:train-1",
        "Arn": assumed_arn,
    }
    sts = client_with("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    identity = sts.get_caller_identity()
    assert identity["Arn"] == assumed_arn
    assert identity["UserId"] == f"{role['RoleId']}:train-1"

    # Without its session token the temporary key is not accepted.
    bare = client_with("sts", creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        bare.get_caller_identity()
    assert error_of(exc) == ("InvalidClientTokenId", 403)


def test_assume_role_errors(
    boto_client: Callable[..., Any],
    client_with: Callable[..., Any],
    lm_server: ServerProcess,
    uid: str,
) -> None:
    sts = boto_client("sts")
    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/nope-{uid}", RoleSessionName="s1")
    assert error_of(denied) == ("AccessDenied", 403)

    role = boto_client("iam").create_role(RoleName=f"short-{uid}", AssumeRolePolicyDocument=TRUST)[
        "Role"
    ]
    with pytest.raises(ClientError) as too_long:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7200)
    assert error_of(too_long) == ("ValidationError", 400)

    key, secret = lm_server.credentials()
    raw = client_with("sts", key, secret, parameter_validation=False)
    with pytest.raises(ClientError) as bad_name:
        raw.assume_role(RoleArn=role["Arn"], RoleSessionName="has space")
    assert error_of(bad_name) == ("ValidationError", 400)


def test_assumed_role_can_chain_and_call_other_services(
    boto_client: Callable[..., Any], client_with: Callable[..., Any], uid: str
) -> None:
    role = boto_client("iam").create_role(RoleName=f"chain-{uid}", AssumeRolePolicyDocument=TRUST)[
        "Role"
    ]
    creds = boto_client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="one")[
        "Credentials"
    ]
    as_role = client_with(
        "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    second = as_role.assume_role(RoleArn=role["Arn"], RoleSessionName="two")["Credentials"]
    chained = client_with(
        "sts", second["AccessKeyId"], second["SecretAccessKey"], second["SessionToken"]
    )
    assert chained.get_caller_identity()["Arn"].endswith(f":assumed-role/chain-{uid}/two")
    iam_as_role = client_with(
        "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    assert iam_as_role.get_role(RoleName=f"chain-{uid}")["Role"]["Arn"] == role["Arn"]


def test_get_session_token_for_a_user(
    boto_client: Callable[..., Any], client_with: Callable[..., Any], uid: str
) -> None:
    iam = boto_client("iam")
    iam.create_user(UserName=f"tok-{uid}")
    key = iam.create_access_key(UserName=f"tok-{uid}")["AccessKey"]
    user_sts = client_with("sts", key["AccessKeyId"], key["SecretAccessKey"])
    creds = user_sts.get_session_token(DurationSeconds=900)["Credentials"]
    session = client_with(
        "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    assert session.get_caller_identity()["Arn"].endswith(f":user/tok-{uid}")
