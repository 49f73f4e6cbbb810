"""IAM and STS on a PostgreSQL store: one walk through every table and query shape.

The in-process suite runs on SQLite; this checks that the same SQL (prefix filters, compound
markers, counter updates, the access-key limit inside a transaction) behaves on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iam_support import (
    BASIC_EXECUTION,
    S3_READ,
    Caller,
    all_pages,
    aws_error,
    decode,
    make_policy,
    make_role,
)
from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.testing.postgres import TemporaryPostgres, find_postgres_bin_dir

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[TemporaryPostgres]:
    if find_postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with TemporaryPostgres() as pg:
        yield pg


@pytest.fixture()
def pg_platform(cluster: TemporaryPostgres, tmp_path: Path) -> Iterator[Platform]:
    with (
        cluster.database() as url,
        Platform(
            PlatformConfig(data_dir=tmp_path / "data", store_url=url), services=["iam", "sts"]
        ) as p,
    ):
        yield p


def test_iam_walkthrough_on_postgres(pg_platform: Platform) -> None:
    iam = Caller(pg_platform, "iam")
    sts = Caller(pg_platform, "sts")

    for name in ["b_role", "a.role", "c-role"]:
        make_role(iam, name, Path="/x_y/", Tags=[{"Key": "k", "Value": name}])
    make_role(iam, "other", Path="/xzy/")
    # "_" in a prefix is a literal character, not a LIKE wildcard.
    listed = iam("ListRoles", PathPrefix="/x_y/", MaxItems=2)
    rest = iam("ListRoles", PathPrefix="/x_y/", Marker=listed["Marker"])
    names = [r["RoleName"] for r in listed["Roles"] + rest["Roles"]]
    assert names == ["a.role", "b_role", "c-role"]
    with aws_error("EntityAlreadyExists", 409):
        make_role(iam, "B_ROLE")

    policy = make_policy(iam, "reader")
    iam("CreatePolicyVersion", PolicyArn=policy["Arn"], PolicyDocument=S3_READ, SetAsDefault=True)
    iam("AttachRolePolicy", RoleName="b_role", PolicyArn=policy["Arn"])
    iam("AttachRolePolicy", RoleName="b_role", PolicyArn=BASIC_EXECUTION)
    assert iam("GetPolicy", PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    pages = all_pages(iam, "ListPolicies", MaxItems=5)
    seen = [p["Arn"] for page in pages for p in page["Policies"]]
    assert len(seen) == len(set(seen)) and policy["Arn"] in seen
    attached = iam("ListPolicies", OnlyAttached=True)["Policies"]
    assert {p["Arn"] for p in attached} == {policy["Arn"], BASIC_EXECUTION}

    iam("PutRolePolicy", RoleName="b_role", PolicyName="inline", PolicyDocument=S3_READ)
    got = iam("GetRolePolicy", RoleName="b_role", PolicyName="inline")["PolicyDocument"]
    assert decode(got)["Statement"][0]["Action"] == "s3:GetObject"
    with aws_error("DeleteConflict", 409):
        iam("DeleteRole", RoleName="b_role")

    iam("CreateUser", UserName="alice")
    iam("CreateAccessKey", UserName="alice")
    iam("CreateAccessKey", UserName="alice")
    with aws_error("LimitExceeded", 409):
        iam("CreateAccessKey", UserName="alice")
    iam("TagUser", UserName="alice", Tags=[{"Key": "Env", "Value": "1"}])
    iam("TagUser", UserName="alice", Tags=[{"Key": "env", "Value": "2"}])
    assert iam("ListUserTags", UserName="alice")["Tags"] == [{"Key": "Env", "Value": "2"}]

    role_arn = iam("GetRole", RoleName="c-role")["Role"]["Arn"]
    creds = sts("AssumeRole", RoleArn=role_arn, RoleSessionName="pg")["Credentials"]
    assert pg_platform.credentials.lookup(creds["AccessKeyId"]) is not None
