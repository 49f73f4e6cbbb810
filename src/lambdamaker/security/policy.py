"""IAM policy documents: parsed, validated as IAM validates them, and normalized.

``parse_policy(text, kind)`` turns a policy document's JSON text into a ``PolicyDocument``, or
raises ``MalformedPolicyDocumentError`` with the message IAM gives for the same mistake. The
normalized form is what the policy evaluator (IAM enforcement, later) consumes, so the rules
about shapes live here once:

- ``Action``/``NotAction``, ``Resource``/``NotResource`` and ``Principal``/``NotPrincipal`` may be
  a string or a list of strings; they become a ``Match`` (a tuple of patterns and a ``negated``
  flag), so the evaluator never looks at the raw JSON.
- ``Principal: "*"`` becomes ``PrincipalMatch(wildcard=True)``; a principal map keeps its types
  (``AWS``, ``Service``, ``Federated``, ``CanonicalUser``) with tuples of values.
- ``Condition`` becomes a flat tuple of ``ConditionClause`` (one per operator and key), with the
  set qualifier (``ForAnyValue``/``ForAllValues``) and ``IfExists`` split off the operator, and
  every value as a string (IAM compares JSON numbers and booleans as their text).

What ``kind`` changes (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html):

- ``IDENTITY`` (managed and inline policies): no principal; a resource and an action are required.
- ``TRUST`` (a role's assume-role policy): a principal is required, a resource is prohibited, and
  actions must be STS ones.
- ``RESOURCE`` (bucket and queue policies): a principal, an action and a resource are required.

Size limits are not checked here: IAM reports them as ``LimitExceeded`` with a message that names
the entity, so the caller checks ``policy_size(text)`` (characters excluding whitespace, as IAM
counts them) against its own quota.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from lambdamaker.errors import ServiceError

VERSIONS = ("2012-10-17", "2008-10-17")
DEFAULT_VERSION = "2008-10-17"
"""What IAM assumes when a document has no ``Version``."""

_TOP_LEVEL = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")

CONDITION_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnNotEquals",
        "ArnLike",
        "ArnNotLike",
        "Null",
    }
)
SET_QUALIFIERS = ("ForAnyValue", "ForAllValues")

_SID = re.compile(r"[0-9A-Za-z]*")
_VENDOR = re.compile(r"[A-Za-z0-9.\-]+")
_ACCOUNT_ID = re.compile(r"\d{12}")
_AWS_PRINCIPAL_ARN = re.compile(
    r"arn:aws[a-z\-]*:(iam::(\d{12}|\*):(root|user/.+|role/.+|group/.+)"
    r"|sts::(\d{12}|\*):(assumed-role/.+|federated-user/.+))"
)
_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "*"})


class MalformedPolicyDocumentError(ServiceError):
    """IAM's and STS's ``MalformedPolicyDocument``."""

    code = "MalformedPolicyDocument"
    status = 400


class PolicyKind(enum.Enum):
    IDENTITY = "identity"
    TRUST = "trust"
    RESOURCE = "resource"


Effect = Literal["Allow", "Deny"]


@dataclass(frozen=True)
class Match:
    """``Action``/``Resource`` (``negated=False``) or ``NotAction``/``NotResource``."""

    values: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True)
class PrincipalMatch:
    """``Principal`` or ``NotPrincipal``: ``"*"``, or principal type → values."""

    wildcard: bool = False
    entries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    negated: bool = False


@dataclass(frozen=True)
class ConditionClause:
    """One ``operator: {key: values}`` pair of a ``Condition`` block."""

    operator: str
    """As written, e.g. ``ForAnyValue:StringLikeIfExists``."""
    test: str
    """The base operator, e.g. ``StringLike``."""
    qualifier: str | None
    """``ForAnyValue``, ``ForAllValues`` or None."""
    if_exists: bool
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: Effect
    action: Match
    resource: Match | None
    principal: PrincipalMatch | None
    conditions: tuple[ConditionClause, ...] = ()


@dataclass(frozen=True)
class PolicyDocument:
    version: str
    id: str | None
    statements: tuple[Statement, ...]


def policy_size(text: str) -> int:
    """The size IAM counts against its quotas: characters, not counting whitespace."""
    return sum(1 for ch in text if not ch.isspace())


class _Syntax(Exception):
    """A shape error; reported as IAM's generic "Syntax errors in policy."."""


class _LegacyParse(Exception):
    """A value IAM's legacy parser rejects; reported as "The policy failed legacy parsing"."""


