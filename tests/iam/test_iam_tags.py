"""Tags on roles, users and policies, in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from iam_support import BASIC_EXECUTION, Caller, aws_error, make_policy, make_role


def tagged(kind: str, iam: Caller) -> tuple[str, dict[str, str], Callable[..., Any]]:
    """Create an entity of ``kind``; returns the operation suffix, its id params and a lister."""
    if kind == "Role":
        make_role(iam)
        ident = {"RoleName": "fn-role"}
    elif kind == "User":
        iam("CreateUser", UserName="alice")
        ident = {"UserName": "alice"}
    else:
        ident = {"PolicyArn": make_policy(iam)["Arn"]}

    def tags(**params: Any) -> Any:
        return iam(f"List{kind}Tags", **ident, **params)

    return kind, ident, tags


KINDS = ["Role", "User", "Policy"]


def tag(k: str, v: str) -> dict[str, str]:
    return {"Key": k, "Value": v}


@pytest.mark.parametrize("kind", KINDS)
def test_tag_list_and_untag(iam: Caller, kind: str) -> None:
    kind, ident, tags = tagged(kind, iam)
    iam(f"Tag{kind}", **ident, Tags=[tag("env", "prod"), tag("team", "ml")])
    assert tags()["Tags"] == [tag("env", "prod"), tag("team", "ml")]
    assert tags()["IsTruncated"] is False
    iam(f"Untag{kind}", **ident, TagKeys=["env", "not-there"])
    assert tags()["Tags"] == [tag("team", "ml")]


@pytest.mark.parametrize("kind", KINDS)
def test_tag_keys_are_case_insensitive_and_case_preserving(iam: Caller, kind: str) -> None:
    kind, ident, tags = tagged(kind, iam)
    iam(f"Tag{kind}", **ident, Tags=[tag("Env", "dev"), tag("b", "1")])
    iam(f"Tag{kind}", **ident, Tags=[tag("env", "prod")])
    assert tags()["Tags"] == [tag("Env", "prod"), tag("b", "1")]
    iam(f"Untag{kind}", **ident, TagKeys=["ENV"])
    assert tags()["Tags"] == [tag("b", "1")]


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_keys_in_one_request_are_invalid_input(iam: Caller, kind: str) -> None:
    kind, ident, tags = tagged(kind, iam)
    with aws_error("InvalidInput", 400, "Duplicate tag keys found"):
        iam(f"Tag{kind}", **ident, Tags=[tag("env", "a"), tag("ENV", "b")])
    assert tags()["Tags"] == []


@pytest.mark.parametrize("kind", KINDS)
def test_more_than_50_tags_in_total_is_limit_exceeded(iam: Caller, kind: str) -> None:
    kind, ident, tags = tagged(kind, iam)
    iam(f"Tag{kind}", **ident, Tags=[tag(f"k{i}", "v") for i in range(40)])
    with aws_error("LimitExceeded", 409):
        iam(f"Tag{kind}", **ident, Tags=[tag(f"n{i}", "v") for i in range(11)])
    assert len(tags(MaxItems=100)["Tags"]) == 40
    # Replacing existing keys does not count against the limit.
    iam(f"Tag{kind}", **ident, Tags=[tag(f"k{i}", "w") for i in range(40)] + [tag("x", "1")])


@pytest.mark.parametrize("kind", KINDS)
def test_list_tags_paginates(iam: Caller, kind: str) -> None:
    kind, ident, tags = tagged(kind, iam)
    iam(f"Tag{kind}", **ident, Tags=[tag(f"k{i}", str(i)) for i in range(5)])
    first = tags(MaxItems=3)
    assert first["IsTruncated"] is True and len(first["Tags"]) == 3
    rest = tags(Marker=first["Marker"])
    assert [t["Key"] for t in first["Tags"] + rest["Tags"]] == [f"k{i}" for i in range(5)]


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ([tag("", "v")], "ValidationError"),
        ([tag("k" * 129, "v")], "ValidationError"),
        ([tag("k", "v" * 257)], "ValidationError"),
        ([tag("bad*key", "v")], "ValidationError"),
        ([tag("k", "bad#value")], "ValidationError"),
        ([tag(f"k{i}", "v") for i in range(51)], "ValidationError"),
        ([tag("aws:reserved", "v")], "InvalidInput"),
        ([{"Key": "only-key"}], "ValidationError"),
    ],
)
def test_invalid_tags_on_create_are_rejected(iam: Caller, tags: list[Any], code: str) -> None:
    with aws_error(code, 400):
        make_role(iam, Tags=tags)
    with aws_error("NoSuchEntity", 404):
        iam("GetRole", RoleName="fn-role")


def test_unicode_letters_and_spaces_are_allowed_in_tags(iam: Caller) -> None:
    role = make_role(iam, Tags=[tag("Équipe données", "café 42 +-=._:/@")])
    assert role["Tags"] == [tag("Équipe données", "café 42 +-=._:/@")]


def test_empty_tag_value_is_allowed(iam: Caller) -> None:
    make_role(iam, Tags=[tag("flag", "")])
    assert iam("ListRoleTags", RoleName="fn-role")["Tags"] == [tag("flag", "")]


@pytest.mark.parametrize("kind", ["Role", "User"])
def test_tagging_unknown_entity_is_no_such_entity(iam: Caller, kind: str) -> None:
    with aws_error("NoSuchEntity", 404):
        iam(f"Tag{kind}", **{f"{kind}Name": "ghost"}, Tags=[tag("a", "b")])
    with aws_error("NoSuchEntity", 404):
        iam(f"List{kind}Tags", **{f"{kind}Name": "ghost"})


def test_tagging_aws_managed_policy_is_access_denied(iam: Caller) -> None:
    with aws_error("AccessDenied", 403):
        iam("TagPolicy", PolicyArn=BASIC_EXECUTION, Tags=[tag("a", "b")])
    assert iam("ListPolicyTags", PolicyArn=BASIC_EXECUTION)["Tags"] == []


def test_untag_with_too_many_keys_is_validation_error(iam: Caller) -> None:
    make_role(iam)
    with aws_error("ValidationError", 400):
        iam("UntagRole", RoleName="fn-role", TagKeys=[f"k{i}" for i in range(51)])
