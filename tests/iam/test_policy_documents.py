"""Policy document validation (``security.policy``): IAM's rules and messages, and the
normalized form the evaluator will consume."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdamaker.security.policy import (
    ConditionClause,
    MalformedPolicyDocumentError,
    Match,
    PolicyKind,
    PrincipalMatch,
    parse_policy,
    policy_size,
)

IDENTITY = PolicyKind.IDENTITY
TRUST = PolicyKind.TRUST
RESOURCE = PolicyKind.RESOURCE


def doc(*statements: dict[str, Any], **top: Any) -> str:
    body: dict[str, Any] = {"Version": "2012-10-17", "Statement": list(statements)}
    body.update(top)
    return json.dumps(body)


def allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **fields}


def trust(**fields: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        **fields,
    }


def malformed(text: str, kind: PolicyKind = IDENTITY) -> str:
    with pytest.raises(MalformedPolicyDocumentError) as info:
        parse_policy(text, kind)
    assert (info.value.code, info.value.status) == ("MalformedPolicyDocument", 400)
    return info.value.message


# -- accepted documents ----------------------------------------------------------------------


def test_identity_policy_with_single_statement_object_is_normalized_to_a_tuple() -> None:
    text = json.dumps(
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    )
    parsed = parse_policy(text)
    assert parsed.version == "2012-10-17"
    assert len(parsed.statements) == 1
    st = parsed.statements[0]
    assert st.effect == "Allow"
    assert st.action == Match(("*",))
    assert st.resource == Match(("*",))
    assert st.principal is None


def test_not_action_and_not_resource_are_negated_matches() -> None:
    parsed = parse_policy(
        doc({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::b/*"})
    )
    st = parsed.statements[0]
    assert st.effect == "Deny"
    assert st.action == Match(("iam:*", "sts:*"), negated=True)
    assert st.resource == Match(("arn:aws:s3:::b/*",), negated=True)


def test_document_without_version_defaults_to_2008() -> None:
    text = json.dumps({"Statement": [allow()]})
    assert parse_policy(text).version == "2008-10-17"


def test_version_2008_is_accepted() -> None:
    assert parse_policy(doc(allow(), Version="2008-10-17")).version == "2008-10-17"


def test_id_and_sid_are_kept() -> None:
    parsed = parse_policy(doc(allow(Sid="ReadObjects"), Id="my-policy"))
    assert parsed.id == "my-policy"
    assert parsed.statements[0].sid == "ReadObjects"


def test_conditions_are_flattened_with_qualifier_and_if_exists_split_off() -> None:
    parsed = parse_policy(
        doc(
            allow(
                Condition={
                    "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["env*", "team"]},
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"s3:max-keys": 10},
                }
            )
        )
    )
    clauses = set(parsed.statements[0].conditions)
    assert clauses == {
        ConditionClause(
            "ForAnyValue:StringLikeIfExists",
            "StringLike",
            "ForAnyValue",
            True,
            "aws:TagKeys",
            ("env*", "team"),
        ),
        ConditionClause("Bool", "Bool", None, False, "aws:SecureTransport", ("true",)),
        ConditionClause("NumericLessThan", "NumericLessThan", None, False, "s3:max-keys", ("10",)),
    }


def test_trust_policy_principals_are_kept_by_type() -> None:
    text = doc(
        trust(
            Principal={
                "Service": ["lambda.amazonaws.com", "states.amazonaws.com"],
                "AWS": "arn:aws:iam::123456789012:root",
            }
        )
    )
    principal = parse_policy(text, TRUST).statements[0].principal
    assert principal == PrincipalMatch(
        entries={
            "Service": ("lambda.amazonaws.com", "states.amazonaws.com"),
            "AWS": ("arn:aws:iam::123456789012:root",),
        }
    )


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": "123456789012"},
        {"AWS": "arn:aws:iam::123456789012:user/path/alice"},
        {"AWS": "arn:aws:iam::123456789012:role/r"},
        {"AWS": "arn:aws:sts::123456789012:assumed-role/r/session"},
        {"Federated": "cognito-identity.amazonaws.com"},
        {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ],
)
def test_trust_policy_accepts_each_principal_form(principal: Any) -> None:
    parse_policy(doc(trust(Principal=principal)), TRUST)


def test_wildcard_principal_is_flagged_as_wildcard() -> None:
    principal = parse_policy(doc(trust(Principal="*")), TRUST).statements[0].principal
    assert principal == PrincipalMatch(wildcard=True)


def test_trust_policy_may_use_any_sts_action() -> None:
    parse_policy(
        doc(trust(Action=["sts:AssumeRole", "sts:TagSession", "sts:AssumeRoleWithWebIdentity"])),
        TRUST,
    )


def test_resource_policy_needs_principal_and_resource() -> None:
    text = doc(allow(Principal={"AWS": "123456789012"}, Resource="arn:aws:s3:::bucket/*"))
    assert parse_policy(text, RESOURCE).statements[0].principal is not None
    assert malformed(doc(allow()), RESOURCE) == "Missing required field Principal"
    no_resource = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})
    assert malformed(no_resource, RESOURCE) == "Policy statement must contain resources."


def test_date_condition_accepts_iso_dates_and_epoch_seconds() -> None:
    parse_policy(
        doc(
            allow(
                Condition={
                    "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                    "DateLessThan": {"aws:EpochTime": "1893456000"},
                }
            )
        )
    )


def test_unknown_condition_operator_without_keys_is_tolerated() -> None:
    parse_policy(doc(allow(Condition={"FooBar": {}})))


# -- rejected documents ----------------------------------------------------------------------

SYNTAX = "Syntax errors in policy."


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "",
        "[]",
        '"a string"',
        "{",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "2012-10-17", "Statement": []}),
        json.dumps({"Version": "2012-10-17", "Statement": "Allow"}),
        json.dumps({"Version": "2012-10-17", "Statement": ["x"]}),
        json.dumps({"Version": "2012-10-17", "Statement": [allow()], "Extra": 1}),
        json.dumps({"Version": "2012-10-17", "Statement": [allow()], "Condition": {}}),
        json.dumps({"Version": "2012-10-18", "Statement": [allow()]}),
        json.dumps({"Version": 2012, "Statement": [allow()]}),
        json.dumps({"Version": "2012-10-17", "Id": 5, "Statement": [allow()]}),
        doc(allow(Foo="bar")),
        doc(allow(Effect="Maybe")),
        doc({"Action": "s3:GetObject", "Resource": "*"}),
        doc(allow(Effect=True)),
        doc(allow(Action=5)),
        doc(allow(Action=["s3:GetObject", 5])),
        doc(allow(Action={"s3": "GetObject"})),
        doc(allow(Resource=["*", None])),
        doc(allow(NotAction="s3:PutObject")),
        doc(allow(NotResource="arn:aws:s3:::b")),
        doc(allow(Sid=7)),
        doc(allow(Condition="aws:SecureTransport")),
        doc(allow(Condition={"StringEquals": "x"})),
        doc(allow(Condition={"StringEquals": {"aws:username": {"nested": 1}}})),
        doc(allow(Condition={"StringEqualsTypo": {"aws:username": "alice"}})),
    ],
)
def test_shape_errors_are_syntax_errors(text: str) -> None:
    assert malformed(text) == SYNTAX


def test_lowercase_effect_fails_legacy_parsing() -> None:
    assert malformed(doc(allow(Effect="allow"))) == "The policy failed legacy parsing"


def test_bad_date_in_date_condition_fails_legacy_parsing() -> None:
    text = doc(allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "yesterday"}}))
    assert malformed(text) == "The policy failed legacy parsing"


def test_identity_policy_with_principal_is_rejected() -> None:
    text = doc(allow(Principal={"AWS": "*"}))
    assert malformed(text) == "Policy document should not specify a principal."
    text = doc(allow(NotPrincipal={"AWS": "123456789012"}))
    assert malformed(text) == "Policy document should not specify a principal."


def test_trust_policy_without_principal_is_rejected() -> None:
    text = doc({"Effect": "Allow", "Action": "sts:AssumeRole"})
    assert malformed(text, TRUST) == "Missing required field Principal"


@pytest.mark.parametrize("field", ["Resource", "NotResource"])
def test_trust_policy_with_resource_is_rejected(field: str) -> None:
    assert malformed(doc(trust(**{field: "*"})), TRUST) == f"Has prohibited field {field}"


def test_trust_policy_with_non_sts_action_is_rejected() -> None:
    text = doc(trust(Action="s3:GetObject"))
    assert malformed(text, TRUST) == "AssumeRole policy may only specify STS AssumeRole actions."


def test_identity_policy_without_resource_is_rejected() -> None:
    text = doc({"Effect": "Allow", "Action": "s3:GetObject"})
    assert malformed(text) == "Policy statement must contain resources."


def test_empty_resource_list_is_rejected() -> None:
    assert malformed(doc(allow(Resource=[]))) == "Policy statement must contain resources."


@pytest.mark.parametrize("action", [None, []])
def test_statement_without_actions_is_rejected(action: Any) -> None:
    statement = {"Effect": "Allow", "Resource": "*"}
    if action is not None:
        statement["Action"] = action
    assert malformed(doc(statement)) == "Policy statement must contain actions."


def test_duplicate_sids_are_rejected() -> None:
    text = doc(allow(Sid="One"), allow(Sid="One", Action="s3:PutObject"))
    assert malformed(text) == "Statement IDs (SID) in a single policy must be unique."


def test_empty_sids_may_repeat() -> None:
    parse_policy(doc(allow(Sid=""), allow(Sid="")))


def test_non_alphanumeric_sid_is_rejected() -> None:
    assert "alpha-numeric" in malformed(doc(allow(Sid="read-objects")))


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("GetObject", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        ("s3:Get:Object", "Actions/Condition can contain only one colon."),
        ("s 3:GetObject", "Vendor s 3 is not valid"),
    ],
)
def test_malformed_actions_are_rejected(action: str, message: str) -> None:
    assert malformed(doc(allow(Action=action))) == message


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("my-bucket", 'Resource my-bucket must be in ARN format or "*".'),
        ("arn:foo:s3:::b", 'Partition "foo" is not valid for resource "arn:foo:s3:::b".'),
        ("arn:aws::::b", "Resource vendor must be fully qualified and cannot contain regexes."),
    ],
)
def test_malformed_resources_are_rejected(resource: str, message: str) -> None:
    assert malformed(doc(allow(Resource=resource))) == message


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "alice"},
        {"AWS": "arn:aws:iam::12345:root"},
        {"AWS": "arn:aws:s3:::bucket"},
        {"Service": "lambda"},
        {"Service": "lambda amazonaws.com"},
    ],
)
def test_invalid_principals_are_rejected(principal: dict[str, str]) -> None:
    assert malformed(doc(trust(Principal=principal)), TRUST).startswith(
        "Invalid principal in policy:"
    )


@pytest.mark.parametrize(
    "principal",
    ["alice", {}, {"Users": "alice"}, {"AWS": []}, {"AWS": 12}, ["*"]],
)
def test_principal_shape_errors_are_syntax_errors(principal: Any) -> None:
    assert malformed(doc(trust(Principal=principal)), TRUST) == SYNTAX


def test_principal_and_not_principal_together_are_syntax_errors() -> None:
    text = doc(trust(NotPrincipal={"AWS": "123456789012"}))
    assert malformed(text, TRUST) == SYNTAX


def test_first_error_wins_principal_placement_before_syntax() -> None:
    # A trust policy handed to PutRolePolicy: IAM names the principal, not the other problems.
    text = doc(trust(Foo=1))
    assert malformed(text) == "Policy document should not specify a principal."


def test_policy_size_ignores_whitespace() -> None:
    compact = json.dumps(json.loads(doc(allow())), separators=(",", ":"))
    pretty = json.dumps(json.loads(doc(allow())), indent=8)
    assert policy_size(pretty) == policy_size(compact) == len(compact)
