"""IAM over HTTP with boto3 against the session server: every operation, errors as boto3 sees
them. Names carry a per-test suffix because the server is shared by the whole session."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SAGEMAKER_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "sagemaker.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
S3_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
            "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
        }
    ],
}


@pytest.fixture()
def iam(boto_client: Callable[..., Any]) -> Any:
    return boto_client("iam")


@pytest.fixture()
def uid() -> str:
    return uuid.uuid4().hex[:10]


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def create_role(iam: Any, name: str, **params: Any) -> dict[str, Any]:
    params.setdefault("AssumeRolePolicyDocument", json.dumps(TRUST))
    role: dict[str, Any] = iam.create_role(RoleName=name, **params)["Role"]
    return role


# -- roles -----------------------------------------------------------------------------------


def test_role_lifecycle_and_documents_come_back_as_sent(iam: Any, uid: str) -> None:
    name = f"fn-{uid}"
    role = create_role(
        iam,
        name,
        Path=f"/t{uid}/",
        Description="lambda role",
        MaxSessionDuration=7200,
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    assert role["Arn"] == f"arn:aws:iam::000000000000:role/t{uid}/{name}"
    assert role["AssumeRolePolicyDocument"] == TRUST
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST
    assert (got["Description"], got["MaxSessionDuration"]) == ("lambda role", 7200)
    assert got["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert got["RoleId"] == role["RoleId"] and got["RoleId"].startswith("AROA")

    new_trust = {**TRUST, "Statement": [{**TRUST["Statement"][0], "Sid": "Lambda"}]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(new_trust))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == new_trust
    iam.update_role(RoleName=name, Description="changed", MaxSessionDuration=3600)
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "changed"
    iam.update_role_description(RoleName=name, Description="again")

    iam.delete_role(RoleName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_role(RoleName=name)
    assert error_of(exc) == ("NoSuchEntity", 404)


def test_list_roles_paginator_walks_every_page(iam: Any, uid: str) -> None:
    names = sorted(f"r{i}-{uid}" for i in range(5))
    for name in names:
        create_role(iam, name, Path=f"/page{uid}/")
    pages = list(
        iam.get_paginator("list_roles").paginate(
            PathPrefix=f"/page{uid}/", PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 3
    assert [r["RoleName"] for p in pages for r in p["Roles"]] == names
    assert all(r["AssumeRolePolicyDocument"] == TRUST for p in pages for r in p["Roles"])


@pytest.fixture()
def raw_iam(boto_client: Callable[..., Any]) -> Any:
    """A client that sends what it is given: the server, not botocore, must reject bad input."""
    return boto_client("iam", parameter_validation=False)


def test_role_errors(iam: Any, raw_iam: Any, uid: str) -> None:
    name = f"dup-{uid}"
    create_role(iam, name)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as exc:
        create_role(iam, name.upper())
    assert error_of(exc) == ("EntityAlreadyExists", 409)

    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as mal:
        create_role(iam, f"bad-{uid}", AssumeRolePolicyDocument=json.dumps(S3_READ))
    assert error_of(mal) == ("MalformedPolicyDocument", 400)
    assert "Has prohibited field Resource" in str(mal.value)

    with pytest.raises(ClientError) as bad_name:
        create_role(iam, "has space")
    assert error_of(bad_name) == ("ValidationError", 400)
    with pytest.raises(ClientError) as bad_duration:
        create_role(raw_iam, f"x-{uid}", MaxSessionDuration=60)
    assert error_of(bad_duration) == ("ValidationError", 400)

    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=f"ghost-{uid}")


def test_delete_role_with_policies_is_delete_conflict(iam: Any, uid: str) -> None:
    name = f"busy-{uid}"
    create_role(iam, name)
    iam.attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)
    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_role(RoleName=name)
    assert error_of(exc) == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)
    iam.delete_role(RoleName=name)


# -- attached and inline policies ------------------------------------------------------------


def test_attach_aws_managed_policies_like_lambda_and_sagemaker_code_does(
    iam: Any, uid: str
) -> None:
    name = f"exec-{uid}"
    create_role(iam, name)
    iam.attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)
    iam.attach_role_policy(RoleName=name, PolicyArn=SAGEMAKER_FULL)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == {BASIC_EXECUTION, SAGEMAKER_FULL}
    policy = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
    version = iam.get_policy_version(
        PolicyArn=BASIC_EXECUTION, VersionId=policy["DefaultVersionId"]
    )
    assert "logs:PutLogEvents" in version["PolicyVersion"]["Document"]["Statement"][0]["Action"]

    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.attach_role_policy(
            RoleName=name, PolicyArn="arn:aws:iam::000000000000:policy/does-not-exist"
        )
    assert error_of(exc) == ("NoSuchEntity", 404)
    for arn in (BASIC_EXECUTION, SAGEMAKER_FULL):
        iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.detach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)


def test_inline_policies(iam: Any, uid: str) -> None:
    name = f"inline-{uid}"
    create_role(iam, name)
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(S3_READ))
    got = iam.get_role_policy(RoleName=name, PolicyName="read")
    assert got["PolicyDocument"] == S3_READ
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["read"]
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as mal:
        iam.put_role_policy(RoleName=name, PolicyName="trust", PolicyDocument=json.dumps(TRUST))
    assert "should not specify a principal" in str(mal.value)
    iam.delete_role_policy(RoleName=name, PolicyName="read")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_role_policy(RoleName=name, PolicyName="read")
    assert error_of(exc) == ("NoSuchEntity", 404)


# -- managed policies ------------------------------------------------------------------------


def test_managed_policy_lifecycle_with_versions(iam: Any, uid: str) -> None:
    name = f"pol-{uid}"
    policy = iam.create_policy(
        PolicyName=name,
        Path=f"/p{uid}/",
        PolicyDocument=json.dumps(S3_READ),
        Description="read data",
        Tags=[{"Key": "k", "Value": "v"}],
    )["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/p{uid}/{name}"
    assert policy["PolicyId"].startswith("ANPA") and policy["DefaultVersionId"] == "v1"
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "k", "Value": "v"}]
    v1 = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert v1["Document"] == S3_READ and v1["IsDefaultVersion"] is True

    write = {**S3_READ, "Statement": [{**S3_READ["Statement"][0], "Action": "s3:PutObject"}]}
    v2 = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(write), SetAsDefault=True
    )["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["Document"] == write
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [
        ("v2", True),
        ("v1", False),
    ]
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v2")

    local = iam.list_policies(Scope="Local", PathPrefix=f"/p{uid}/")["Policies"]
    assert [p["Arn"] for p in local] == [arn]

    role = f"user-of-{uid}"
    create_role(iam, role)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    only = iam.list_policies(Scope="Local", OnlyAttached=True, PathPrefix=f"/p{uid}/")
    assert [p["Arn"] for p in only["Policies"]] == [arn]
    with pytest.raises(iam.exceptions.DeleteConflictException) as conflict:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(conflict) == ("DeleteConflict", 409)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=arn)


def test_list_policies_paginator_over_aws_scope(iam: Any) -> None:
    pages = list(
        iam.get_paginator("list_policies").paginate(Scope="AWS", PaginationConfig={"PageSize": 4})
    )
    arns = [p["Arn"] for page in pages for p in page["Policies"]]
    assert len(pages) > 1 and len(arns) == len(set(arns))
    assert BASIC_EXECUTION in arns and SAGEMAKER_FULL in arns


def test_policy_errors(iam: Any, uid: str) -> None:
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as mal:
        iam.create_policy(PolicyName=f"bad-{uid}", PolicyDocument="{not json")
    assert error_of(mal) == ("MalformedPolicyDocument", 400)
    assert "Syntax errors in policy." in str(mal.value)
    with pytest.raises(iam.exceptions.InvalidInputException) as invalid:
        iam.get_policy(PolicyArn="arn:aws:iam::000000000000:polic/x")
    assert error_of(invalid) == ("InvalidInput", 400)
    big = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [f"s3:A{i:05d}" for i in range(600)], "Resource": "*"}
        ],
    }
    with pytest.raises(iam.exceptions.LimitExceededException) as limit:
        iam.create_policy(PolicyName=f"big-{uid}", PolicyDocument=json.dumps(big))
    assert error_of(limit) == ("LimitExceeded", 409)


# -- users and keys --------------------------------------------------------------------------


def test_user_and_access_key_lifecycle(iam: Any, uid: str) -> None:
    name = f"alice-{uid}"
    user = iam.create_user(UserName=name, Path=f"/u{uid}/", Tags=[{"Key": "a", "Value": "b"}])
    assert user["User"]["UserId"].startswith("AIDA")
    assert iam.get_user(UserName=name)["User"]["Tags"] == [{"Key": "a", "Value": "b"}]
    listed = iam.list_users(PathPrefix=f"/u{uid}/")["Users"]
    assert [u["UserName"] for u in listed] == [name]

    k1 = iam.create_access_key(UserName=name)["AccessKey"]
    k2 = iam.create_access_key(UserName=name)["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and k1["Status"] == "Active"
    with pytest.raises(iam.exceptions.LimitExceededException) as limit:
        iam.create_access_key(UserName=name)
    assert error_of(limit) == ("LimitExceeded", 409)
    ids = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert ids == {k1["AccessKeyId"], k2["AccessKeyId"]}

    iam.update_access_key(UserName=name, AccessKeyId=k2["AccessKeyId"], Status="Inactive")
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    }
    assert statuses[k2["AccessKeyId"]] == "Inactive"

    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName=name)
    for key in (k1, k2):
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"])
    iam.delete_user(UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as gone:
        iam.get_user(UserName=name)
    assert error_of(gone) == ("NoSuchEntity", 404)


def test_get_user_without_name_is_the_root_for_the_admin_key(iam: Any) -> None:
    me = iam.get_user()["User"]
    assert me["Arn"] == "arn:aws:iam::000000000000:root"


def test_list_users_paginator(iam: Any, uid: str) -> None:
    names = sorted(f"u{i}-{uid}" for i in range(3))
    for name in names:
        iam.create_user(UserName=name, Path=f"/pg{uid}/")
    pages = list(
        iam.get_paginator("list_users").paginate(
            PathPrefix=f"/pg{uid}/", PaginationConfig={"PageSize": 2}
        )
    )
    assert [u["UserName"] for p in pages for u in p["Users"]] == names


# -- tags ------------------------------------------------------------------------------------


def test_tags_on_roles_users_and_policies(iam: Any, uid: str) -> None:
    create_role(iam, f"tr-{uid}")
    iam.create_user(UserName=f"tu-{uid}")
    arn = iam.create_policy(PolicyName=f"tp-{uid}", PolicyDocument=json.dumps(S3_READ))["Policy"][
        "Arn"
    ]
    targets = [
        ("role", {"RoleName": f"tr-{uid}"}),
        ("user", {"UserName": f"tu-{uid}"}),
        ("policy", {"PolicyArn": arn}),
    ]
    for kind, ident in targets:
        getattr(iam, f"tag_{kind}")(**ident, Tags=[{"Key": "Env", "Value": "dev"}])
        getattr(iam, f"tag_{kind}")(
            **ident, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "ml"}]
        )
        listed = getattr(iam, f"list_{kind}_tags")(**ident)
        assert listed["Tags"] == [
            {"Key": "Env", "Value": "prod"},
            {"Key": "team", "Value": "ml"},
        ]
        assert listed["IsTruncated"] is False
        getattr(iam, f"untag_{kind}")(**ident, TagKeys=["ENV"])
        assert getattr(iam, f"list_{kind}_tags")(**ident)["Tags"] == [
            {"Key": "team", "Value": "ml"}
        ]
        with pytest.raises(iam.exceptions.InvalidInputException) as dup:
            getattr(iam, f"tag_{kind}")(
                **ident, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
            )
        assert error_of(dup) == ("InvalidInput", 400)
        with pytest.raises(iam.exceptions.LimitExceededException) as limit:
            getattr(iam, f"tag_{kind}")(
                **ident, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
            )
        assert error_of(limit) == ("LimitExceeded", 409)


def test_too_many_tags_in_one_request_is_validation_error(raw_iam: Any, uid: str) -> None:
    with pytest.raises(ClientError) as exc:
        create_role(
            raw_iam, f"many-{uid}", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]
        )
    assert error_of(exc) == ("ValidationError", 400)
