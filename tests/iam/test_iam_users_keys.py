"""IAM users and access keys, in-process. Keys are checked in the credential store, which is
what the gateway authenticates against."""

from __future__ import annotations

import re

import pytest

from iam_support import ACCOUNT, BASIC_EXECUTION, Caller, aws_error, make_role
from lambdamaker.platform import Platform
from lambdamaker.services.base import Principal


def make_user(iam: Caller, name: str = "alice", **params: object) -> dict[str, object]:
    user: dict[str, object] = iam("CreateUser", UserName=name, **params)["User"]
    return user


def as_user(iam: Caller, name: str) -> Caller:
    user = iam("GetUser", UserName=name)["User"]
    return iam.as_principal(Principal(arn=user["Arn"], account_id=ACCOUNT, user_id=user["UserId"]))


def test_create_user_returns_id_and_arn(iam: Caller) -> None:
    user = make_user(iam, "alice", Path="/eng/")
    assert user["UserName"] == "alice"
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", str(user["UserId"]))
    assert user["Path"] == "/eng/"


def test_user_names_are_unique_regardless_of_case(iam: Caller) -> None:
    make_user(iam, "Alice")
    with aws_error("EntityAlreadyExists", 409, "User with name alice already exists."):
        make_user(iam, "alice")


@pytest.mark.parametrize("name", ["", "has space", "x" * 65])
def test_invalid_user_names_are_validation_errors(iam: Caller, name: str) -> None:
    with aws_error("ValidationError", 400):
        make_user(iam, name)


def test_get_user_by_name_includes_tags(iam: Caller) -> None:
    make_user(iam, Tags=[{"Key": "team", "Value": "ml"}], PermissionsBoundary=BASIC_EXECUTION)
    user = iam("GetUser", UserName="alice")["User"]
    assert user["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == BASIC_EXECUTION


def test_get_unknown_user_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404, "The user with name bob cannot be found."):
        iam("GetUser", UserName="bob")


def test_get_user_without_name_returns_the_caller(iam: Caller) -> None:
    make_user(iam)
    me = as_user(iam, "alice")("GetUser")["User"]
    assert me["UserName"] == "alice"


def test_get_user_without_name_as_root_returns_the_root(iam: Caller) -> None:
    me = iam("GetUser")["User"]
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert me["UserId"] == ACCOUNT
    assert "UserName" not in me


def test_get_user_without_name_as_assumed_role_is_validation_error(iam: Caller) -> None:
    role = iam.as_principal(
        Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", account_id=ACCOUNT)
    )
    with aws_error("ValidationError", 400, "Must specify userName"):
        role("GetUser")


