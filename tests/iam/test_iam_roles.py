"""IAM roles in-process: CreateRole, GetRole, ListRoles, DeleteRole, UpdateRole,
UpdateRoleDescription, UpdateAssumeRolePolicy."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

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


def test_create_role_returns_ids_arn_and_the_trust_policy(iam: Caller) -> None:
    role = make_role(iam, "fn-role", Description="runs functions")
    assert role["RoleName"] == "fn-role"
    assert role["Path"] == "/"
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/fn-role"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", role["RoleId"])
    assert role["MaxSessionDuration"] == 3600
    assert role["Description"] == "runs functions"
    assert isinstance(role["CreateDate"], datetime) and role["CreateDate"].tzinfo == UTC
    assert decode(role["AssumeRolePolicyDocument"]) == json.loads(TRUST_LAMBDA)


def test_trust_policy_comes_back_url_encoded_and_verbatim(iam: Caller) -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]\n}'
    role = make_role(iam, AssumeRolePolicyDocument=text)
    encoded = iam("GetRole", RoleName="fn-role")["Role"]["AssumeRolePolicyDocument"]
    assert "{" not in encoded and "%7B" in encoded
    assert decode(encoded) == json.loads(text)
    assert role["AssumeRolePolicyDocument"] == encoded


def test_role_with_path_has_path_in_arn(iam: Caller) -> None:
    role = make_role(iam, "r", Path="/service-role/team/")
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/team/r"
    assert role["Path"] == "/service-role/team/"


def test_get_role_returns_tags_boundary_and_last_used(iam: Caller) -> None:
    make_role(
        iam,
        Tags=[{"Key": "env", "Value": "prod"}],
        PermissionsBoundary=BASIC_EXECUTION,
        MaxSessionDuration=7200,
    )
    role = iam("GetRole", RoleName="fn-role")["Role"]
    assert role["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": BASIC_EXECUTION,
    }
    assert role["MaxSessionDuration"] == 7200
    assert role["RoleLastUsed"] == {}


def test_role_names_are_unique_regardless_of_case(iam: Caller) -> None:
    make_role(iam, "MyRole")
    with aws_error("EntityAlreadyExists", 409, "Role with name myrole already exists."):
        make_role(iam, "myrole")


def test_get_role_finds_role_regardless_of_case(iam: Caller) -> None:
    make_role(iam, "MyRole")
    assert iam("GetRole", RoleName="MYROLE")["Role"]["RoleName"] == "MyRole"


def test_get_unknown_role_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404, "The role with name nope cannot be found."):
        iam("GetRole", RoleName="nope")


@pytest.mark.parametrize("name", ["bad name", "a/b", "x" * 65, "", "rôle"])
def test_invalid_role_names_are_validation_errors(iam: Caller, name: str) -> None:
    with aws_error("ValidationError", 400):
        make_role(iam, name)


@pytest.mark.parametrize("path", ["no-slashes", "/missing-end", "end/", "/" + "a" * 511 + "/"])
def test_invalid_paths_are_validation_errors(iam: Caller, path: str) -> None:
    with aws_error("ValidationError", 400):
        make_role(iam, Path=path)


@pytest.mark.parametrize("duration", [3599, 43201, 0])
def test_max_session_duration_outside_1h_to_12h_is_rejected(iam: Caller, duration: int) -> None:
    with aws_error("ValidationError", 400, "maxSessionDuration"):
        make_role(iam, MaxSessionDuration=duration)


def test_description_over_1000_characters_is_rejected(iam: Caller) -> None:
    with aws_error("ValidationError", 400):
        make_role(iam, Description="d" * 1001)


def test_create_role_with_permissions_policy_as_trust_policy_is_malformed(iam: Caller) -> None:
    with aws_error("MalformedPolicyDocument", 400, "Has prohibited field Resource"):
        make_role(iam, AssumeRolePolicyDocument=S3_READ)
    with aws_error("NoSuchEntity", 404):
        iam("GetRole", RoleName="fn-role")


def test_create_role_with_invalid_json_is_malformed(iam: Caller) -> None:
    with aws_error("MalformedPolicyDocument", 400, "Syntax errors in policy."):
        make_role(iam, AssumeRolePolicyDocument="{not json")


def test_trust_policy_over_2048_characters_is_limit_exceeded(iam: Caller) -> None:
    services = [f"svc{i:04d}.amazonaws.com" for i in range(120)]
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": services}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    with aws_error("LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: 2048"):
        make_role(iam, AssumeRolePolicyDocument=big)


def test_unknown_permissions_boundary_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404):
        make_role(iam, PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/missing")


def test_permissions_boundary_usage_is_counted_on_the_policy(iam: Caller) -> None:
    policy = make_policy(iam)
    make_role(iam, PermissionsBoundary=policy["Arn"])
    got = iam("GetPolicy", PolicyArn=policy["Arn"])["Policy"]
    assert got["PermissionsBoundaryUsageCount"] == 1
    with aws_error("DeleteConflict", 409):
        iam("DeletePolicy", PolicyArn=policy["Arn"])
    iam("DeleteRole", RoleName="fn-role")
    assert iam("GetPolicy", PolicyArn=policy["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 0
    iam("DeletePolicy", PolicyArn=policy["Arn"])


def test_list_roles_is_sorted_and_omits_tags(iam: Caller) -> None:
    for name in ["b-role", "A-role", "c-role"]:
        make_role(iam, name, Tags=[{"Key": "k", "Value": "v"}])
    out = iam("ListRoles")
    assert [r["RoleName"] for r in out["Roles"]] == ["A-role", "b-role", "c-role"]
    assert out["IsTruncated"] is False and "Marker" not in out
    assert all("Tags" not in r for r in out["Roles"])
    assert all(decode(r["AssumeRolePolicyDocument"]) for r in out["Roles"])


def test_list_roles_paginates_with_marker(iam: Caller) -> None:
    names = [f"role-{i:02d}" for i in range(7)]
    for name in names:
        make_role(iam, name)
    pages = all_pages(iam, "ListRoles", MaxItems=3)
    seen = [r["RoleName"] for page in pages for r in page["Roles"]]
    assert seen == names and len(pages) == 3


def test_list_roles_filters_by_path_prefix(iam: Caller) -> None:
    make_role(iam, "a", Path="/service-role/")
    make_role(iam, "b", Path="/team/x/")
    make_role(iam, "c")
    assert [r["RoleName"] for r in iam("ListRoles", PathPrefix="/team/")["Roles"]] == ["b"]
    assert len(iam("ListRoles", PathPrefix="/")["Roles"]) == 3


def test_list_roles_rejects_garbage_marker(iam: Caller) -> None:
    with aws_error("InvalidInput", 400):
        iam("ListRoles", Marker="!!not-a-marker!!")


def test_list_roles_rejects_max_items_out_of_range(iam: Caller) -> None:
    with aws_error("ValidationError", 400):
        iam("ListRoles", MaxItems=0)


def test_delete_role_removes_it_and_its_tags(iam: Caller) -> None:
    make_role(iam, Tags=[{"Key": "k", "Value": "v"}])
    iam("DeleteRole", RoleName="fn-role")
    with aws_error("NoSuchEntity", 404):
        iam("GetRole", RoleName="fn-role")
    make_role(iam)
    assert "Tags" not in iam("GetRole", RoleName="fn-role")["Role"]


def test_delete_unknown_role_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404):
        iam("DeleteRole", RoleName="ghost")


def test_delete_role_with_attached_policy_is_delete_conflict(iam: Caller) -> None:
    make_role(iam)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    with aws_error("DeleteConflict", 409, "must detach all policies first"):
        iam("DeleteRole", RoleName="fn-role")
    iam("DetachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    iam("DeleteRole", RoleName="fn-role")


def test_delete_role_with_inline_policy_is_delete_conflict(iam: Caller) -> None:
    make_role(iam)
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="inline", PolicyDocument=S3_READ)
    with aws_error("DeleteConflict", 409, "must delete policies first"):
        iam("DeleteRole", RoleName="fn-role")
    iam("DeleteRolePolicy", RoleName="fn-role", PolicyName="inline")
    iam("DeleteRole", RoleName="fn-role")


def test_update_assume_role_policy_replaces_the_trust_policy(iam: Caller) -> None:
    make_role(iam)
    new = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    iam("UpdateAssumeRolePolicy", RoleName="fn-role", PolicyDocument=new)
    got = iam("GetRole", RoleName="fn-role")["Role"]["AssumeRolePolicyDocument"]
    assert decode(got) == json.loads(new)


def test_update_assume_role_policy_with_bad_document_changes_nothing(iam: Caller) -> None:
    make_role(iam)
    with aws_error("MalformedPolicyDocument", 400, "Missing required field Principal"):
        iam(
            "UpdateAssumeRolePolicy",
            RoleName="fn-role",
            PolicyDocument=json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
            ),
        )
    got = iam("GetRole", RoleName="fn-role")["Role"]["AssumeRolePolicyDocument"]
    assert decode(got) == json.loads(TRUST_LAMBDA)


def test_update_assume_role_policy_of_unknown_role_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404):
        iam("UpdateAssumeRolePolicy", RoleName="ghost", PolicyDocument=TRUST_LAMBDA)


def test_update_role_changes_description_and_max_session(iam: Caller) -> None:
    make_role(iam)
    iam("UpdateRole", RoleName="fn-role", Description="new", MaxSessionDuration=43200)
    role = iam("GetRole", RoleName="fn-role")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("new", 43200)
    with aws_error("ValidationError", 400):
        iam("UpdateRole", RoleName="fn-role", MaxSessionDuration=60)


def test_update_role_description_returns_the_role(iam: Caller) -> None:
    make_role(iam)
    role = iam("UpdateRoleDescription", RoleName="fn-role", Description="hello")["Role"]
    assert role["Description"] == "hello"


def test_marker_from_another_listing_is_invalid_input_not_a_crash(iam: Caller) -> None:
    make_role(iam)
    for i in range(3):
        iam("PutRolePolicy", RoleName="fn-role", PolicyName=f"p{i}", PolicyDocument=S3_READ)
    tags_marker = "WzFd"  # base64 of [1]: an integer key where names are strings
    with aws_error("InvalidInput", 400):
        iam("ListRolePolicies", RoleName="fn-role", Marker=tags_marker)
