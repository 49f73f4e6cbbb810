"""Managed policies and versions, in-process; and the built-in AWS managed catalogue."""

from __future__ import annotations

import json
import re

import pytest

from iam_support import (
    ACCOUNT,
    BASIC_EXECUTION,
    S3_READ,
    TRUST_LAMBDA,
    Caller,
    all_pages,
    aws_error,
    decode,
    make_policy,
    make_role,
)
from lambdamaker.config import PlatformConfig
from lambdamaker.platform import Platform
from lambdamaker.security.policy import PolicyKind, parse_policy
from lambdamaker.services.iam.managed import CATALOGUE

S3_WRITE = S3_READ.replace("s3:GetObject", "s3:PutObject")


def test_create_policy_returns_id_arn_and_default_version(iam: Caller) -> None:
    policy = make_policy(iam, "s3-read", Description="read objects")
    assert policy["PolicyName"] == "s3-read"
    assert policy["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/s3-read"
    assert re.fullmatch(r"ANPA[A-Z0-9]{17}", policy["PolicyId"])
    assert policy["DefaultVersionId"] == "v1"
    assert policy["AttachmentCount"] == 0
    assert policy["IsAttachable"] is True
    assert policy["Path"] == "/"
    assert policy["Description"] == "read objects"


def test_policy_with_path_has_path_in_arn(iam: Caller) -> None:
    policy = make_policy(iam, "p", Path="/team/a/")
    assert policy["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/team/a/p"


@pytest.mark.parametrize("path", ["/sp ace/", "nope", "/a"])
def test_invalid_policy_path_is_validation_error(iam: Caller, path: str) -> None:
    with aws_error("ValidationError", 400):
        make_policy(iam, Path=path)


def test_get_policy_and_its_version(iam: Caller) -> None:
    arn = make_policy(iam, Tags=[{"Key": "team", "Value": "ml"}])["Arn"]
    got = iam("GetPolicy", PolicyArn=arn)["Policy"]
    assert got["Tags"] == [{"Key": "team", "Value": "ml"}]
    version = iam("GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["VersionId"] == "v1" and version["IsDefaultVersion"] is True
    assert decode(version["Document"]) == json.loads(S3_READ)


def test_policy_names_are_unique_regardless_of_case(iam: Caller) -> None:
    make_policy(iam, "Reader")
    with aws_error("EntityAlreadyExists", 409, "A policy called reader already exists."):
        make_policy(iam, "reader", Path="/other/")


def test_customer_policy_may_reuse_an_aws_managed_name(iam: Caller) -> None:
    policy = make_policy(iam, "AdministratorAccess")
    assert policy["Arn"] == f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess"


def test_create_policy_with_trust_policy_is_malformed(iam: Caller) -> None:
    with aws_error("MalformedPolicyDocument", 400):
        make_policy(iam, PolicyDocument=TRUST_LAMBDA)


def test_managed_policy_over_6144_characters_is_limit_exceeded(iam: Caller) -> None:
    actions = [f"s3:Action{i:05d}" for i in range(450)]
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
    )
    with aws_error("LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144"):
        make_policy(iam, PolicyDocument=big)


def test_get_unknown_policy_is_no_such_entity(iam: Caller) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/nope"
    with aws_error("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable."):
        iam("GetPolicy", PolicyArn=arn)


def test_get_policy_with_malformed_arn_is_invalid_input(iam: Caller) -> None:
    with aws_error("InvalidInput", 400, "ARN not-an-arn is not valid."):
        iam("GetPolicy", PolicyArn="not-an-arn")


def test_get_unknown_version_is_no_such_entity(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    with aws_error("NoSuchEntity", 404):
        iam("GetPolicyVersion", PolicyArn=arn, VersionId="v2")


def test_list_policies_scopes(iam: Caller) -> None:
    make_policy(iam, "mine")
    local = iam("ListPolicies", Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["mine"]
    aws = iam("ListPolicies", Scope="AWS", MaxItems=1000)["Policies"]
    assert {p["PolicyName"] for p in aws} == {mp.name for mp in CATALOGUE}
    everything = iam("ListPolicies", MaxItems=1000)["Policies"]
    assert len(everything) == len(CATALOGUE) + 1
    assert all("Tags" not in p for p in everything)


def test_list_policies_only_attached(iam: Caller) -> None:
    mine = make_policy(iam, "mine")
    make_policy(iam, "unused")
    make_role(iam)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=mine["Arn"])
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    attached = iam("ListPolicies", OnlyAttached=True)["Policies"]
    assert {p["Arn"] for p in attached} == {mine["Arn"], BASIC_EXECUTION}
    local = iam("ListPolicies", OnlyAttached=True, Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local] == ["mine"]
    assert local[0]["AttachmentCount"] == 1


def test_list_policies_by_path_prefix(iam: Caller) -> None:
    make_policy(iam, "a", Path="/team/")
    make_policy(iam, "b")
    names = [p["PolicyName"] for p in iam("ListPolicies", PathPrefix="/team/")["Policies"]]
    assert names == ["a"]
    service_role = iam("ListPolicies", PathPrefix="/service-role/", Scope="AWS")["Policies"]
    assert BASIC_EXECUTION in {p["Arn"] for p in service_role}


def test_list_policies_paginates_through_everything_once(iam: Caller) -> None:
    for i in range(5):
        make_policy(iam, f"p{i}")
    pages = all_pages(iam, "ListPolicies", MaxItems=4)
    seen = [p["Arn"] for page in pages for p in page["Policies"]]
    assert len(seen) == len(set(seen)) == len(CATALOGUE) + 5


def test_list_policies_rejects_unknown_scope(iam: Caller) -> None:
    with aws_error("ValidationError", 400):
        iam("ListPolicies", Scope="Everything")


def test_delete_policy(iam: Caller) -> None:
    arn = make_policy(iam, Tags=[{"Key": "k", "Value": "v"}])["Arn"]
    iam("DeletePolicy", PolicyArn=arn)
    with aws_error("NoSuchEntity", 404):
        iam("GetPolicy", PolicyArn=arn)
    again = make_policy(iam)
    assert "Tags" not in iam("GetPolicy", PolicyArn=again["Arn"])["Policy"]


def test_delete_attached_policy_is_delete_conflict(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    make_role(iam)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=arn)
    with aws_error("DeleteConflict", 409, "Cannot delete a policy attached to entities."):
        iam("DeletePolicy", PolicyArn=arn)
    iam("DetachRolePolicy", RoleName="fn-role", PolicyArn=arn)
    iam("DeletePolicy", PolicyArn=arn)


def test_delete_aws_managed_policy_is_access_denied(iam: Caller) -> None:
    with aws_error("AccessDenied", 403):
        iam("DeletePolicy", PolicyArn=BASIC_EXECUTION)
    assert iam("GetPolicy", PolicyArn=BASIC_EXECUTION)["Policy"]["PolicyName"] == (
        "AWSLambdaBasicExecutionRole"
    )


def test_aws_managed_policy_document_is_readable(iam: Caller) -> None:
    policy = iam("GetPolicy", PolicyArn=BASIC_EXECUTION)["Policy"]
    version = iam(
        "GetPolicyVersion", PolicyArn=BASIC_EXECUTION, VersionId=policy["DefaultVersionId"]
    )
    statement = decode(version["PolicyVersion"]["Document"])["Statement"][0]
    assert "logs:PutLogEvents" in statement["Action"]


def test_catalogue_documents_are_valid_identity_policies() -> None:
    for mp in CATALOGUE:
        parse_policy(mp.document_text, PolicyKind.IDENTITY)
    assert len({mp.policy_id for mp in CATALOGUE}) == len(CATALOGUE)


def test_catalogue_sync_keeps_attachments_across_restart(platform: Platform) -> None:
    iam = Caller(platform, "iam")
    make_role(iam)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    platform.close()
    with Platform(PlatformConfig(data_dir=platform.config.data_dir), services=["iam"]) as again:
        iam2 = Caller(again, "iam")
        attached = iam2("ListAttachedRolePolicies", RoleName="fn-role")["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [BASIC_EXECUTION]
        assert iam2("GetPolicy", PolicyArn=BASIC_EXECUTION)["Policy"]["AttachmentCount"] == 1


# -- versions --------------------------------------------------------------------------------


def test_create_policy_version_as_default(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    v2 = iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE, SetAsDefault=True)
    assert v2["PolicyVersion"]["VersionId"] == "v2"
    assert v2["PolicyVersion"]["IsDefaultVersion"] is True
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    v1 = iam("GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert v1["IsDefaultVersion"] is False


def test_create_policy_version_not_default_keeps_default(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    out = iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)
    assert out["PolicyVersion"]["IsDefaultVersion"] is False
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"


def test_a_policy_holds_at_most_five_versions(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    for _ in range(4):
        iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)
    with aws_error("LimitExceeded", 409, "up to 5 versions"):
        iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)


def test_version_ids_are_not_reused_after_deletion(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)
    iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    out = iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)
    assert out["PolicyVersion"]["VersionId"] == "v3"


def test_list_policy_versions_newest_first(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE, SetAsDefault=True)
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_READ)
    out = iam("ListPolicyVersions", PolicyArn=arn)
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in out["Versions"]] == [
        ("v3", False),
        ("v2", True),
        ("v1", False),
    ]
    page = iam("ListPolicyVersions", PolicyArn=arn, MaxItems=2)
    rest = iam("ListPolicyVersions", PolicyArn=arn, Marker=page["Marker"])
    assert [v["VersionId"] for v in page["Versions"] + rest["Versions"]] == ["v3", "v2", "v1"]


def test_delete_default_version_is_delete_conflict(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    with aws_error("DeleteConflict", 409, "Cannot delete the default version of a policy."):
        iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v1")


def test_delete_policy_with_extra_versions_is_delete_conflict(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)
    with aws_error("DeleteConflict", 409, "more than one version"):
        iam("DeletePolicy", PolicyArn=arn)
    iam("DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    iam("DeletePolicy", PolicyArn=arn)


def test_set_default_policy_version(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    iam("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=S3_WRITE)
    iam("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v2")
    assert iam("GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    with aws_error("NoSuchEntity", 404):
        iam("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v9")


def test_create_version_of_aws_managed_policy_is_access_denied(iam: Caller) -> None:
    with aws_error("AccessDenied", 403):
        iam("CreatePolicyVersion", PolicyArn=BASIC_EXECUTION, PolicyDocument=S3_READ)


def test_invalid_version_id_is_validation_error(iam: Caller) -> None:
    arn = make_policy(iam)["Arn"]
    with aws_error("ValidationError", 400):
        iam("GetPolicyVersion", PolicyArn=arn, VersionId="1")
