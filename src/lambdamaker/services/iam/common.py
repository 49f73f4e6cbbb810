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
from collections.abc import Callable
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
from lambdamaker.services.iam.validation import (
    check_name,
    check_path_prefix,
    decode_marker,
    encode_marker,
    max_items,
)

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


def count_rows(conn: Connection, column: sa.Column[Any], value: Any) -> int:
    """How many rows of ``column``'s table hold ``value`` in it (versions of a policy...)."""
    query = sa.select(sa.func.count()).select_from(column.table).where(column == value)
    return int(conn.execute(query).scalar_one())


def permissions_boundary(arn: str) -> dict[str, str]:
    """The ``AttachedPermissionsBoundary`` shape of a role or user."""
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


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

    def use_boundary(self, conn: Connection, arn: str, delta: int) -> None:
        """Count one more (or one fewer) use of a policy as a permissions boundary."""
        row = self.policy_row(conn, arn)
        conn.execute(
            sa.update(t.policies)
            .where(t.policies.c.policy_id == row.policy_id)
            .values(boundary_count=t.policies.c.boundary_count + delta)
        )

    # -- listings ----------------------------------------------------------------------------

    def list_by_name(
        self,
        table: sa.Table,
        params: dict[str, Any],
        member: str,
        to_dict: Callable[[Row[Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """ListRoles and ListUsers: the entities under ``PathPrefix``, by lower-cased name."""
        prefix = check_path_prefix(params.get("PathPrefix"))
        limit = max_items(params)
        after = decode_marker(params.get("Marker"))
        query = sa.select(table).where(table.c.path.startswith(prefix, autoescape=True))
        if after:
            query = query.where(table.c.name_key > str(after[0]))
        return self.page_of_rows(query, (table.c.name_key,), limit, member, to_dict)

    def page_of_rows(
        self,
        query: sa.Select[Any],
        order: tuple[sa.ColumnElement[Any], ...],
        limit: int,
        member: str,
        to_dict: Callable[[Row[Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Up to ``limit`` rows of ``query`` (already past the marker) in ``order``, as
        ``{member, IsTruncated, Marker}``; the marker holds the ``order`` values of the last row.

        One row more than the page is read to learn whether the listing is truncated.
        """
        with self.platform.store.read() as conn:
            rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
        out: dict[str, Any] = {
            member: [to_dict(r) for r in rows[:limit]],
            "IsTruncated": len(rows) > limit,
        }
        if out["IsTruncated"]:
            last = rows[limit - 1]._mapping
            out["Marker"] = encode_marker([last[column] for column in order])
        return out

    def caller_arn(self, ctx: RequestContext) -> str:
        """The signing principal's ARN; the account root when authentication is off."""
        if ctx.principal is None:
            return f"arn:aws:iam::{self.account_id}:root"
        return ctx.principal.arn