def test_list_users_sorted_paginated_and_filtered(iam: Caller) -> None:
    for name in ["carol", "Bob", "alice"]:
        make_user(iam, name, Path="/eng/" if name != "carol" else "/ops/")
    out = iam("ListUsers", MaxItems=2)
    assert [u["UserName"] for u in out["Users"]] == ["alice", "Bob"] and out["IsTruncated"]
    rest = iam("ListUsers", Marker=out["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["carol"] and not rest["IsTruncated"]
    eng = iam("ListUsers", PathPrefix="/eng/")["Users"]
    assert [u["UserName"] for u in eng] == ["alice", "Bob"]


def test_delete_user(iam: Caller) -> None:
    make_user(iam)
    iam("DeleteUser", UserName="alice")
    with aws_error("NoSuchEntity", 404):
        iam("GetUser", UserName="alice")
    with aws_error("NoSuchEntity", 404):
        iam("DeleteUser", UserName="alice")


def test_delete_user_with_access_keys_is_delete_conflict(iam: Caller) -> None:
    make_user(iam)
    key = iam("CreateAccessKey", UserName="alice")["AccessKey"]
    with aws_error("DeleteConflict", 409, "must delete access keys first"):
        iam("DeleteUser", UserName="alice")
    iam("DeleteAccessKey", UserName="alice", AccessKeyId=key["AccessKeyId"])
    iam("DeleteUser", UserName="alice")


# -- access keys -----------------------------------------------------------------------------


def test_created_key_is_active_in_the_credential_store(iam: Caller, platform: Platform) -> None:
    user = make_user(iam)
    key = iam("CreateAccessKey", UserName="alice")["AccessKey"]
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", key["AccessKeyId"])
    assert key["Status"] == "Active" and key["UserName"] == "alice"
    assert len(key["SecretAccessKey"]) == 40
    rec = platform.credentials.lookup(key["AccessKeyId"])
    assert rec is not None and rec.active
    assert rec.principal_arn == user["Arn"]
    assert rec.secret_access_key == key["SecretAccessKey"]


def test_third_access_key_is_limit_exceeded(iam: Caller) -> None:
    make_user(iam)
    iam("CreateAccessKey", UserName="alice")
    iam("CreateAccessKey", UserName="alice")
    with aws_error("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2"):
        iam("CreateAccessKey", UserName="alice")
    assert len(iam("ListAccessKeys", UserName="alice")["AccessKeyMetadata"]) == 2


def test_create_access_key_for_unknown_user_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404):
        iam("CreateAccessKey", UserName="ghost")


def test_list_access_keys_shows_no_secrets(iam: Caller) -> None:
    make_user(iam)
    created = iam("CreateAccessKey", UserName="alice")["AccessKey"]
    listed = iam("ListAccessKeys", UserName="alice")["AccessKeyMetadata"]
    assert listed == [
        {
            "UserName": "alice",
            "AccessKeyId": created["AccessKeyId"],
            "Status": "Active",
            "CreateDate": created["CreateDate"],
        }
    ]


def test_user_manages_own_keys_without_user_name(iam: Caller) -> None:
    make_user(iam)
    alice = as_user(iam, "alice")
    key = alice("CreateAccessKey")["AccessKey"]
    assert key["UserName"] == "alice"
    assert [k["AccessKeyId"] for k in alice("ListAccessKeys")["AccessKeyMetadata"]] == [
        key["AccessKeyId"]
    ]
    alice("DeleteAccessKey", AccessKeyId=key["AccessKeyId"])
    assert alice("ListAccessKeys")["AccessKeyMetadata"] == []


def test_root_lists_its_own_keys_without_user_name(iam: Caller, platform: Platform) -> None:
    assert platform.admin_key is not None
    keys = iam("ListAccessKeys")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [platform.admin_key.access_key_id]


def test_delete_access_key_revokes_it(iam: Caller, platform: Platform) -> None:
    make_user(iam)
    key_id = iam("CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    assert platform.credentials.lookup(key_id) is not None
    iam("DeleteAccessKey", UserName="alice", AccessKeyId=key_id)
    assert platform.credentials.lookup(key_id) is None
    assert iam("ListAccessKeys", UserName="alice")["AccessKeyMetadata"] == []


def test_delete_key_of_another_user_is_no_such_entity(iam: Caller, platform: Platform) -> None:
    make_user(iam, "alice")
    make_user(iam, "bob")
    key_id = iam("CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    with aws_error("NoSuchEntity", 404, f"The Access Key with id {key_id} cannot be found."):
        iam("DeleteAccessKey", UserName="bob", AccessKeyId=key_id)
    assert platform.credentials.lookup(key_id) is not None


def test_update_access_key_deactivates_and_reactivates(iam: Caller, platform: Platform) -> None:
    make_user(iam)
    key_id = iam("CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    iam("UpdateAccessKey", UserName="alice", AccessKeyId=key_id, Status="Inactive")
    rec = platform.credentials.lookup(key_id)
    assert rec is not None and not rec.active
    listed = iam("ListAccessKeys", UserName="alice")["AccessKeyMetadata"]
    assert listed[0]["Status"] == "Inactive"
    iam("UpdateAccessKey", UserName="alice", AccessKeyId=key_id, Status="Active")
    rec = platform.credentials.lookup(key_id)
    assert rec is not None and rec.active


def test_update_access_key_with_bad_status_is_validation_error(iam: Caller) -> None:
    make_user(iam)
    key_id = iam("CreateAccessKey", UserName="alice")["AccessKey"]["AccessKeyId"]
    with aws_error("ValidationError", 400):
        iam("UpdateAccessKey", UserName="alice", AccessKeyId=key_id, Status="Expired")


def test_update_unknown_key_is_no_such_entity(iam: Caller) -> None:
    make_user(iam)
    with aws_error("NoSuchEntity", 404):
        iam(
            "UpdateAccessKey", UserName="alice", AccessKeyId="AKIA0000000000000000", Status="Active"
        )


def test_users_and_roles_do_not_share_a_namespace(iam: Caller) -> None:
    make_user(iam, "same")
    make_role(iam, "same")
    assert iam("GetUser", UserName="same")["User"]["UserName"] == "same"
