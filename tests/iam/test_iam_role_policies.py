"""A role's attached and inline policies, in-process."""

from __future__ import annotations

import json

import pytest

from iam_support import (
    ACCOUNT,
    BASIC_EXECUTION,
    S3_READ,
    TRUST_LAMBDA,
    Caller,
    aws_error,
    decode,
    make_policy,
    make_role,
)

SAGEMAKER_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


def attachment_count(iam: Caller, arn: str) -> int:
    count: int = iam("GetPolicy", PolicyArn=arn)["Policy"]["AttachmentCount"]
    return count


def test_attach_aws_managed_lambda_basic_execution_role(iam: Caller) -> None:
    make_role(iam)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=SAGEMAKER_FULL)
    out = iam("ListAttachedRolePolicies", RoleName="fn-role")
    assert out["AttachedPolicies"] == [
        {"PolicyName": "AmazonSageMakerFullAccess", "PolicyArn": SAGEMAKER_FULL},
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC_EXECUTION},
    ]
    assert out["IsTruncated"] is False


def test_attach_customer_policy_counts_attachments(iam: Caller) -> None:
    policy = make_policy(iam)
    make_role(iam, "a")
    make_role(iam, "b")
    iam("AttachRolePolicy", RoleName="a", PolicyArn=policy["Arn"])
    iam("AttachRolePolicy", RoleName="b", PolicyArn=policy["Arn"])
    assert attachment_count(iam, policy["Arn"]) == 2
    iam("DetachRolePolicy", RoleName="a", PolicyArn=policy["Arn"])
    assert attachment_count(iam, policy["Arn"]) == 1


def test_attaching_twice_is_idempotent(iam: Caller) -> None:
    make_role(iam)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)
    assert len(iam("ListAttachedRolePolicies", RoleName="fn-role")["AttachedPolicies"]) == 1
    assert attachment_count(iam, BASIC_EXECUTION) == 1


def test_attach_unknown_policy_is_no_such_entity(iam: Caller) -> None:
    make_role(iam)
    arn = f"arn:aws:iam::{ACCOUNT}:policy/missing"
    with aws_error("NoSuchEntity", 404, f"Policy {arn} does not exist or is not attachable."):
        iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=arn)
    with aws_error("NoSuchEntity", 404):
        iam("AttachRolePolicy", RoleName="fn-role", PolicyArn="arn:aws:iam::aws:policy/NotAThing")


def test_attach_policy_with_malformed_arn_is_invalid_input(iam: Caller) -> None:
    make_role(iam)
    with aws_error("InvalidInput", 400, "is not valid"):
        iam("AttachRolePolicy", RoleName="fn-role", PolicyArn="arn:aws:s3:::bucket/policy")


def test_attach_to_unknown_role_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404, "The role with name ghost cannot be found."):
        iam("AttachRolePolicy", RoleName="ghost", PolicyArn=BASIC_EXECUTION)


def test_more_than_10_attached_policies_is_limit_exceeded(iam: Caller) -> None:
    make_role(iam)
    arns = [make_policy(iam, f"p{i}")["Arn"] for i in range(11)]
    for arn in arns[:10]:
        iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=arn)
    with aws_error("LimitExceeded", 409, "PoliciesPerRole: 10"):
        iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=arns[10])
    assert attachment_count(iam, arns[10]) == 0


def test_detach_not_attached_policy_is_no_such_entity(iam: Caller) -> None:
    make_role(iam)
    with aws_error("NoSuchEntity", 404, f"Policy {BASIC_EXECUTION} was not found."):
        iam("DetachRolePolicy", RoleName="fn-role", PolicyArn=BASIC_EXECUTION)


def test_list_attached_role_policies_paginates_and_filters_by_path(iam: Caller) -> None:
    make_role(iam)
    arns = [make_policy(iam, f"p{i}", Path="/team/")["Arn"] for i in range(3)]
    for arn in [*arns, BASIC_EXECUTION]:
        iam("AttachRolePolicy", RoleName="fn-role", PolicyArn=arn)
    first = iam("ListAttachedRolePolicies", RoleName="fn-role", MaxItems=2)
    assert first["IsTruncated"] is True
    second = iam("ListAttachedRolePolicies", RoleName="fn-role", Marker=first["Marker"])
    names = [p["PolicyName"] for p in first["AttachedPolicies"] + second["AttachedPolicies"]]
    assert names == ["AWSLambdaBasicExecutionRole", "p0", "p1", "p2"]
    team = iam("ListAttachedRolePolicies", RoleName="fn-role", PathPrefix="/team/")
    assert [p["PolicyArn"] for p in team["AttachedPolicies"]] == arns


def test_list_attached_policies_of_unknown_role_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404):
        iam("ListAttachedRolePolicies", RoleName="ghost")


