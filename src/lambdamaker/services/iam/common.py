"""What every IAM operation module shares: ids, ARNs, timestamps, documents and row look-ups.

``IamBase`` is the base of the per-concept operation classes (roles, policies, users, tags);
``IamProvider`` combines them. Look-ups take the caller's connection so that a check and the
write that depends on it happen in one transaction.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.security.policy import MalformedPolicyDocumentError
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.iam import tables as t
from lambdamaker.services.iam.errors import InvalidInputError, NoSuchEntityError
from lambdamaker.services.iam.tables import MIGRATIONS
from lambdamaker.services.iam.validation import check_name

_ID_ALPHABET = string.ascii_uppercase + string.digits
_POLICY_ARN = re.compile(r"arn:aws:iam::(\d{12}|aws):policy(/|/.*/)([\w+=,.@-]+)", re.ASCII)


def new_id(prefix: str) -> str:
    """An IAM unique id: a 4-letter type prefix and 17 characters (``AROA…``, ``AIDA…``)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def now() -> float:
    return time.time()


def to_datetime(ts: float) -> datetime:
    # IAM reports dates to the second.
    return datetime.fromtimestamp(int(ts), tz=UTC)


def encode_document(text: str) -> str:
    """IAM returns policy documents URL-encoded; botocore's ``json_decode_policies`` handler
    unquotes and parses them, so boto3 users get back the dict they sent."""
    return quote(text, safe="")


def name_of_arn(arn: str) -> str:
    """The last path segment of an IAM ARN (``…:role/a/b/Name`` → ``Name``)."""
    return arn.rsplit("/", 1)[-1]


def require_str(params: dict[str, Any], member: str) -> str:
    value = params.get(member)
    if not isinstance(value, str):
        raise InvalidInputError(f"{member} is required.")
    return value


def require_document(params: dict[str, Any], member: str) -> str:
    value = params.get(member)
    if not isinstance(value, str) or not value:
        raise MalformedPolicyDocumentError("Syntax errors in policy.")
    return value


class IamBase(Provider):
    service = "iam"
    migrations = MIGRATIONS

    @property
    def account_id(self) -> str:
        return self.platform.config.account_id

    def arn(self, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:{kind}{path}{name}"

    # -- look-ups ----------------------------------------------------------------------------

    def role_row(self, conn: Connection, name: str) -> Row[Any]:
        check_name(name, "roleName")
        row = conn.execute(sa.select(t.roles).where(t.roles.c.name_key == name.lower())).first()
        if row is None:
            raise NoSuchEntityError(f"The role with name {name} cannot be found.")
        return row

    def user_row(self, conn: Connection, name: str) -> Row[Any]:
        check_name(name, "userName", max_len=128)
        row = conn.execute(sa.select(t.users).where(t.users.c.name_key == name.lower())).first()
        if row is None:
            raise NoSuchEntityError(f"The user with name {name} cannot be found.")
        return row

    def check_policy_arn(self, arn: str) -> None:
        if not _POLICY_ARN.fullmatch(arn):
            raise InvalidInputError(f"ARN {arn} is not valid.")

    def policy_row(self, conn: Connection, arn: str) -> Row[Any]:
        self.check_policy_arn(arn)
        row = conn.execute(sa.select(t.policies).where(t.policies.c.arn == arn)).first()
        if row is None:
            raise NoSuchEntityError(f"Policy {arn} does not exist or is not attachable.")
        return row

    def caller_arn(self, ctx: RequestContext) -> str:
        """The signing principal's ARN; the account root when authentication is off."""
        if ctx.principal is None:
            return f"arn:aws:iam::{self.account_id}:root"
        return ctx.principal.arn
