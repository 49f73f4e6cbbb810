"""Resource policies and tags, in-process."""

from __future__ import annotations

import json

import pytest
from lambda_support import Caller, aws_error

ARN = "arn:aws:lambda:us-east-1:000000000000:function"


@pytest.fixture()
def fn(lam: Caller) -> str:
    lam.create("fn")
    lam.wait_active("fn")
    return "fn"


def test_add_permission_builds_the_policy_lambda_returns(lam: Caller, fn: str) -> None:
    out = lam(
        "AddPermission",
        FunctionName=fn,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads",
        SourceAccount="000000000000",
    )
    statement = json.loads(out["Statement"])
    assert statement == {
        "Sid": "s3-invoke",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": f"{ARN}:fn",
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "000000000000"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
        },
    }
    lam(
        "AddPermission",
        FunctionName=fn,
        StatementId="acct",
        Action="lambda:*",
        Principal="111122223333",
    )
    got = lam("GetPolicy", FunctionName=fn)
    policy = json.loads(got["Policy"])
    assert (policy["Version"], policy["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in policy["Statement"]] == ["s3-invoke", "acct"]
    assert policy["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert got["RevisionId"] == lam("GetFunctionConfiguration", FunctionName=fn)["RevisionId"]


def test_statement_ids_conflict_and_must_exist_to_be_removed(lam: Caller, fn: str) -> None:
    lam(
        "AddPermission",
        FunctionName=fn,
        StatementId="one",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    with aws_error(
        "ResourceConflictException", 409, "The statement id (one) provided already exists."
    ):
        lam(
            "AddPermission",
            FunctionName=fn,
            StatementId="one",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
    with aws_error(
        "ResourceNotFoundException", 404, "Statement two is not found in resource policy."
    ):
        lam("RemovePermission", FunctionName=fn, StatementId="two")
    lam("RemovePermission", FunctionName=fn, StatementId="one")
    with aws_error("ResourceNotFoundException", 404, "The resource you requested does not exist."):
        lam("GetPolicy", FunctionName=fn)
    with aws_error(
        "ResourceNotFoundException", 404, "No policy is associated with the given resource."
    ):
        lam("RemovePermission", FunctionName=fn, StatementId="one")


def test_policies_are_per_qualifier_with_revision_preconditions(lam: Caller, fn: str) -> None:
    lam("PublishVersion", FunctionName=fn)
    alias = lam("CreateAlias", FunctionName=fn, Name="live", FunctionVersion="1")
    with aws_error("PreconditionFailedException", 412):
        lam(
            "AddPermission",
            FunctionName=fn,
            Qualifier="live",
            StatementId="a",
            Action="lambda:InvokeFunction",
            Principal="*",
            RevisionId="stale",
        )
    out = lam(
        "AddPermission",
        FunctionName=fn,
        Qualifier="live",
        StatementId="a",
        Action="lambda:InvokeFunction",
        Principal="*",
        RevisionId=alias["RevisionId"],
    )
    assert json.loads(out["Statement"])["Resource"] == f"{ARN}:fn:live"
    with aws_error("ResourceNotFoundException", 404):
        lam("GetPolicy", FunctionName=fn)
    assert lam("GetPolicy", FunctionName=fn, Qualifier="live")["RevisionId"] != alias["RevisionId"]
    with aws_error("InvalidParameterValueException", 400, "$LATEST"):
        lam(
            "AddPermission",
            FunctionName=fn,
            Qualifier="$LATEST",
            StatementId="b",
            Action="lambda:InvokeFunction",
            Principal="*",
        )
    with aws_error("InvalidParameterValueException", 400, "principal was invalid"):
        lam(
            "AddPermission",
            FunctionName=fn,
            StatementId="c",
            Action="lambda:InvokeFunction",
            Principal="bob",
        )


def test_tags_round_trip_and_change_the_revision(lam: Caller, fn: str) -> None:
    arn = f"{ARN}:fn"
    before = lam("GetFunctionConfiguration", FunctionName=fn)["RevisionId"]
    lam("TagResource", Resource=arn, Tags={"team": "ml", "env": "dev"})
    assert lam("ListTags", Resource=arn) == {"Tags": {"team": "ml", "env": "dev"}}
    lam("UntagResource", Resource=arn, TagKeys=["env"])
    assert lam("ListTags", Resource=arn) == {"Tags": {"team": "ml"}}
    assert lam("GetFunctionConfiguration", FunctionName=fn)["RevisionId"] != before
    with aws_error("InvalidParameterValueException", 400, "Tags on function aliases and versions"):
        lam("TagResource", Resource=f"{arn}:1", Tags={"a": "b"})
    with aws_error("ResourceNotFoundException", 404):
        lam("ListTags", Resource=f"{ARN}:nope")
    with aws_error("InvalidParameterValueException", 400, "tag limit"):
        lam("TagResource", Resource=arn, Tags={f"k{i}": "v" for i in range(51)})
