"""Fuzzing the policy parser: whatever the document, the answer is a parsed policy or
``MalformedPolicyDocument``, never another exception (which the gateway would turn into a 500)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdamaker.security.policy import MalformedPolicyDocumentError, PolicyKind, parse_policy

KEYS = st.sampled_from(
    [
        "Version", "Id", "Statement", "Sid", "Effect", "Action", "NotAction", "Resource",
        "NotResource", "Principal", "NotPrincipal", "Condition", "AWS", "Service", "Federated",
        "StringEquals", "ForAnyValue:StringLike", "DateGreaterThan", "BoolIfExists", "Foo",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(
        [
            "2012-10-17", "2008-10-17", "Allow", "Deny", "allow", "*", "s3:GetObject", "s3:*:x",
            "arn:aws:s3:::b/*", "arn:x:s3:::b", "123456789012", "lambda.amazonaws.com",
            "sts:AssumeRole", "2020-01-01T00:00:00Z", "not-a-date", "", "${aws:username}",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(KEYS | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(doc=JSON, kind=st.sampled_from(list(PolicyKind)))
def test_any_json_is_parsed_or_malformed(doc: Any, kind: PolicyKind) -> None:
    try:
        parse_policy(json.dumps(doc), kind)
    except MalformedPolicyDocumentError:
        pass


@settings(max_examples=200, deadline=None)
@given(statements=st.lists(st.dictionaries(KEYS, JSON, max_size=7), min_size=1, max_size=3),
       kind=st.sampled_from(list(PolicyKind)))  # fmt: skip
def test_statement_shaped_documents_are_parsed_or_malformed(
    statements: list[dict[str, Any]], kind: PolicyKind
) -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    try:
        parse_policy(text, kind)
    except MalformedPolicyDocumentError:
        pass


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_is_parsed_or_malformed(text: str) -> None:
    try:
        parse_policy(text)
    except MalformedPolicyDocumentError:
        pass


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    text = '{"Statement": ' + "[" * 100_000 + "]" * 100_000 + "}"
    try:
        parse_policy(text)
    except MalformedPolicyDocumentError:
        pass