# -- inline ----------------------------------------------------------------------------------


def test_put_and_get_inline_policy_round_trips_the_document(iam: Caller) -> None:
    make_role(iam)
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="read", PolicyDocument=S3_READ)
    out = iam("GetRolePolicy", RoleName="fn-role", PolicyName="read")
    assert out["RoleName"] == "fn-role" and out["PolicyName"] == "read"
    assert decode(out["PolicyDocument"]) == json.loads(S3_READ)


def test_put_role_policy_replaces_a_policy_of_the_same_name(iam: Caller) -> None:
    make_role(iam)
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="p", PolicyDocument=S3_READ)
    new = S3_READ.replace("s3:GetObject", "s3:PutObject")
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="p", PolicyDocument=new)
    got = iam("GetRolePolicy", RoleName="fn-role", PolicyName="p")["PolicyDocument"]
    assert decode(got)["Statement"][0]["Action"] == "s3:PutObject"
    assert iam("ListRolePolicies", RoleName="fn-role")["PolicyNames"] == ["p"]


def test_put_role_policy_with_trust_policy_is_malformed(iam: Caller) -> None:
    make_role(iam)
    with aws_error(
        "MalformedPolicyDocument", 400, "Policy document should not specify a principal."
    ):
        iam("PutRolePolicy", RoleName="fn-role", PolicyName="p", PolicyDocument=TRUST_LAMBDA)
    assert iam("ListRolePolicies", RoleName="fn-role")["PolicyNames"] == []


def test_put_role_policy_on_unknown_role_is_no_such_entity(iam: Caller) -> None:
    with aws_error("NoSuchEntity", 404):
        iam("PutRolePolicy", RoleName="ghost", PolicyName="p", PolicyDocument=S3_READ)


def _policy_of_size(chars: int) -> str:
    base = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}],
    }
    actions: list[str] = base["Statement"][0]["Action"]  # type: ignore[index]
    while len(json.dumps(base, separators=(",", ":"))) < chars:
        actions.append(f"s3:Action{len(actions):05d}")
    return json.dumps(base, separators=(",", ":"))


def test_inline_policies_of_a_role_are_limited_to_10240_characters_in_total(iam: Caller) -> None:
    make_role(iam)
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="a", PolicyDocument=_policy_of_size(6000))
    with aws_error(
        "LimitExceeded", 409, "Maximum policy size of 10240 bytes exceeded for role fn-role"
    ):
        iam(
            "PutRolePolicy",
            RoleName="fn-role",
            PolicyName="b",
            PolicyDocument=_policy_of_size(6000),
        )
    # Replacing "a" itself only counts the new text.
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="a", PolicyDocument=_policy_of_size(9000))


def test_whitespace_does_not_count_towards_the_inline_limit(iam: Caller) -> None:
    make_role(iam)
    pretty = json.dumps(json.loads(_policy_of_size(9000)), indent=12)
    assert len(pretty) > 10240
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="a", PolicyDocument=pretty)


def test_get_missing_inline_policy_is_no_such_entity(iam: Caller) -> None:
    make_role(iam)
    with aws_error("NoSuchEntity", 404, "The role policy with name nope cannot be found."):
        iam("GetRolePolicy", RoleName="fn-role", PolicyName="nope")


def test_delete_inline_policy(iam: Caller) -> None:
    make_role(iam)
    iam("PutRolePolicy", RoleName="fn-role", PolicyName="p", PolicyDocument=S3_READ)
    iam("DeleteRolePolicy", RoleName="fn-role", PolicyName="p")
    assert iam("ListRolePolicies", RoleName="fn-role")["PolicyNames"] == []
    with aws_error("NoSuchEntity", 404):
        iam("DeleteRolePolicy", RoleName="fn-role", PolicyName="p")


def test_list_role_policies_is_sorted_and_paginated(iam: Caller) -> None:
    make_role(iam)
    for name in ["c", "a", "b"]:
        iam("PutRolePolicy", RoleName="fn-role", PolicyName=name, PolicyDocument=S3_READ)
    first = iam("ListRolePolicies", RoleName="fn-role", MaxItems=2)
    assert first["PolicyNames"] == ["a", "b"] and first["IsTruncated"] is True
    rest = iam("ListRolePolicies", RoleName="fn-role", Marker=first["Marker"])
    assert rest["PolicyNames"] == ["c"] and rest["IsTruncated"] is False


@pytest.mark.parametrize("name", ["bad name", "x" * 129])
def test_invalid_inline_policy_name_is_validation_error(iam: Caller, name: str) -> None:
    make_role(iam)
    with aws_error("ValidationError", 400):
        iam("PutRolePolicy", RoleName="fn-role", PolicyName=name, PolicyDocument=S3_READ)