def parse_policy(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> PolicyDocument:
    """Validate ``text`` as IAM does for ``kind`` and return its normalized form."""
    return _Parser(kind).parse(text)


class _Parser:
    """The checks run in IAM's order: syntax, then legacy parsing, then semantic rules, so that a
    document with several mistakes gets the message IAM would give first."""

    SYNTAX: ClassVar[str] = "Syntax errors in policy."

    def __init__(self, kind: PolicyKind) -> None:
        self.kind = kind

    def parse(self, text: str) -> PolicyDocument:
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise MalformedPolicyDocumentError(self.SYNTAX) from exc
        try:
            version, pid, raw_statements = self._top_level(raw)
            self._principal_placement(raw_statements)
            statements = tuple(self._statement(s) for s in raw_statements)
        except _Syntax as exc:
            raise MalformedPolicyDocumentError(self.SYNTAX) from exc
        except _LegacyParse as exc:
            raise MalformedPolicyDocumentError("The policy failed legacy parsing") from exc
        self._semantics(statements)
        return PolicyDocument(version=version, id=pid, statements=statements)

    # -- shape -------------------------------------------------------------------------------

    def _top_level(self, raw: Any) -> tuple[str, str | None, list[dict[str, Any]]]:
        if not isinstance(raw, dict) or not set(raw) <= _TOP_LEVEL or "Statement" not in raw:
            raise _Syntax
        version = raw.get("Version", DEFAULT_VERSION)
        if version not in VERSIONS:
            raise _Syntax
        pid = raw.get("Id")
        if pid is not None and not isinstance(pid, str):
            raise _Syntax
        stmts = raw["Statement"]
        if isinstance(stmts, dict):
            stmts = [stmts]
        if not isinstance(stmts, list) or not stmts:
            raise _Syntax
        for s in stmts:
            if not isinstance(s, dict):
                raise _Syntax
        return version, pid, stmts

    def _principal_placement(self, stmts: list[dict[str, Any]]) -> None:
        # IAM reports a misplaced or missing principal before it looks at anything else in the
        # statement: it is the most common mistake (a trust policy used as a permissions policy
        # or the other way round), and the message says so plainly.
        for s in stmts:
            has_principal = "Principal" in s or "NotPrincipal" in s
            if self.kind is PolicyKind.IDENTITY and has_principal:
                raise MalformedPolicyDocumentError(
                    "Policy document should not specify a principal."
                )
            if self.kind is PolicyKind.TRUST:
                for prohibited in ("Resource", "NotResource"):
                    if prohibited in s:
                        raise MalformedPolicyDocumentError(f"Has prohibited field {prohibited}")
            if self.kind is not PolicyKind.IDENTITY and not has_principal:
                raise MalformedPolicyDocumentError("Missing required field Principal")

    def _statement(self, s: dict[str, Any]) -> Statement:
        if not set(s) <= _STATEMENT_KEYS:
            raise _Syntax
        for a, b in (("Action", "NotAction"), ("Resource", "NotResource")):
            if a in s and b in s:
                raise _Syntax
        if "Principal" in s and "NotPrincipal" in s:
            raise _Syntax
        sid = s.get("Sid")
        if sid is not None and not isinstance(sid, str):
            raise _Syntax
        effect = s.get("Effect")
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            raise _Syntax
        action = _match(s, "Action", "NotAction")
        resource = _match(s, "Resource", "NotResource")
        principal = self._principal(s)
        conditions = _conditions(s.get("Condition"))
        # The legacy parser is case-sensitive where the syntax check is not.
        if effect not in ("Allow", "Deny"):
            raise _LegacyParse
        return Statement(
            sid=sid,
            effect=effect,  # type: ignore[arg-type]  # checked just above
            action=action or Match(()),
            resource=resource,
            principal=principal,
            conditions=conditions,
        )

    def _principal(self, s: dict[str, Any]) -> PrincipalMatch | None:
        negated = "NotPrincipal" in s
        raw = s.get("NotPrincipal" if negated else "Principal")
        if raw is None:
            return None
        if raw == "*":
            return PrincipalMatch(wildcard=True, negated=negated)
        if not isinstance(raw, dict) or not raw:
            raise _Syntax
        entries: dict[str, tuple[str, ...]] = {}
        for ptype, value in raw.items():
            if ptype not in PRINCIPAL_TYPES:
                raise _Syntax
            values = _strings(value)
            if values is None or not values:
                raise _Syntax
            for v in values:
                _check_principal(ptype, v)
            entries[ptype] = values
        return PrincipalMatch(entries=entries, negated=negated)

    # -- meaning -----------------------------------------------------------------------------

    def _semantics(self, statements: tuple[Statement, ...]) -> None:
        seen: set[str] = set()
        for st in statements:
            if st.sid:
                if st.sid in seen:
                    raise MalformedPolicyDocumentError(
                        "Statement IDs (SID) in a single policy must be unique."
                    )
                seen.add(st.sid)
        for st in statements:
            if st.sid is not None and not _SID.fullmatch(st.sid):
                raise MalformedPolicyDocumentError(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies "
                    "the regular expression [0-9A-Za-z]*"
                )
        for st in statements:
            if not st.action.values:
                raise MalformedPolicyDocumentError("Policy statement must contain actions.")
        if self.kind is not PolicyKind.TRUST:
            for st in statements:
                if st.resource is None or not st.resource.values:
                    raise MalformedPolicyDocumentError("Policy statement must contain resources.")
            for st in statements:
                for res in st.resource.values if st.resource else ():
                    _check_resource(res)
        for st in statements:
            for action in st.action.values:
                _check_action(action)
        if self.kind is PolicyKind.TRUST:
            for st in statements:
                for action in st.action.values:
                    if action != "*" and not action.lower().startswith("sts:"):
                        raise MalformedPolicyDocumentError(
                            "AssumeRole policy may only specify STS AssumeRole actions."
                        )


def _strings(value: Any) -> tuple[str, ...] | None:
    """A string or a list of strings, as a tuple; None for anything else."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _match(s: dict[str, Any], key: str, not_key: str) -> Match | None:
    negated = not_key in s
    if not negated and key not in s:
        return None
    values = _strings(s[not_key if negated else key])
    if values is None:
        raise _Syntax
    return Match(values, negated)


def _condition_value(value: Any) -> str:
    # IAM compares condition values as text; JSON true/false keep their JSON spelling.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _Syntax


def _conditions(raw: Any) -> tuple[ConditionClause, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _Syntax
    clauses: list[ConditionClause] = []
    for operator, block in raw.items():
        if not isinstance(block, dict):
            raise _Syntax
        test, qualifier, if_exists = _split_operator(operator)
        if test not in CONDITION_OPERATORS:
            # IAM tolerates an unknown operator only when it carries no keys.
            if block:
                raise _Syntax
            continue
        for key, value in block.items():
            items = value if isinstance(value, list) else [value]
            values = tuple(_condition_value(v) for v in items)
            if test.startswith("Date"):
                for v in values:
                    _check_date(v)
            clauses.append(ConditionClause(operator, test, qualifier, if_exists, key, values))
    return tuple(clauses)


def _split_operator(operator: str) -> tuple[str, str | None, bool]:
    qualifier = None
    test = operator
    for q in SET_QUALIFIERS:
        if test.startswith(q + ":"):
            qualifier, test = q, test[len(q) + 1 :]
            break
    if_exists = test.endswith("IfExists")
    if if_exists:
        test = test[: -len("IfExists")]
    return test, qualifier, if_exists


def _check_date(value: str) -> None:
    if value.isdigit():
        return  # epoch seconds
    if value.startswith("${"):
        return  # a policy variable, resolved at evaluation time
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise _LegacyParse from exc


def _check_action(action: str) -> None:
    if action == "*":
        return
    parts = action.split(":")
    if len(parts) == 1:
        raise MalformedPolicyDocumentError(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        )
    if len(parts) > 2:
        raise MalformedPolicyDocumentError("Actions/Condition can contain only one colon.")
    if parts[0] != "*" and not _VENDOR.fullmatch(parts[0]):
        raise MalformedPolicyDocumentError(f"Vendor {parts[0]} is not valid")


def _check_resource(resource: str) -> None:
    if resource == "*" or resource.startswith("${"):
        return
    parts = resource.split(":", 5)
    if len(parts) < 2 or parts[0] != "arn":
        raise MalformedPolicyDocumentError(f'Resource {resource} must be in ARN format or "*".')
    if parts[1] not in _PARTITIONS:
        raise MalformedPolicyDocumentError(
            f'Partition "{parts[1]}" is not valid for resource "{resource}".'
        )
    if len(parts) < 3 or not parts[2]:
        raise MalformedPolicyDocumentError(
            "Resource vendor must be fully qualified and cannot contain regexes."
        )


def _check_principal(ptype: str, value: str) -> None:
    ok = True
    if ptype == "AWS":
        ok = value == "*" or bool(
            _ACCOUNT_ID.fullmatch(value) or _AWS_PRINCIPAL_ARN.fullmatch(value)
        )
    elif ptype == "Service":
        ok = value == "*" or ("." in value and not any(ch.isspace() for ch in value))
    else:
        ok = bool(value) and not any(ch.isspace() for ch in value)
    if not ok:
        raise MalformedPolicyDocumentError(
            f'Invalid principal in policy: "{ptype.upper()}":"{value}"'
        )
