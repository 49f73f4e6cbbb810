"""STS: GetCallerIdentity, AssumeRole and GetSessionToken.

Temporary credentials are credential-store rows (``ASIA…`` key, secret, session token,
expiry) whose principal is the assumed-role ARN
``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` (the role's path is not part of it, as in
AWS), so the gateway authenticates them like any key and rejects them once expired.

Not yet enforced: the role's trust policy (any authenticated caller may assume any role of the
account) and session policies (validated, then ignored). Both come with IAM enforcement, which
will evaluate them here and in the gateway's authorize hook.
"""

from __future__ import annotations

import hashlib
import re
import string
from typing import Any

from lambdamaker.errors import ServiceError
from lambdamaker.security.credentials import KeyRecord
from lambdamaker.security.policy import (
    PolicyKind,
    parse_policy,
    policy_size,
)
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.iam import IamProvider
from lambdamaker.services.iam.common import require_str, to_datetime
from lambdamaker.services.iam.errors import IamAccessDeniedError, IamValidationError
from lambdamaker.services.iam.validation import (
    check_length,
    check_range,
    check_tags,
    validation_error,
)

_SESSION_NAME = re.compile(r"[\w+=,.@-]*", re.ASCII)
_ROLE_ARN = re.compile(r"arn:aws:iam::(\d{12}):role(/|/.*/)([\w+=,.@-]+)", re.ASCII)
_ASSUMED_ROLE_ARN = re.compile(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(.+)")
_ID_ALPHABET = string.ascii_uppercase + string.digits

DEFAULT_DURATION = 3600
SESSION_POLICY_MAX = 2048
MAX_SESSION_POLICY_ARNS = 10
ROLE_CHAINING_MAX = 3600


class PackedPolicyTooLargeError(ServiceError):
    code = "PackedPolicyTooLarge"
    status = 400


def _stable_id(prefix: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in digest[:17])


class StsProvider(Provider):
    service = "sts"
    inline_operations = frozenset({"GetCallerIdentity"})

    @property
    def account_id(self) -> str:
        return self.platform.config.account_id

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def _iam(self) -> IamProvider | None:
        # STS reads roles and users through the IAM provider, which owns their tables; without
        # it (``services=["sts"]``) there are no roles to assume.
        iam = self.platform.providers.get("iam")
        return iam if isinstance(iam, IamProvider) else None

    def _caller_arn(self, ctx: RequestContext) -> str:
        return ctx.principal.arn if ctx.principal is not None else self.root_arn

    def user_id_of(self, arn: str) -> str:
        """The ``UserId`` AWS reports for a principal ARN."""
        if arn == self.root_arn:
            return self.account_id
        iam = self._iam()
        assumed = _ASSUMED_ROLE_ARN.fullmatch(arn)
        if assumed:
            role = iam.find_role_by_name(assumed.group(2)) if iam is not None else None
            role_id = role.role_id if role is not None else _stable_id("AROA", assumed.group(2))
            return f"{role_id}:{assumed.group(3)}"
        user_id = iam.find_user_id(arn) if iam is not None else None
        return user_id or _stable_id("AIDA", arn)

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        principal = ctx.principal
        if principal is None:
            return {"UserId": self.account_id, "Account": self.account_id, "Arn": self.root_arn}
        # The id comes from the ARN, not ``principal.user_id``: the gateway fills that with the
        # user name or key id, while AWS reports the unique id (``AIDA…``, ``AROA…:session``).
        return {
            "UserId": self.user_id_of(principal.arn),
            "Account": principal.account_id,
            "Arn": principal.arn,
        }

    def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role_arn = require_str(params, "RoleArn")
        session = require_str(params, "RoleSessionName")
        check_length(session, "roleSessionName", 2, 64)
        if not _SESSION_NAME.fullmatch(session):
            raise validation_error(
                session,
                "roleSessionName",
                r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
            )
        duration = params.get("DurationSeconds")
        duration = DEFAULT_DURATION if duration is None else int(duration)
        check_range(duration, "durationSeconds", 900, 43200)
        out: dict[str, Any] = {}
        packed = self._session_policy(params)
        if packed is not None:
            out["PackedPolicySize"] = packed
        if params.get("SourceIdentity"):
            out["SourceIdentity"] = params["SourceIdentity"]

        caller = self._caller_arn(ctx)
        iam = self._iam()
        role = iam.find_role_by_arn(role_arn) if iam is not None else None
        match = _ROLE_ARN.fullmatch(role_arn)
        if role is None or match is None or match.group(1) != self.account_id:
            raise IamAccessDeniedError(
                f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: "
                f"{role_arn}"
            )
        if duration > role.max_session_duration:
            raise IamValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        if _ASSUMED_ROLE_ARN.fullmatch(caller) and duration > ROLE_CHAINING_MAX:
            raise IamValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining."
            )

        assumed_arn = f"arn:aws:sts::{self.account_id}:assumed-role/{role.role_name}/{session}"
        rec = self.platform.credentials.create_key(assumed_arn, temporary_seconds=duration)
        out["Credentials"] = _credentials(rec)
        out["AssumedRoleUser"] = {
            "AssumedRoleId": f"{role.role_id}:{session}",
            "Arn": assumed_arn,
        }
        return out

    def _session_policy(self, params: dict[str, Any]) -> int | None:
        """Validate the session policy inputs; returns ``PackedPolicySize`` when any is given."""
        policy = params.get("Policy")
        arns = params.get("PolicyArns") or []
        tags = check_tags(params.get("Tags"))
        if len(arns) > MAX_SESSION_POLICY_ARNS:
            raise validation_error(
                arns,
                "policyArns",
                f"Member must have length less than or equal to {MAX_SESSION_POLICY_ARNS}",
            )
        if policy is None and not arns and not tags:
            return None
        size = 0
        if policy is not None:
            parse_policy(policy, PolicyKind.IDENTITY)
            size = policy_size(policy)
        size += sum(len(str(a.get("arn", ""))) for a in arns if isinstance(a, dict))
        size += sum(len(k) + len(v) for k, v in tags)
        percent = size * 100 // SESSION_POLICY_MAX
        if percent > 100:
            raise PackedPolicyTooLargeError(
                f"Packed policy consumes {percent}% of allotted space, please use smaller policy "
                "for the session."
            )
        return percent

    def get_session_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        caller = self._caller_arn(ctx)
        if _ASSUMED_ROLE_ARN.fullmatch(caller) or (
            ctx.principal is not None and ctx.principal.session_token
        ):
            raise IamAccessDeniedError("Cannot call GetSessionToken with session credentials")
        high = 3600 if caller == self.root_arn else 129600
        duration = params.get("DurationSeconds")
        duration = min(43200, high) if duration is None else int(duration)
        check_range(duration, "durationSeconds", 900, high)
        rec = self.platform.credentials.create_key(caller, temporary_seconds=duration)
        return {"Credentials": _credentials(rec)}


def _credentials(rec: KeyRecord) -> dict[str, Any]:
    return {
        "AccessKeyId": rec.access_key_id,
        "SecretAccessKey": rec.secret_access_key,
        "SessionToken": rec.session_token or "",
        "Expiration": to_datetime(rec.expires_at or rec.created_at),
    }
