"""Roles: CreateRole, GetRole, ListRoles, DeleteRole, UpdateRole, UpdateRoleDescription,
UpdateAssumeRolePolicy; and ``find_role_by_arn`` for STS.

A role's trust policy is validated as a trust policy (principal required, no resource, STS
actions only) and limited to 2,048 non-whitespace characters (IAM's default ``ACLSizePerRole``).
It is stored verbatim; STS does not enforce it yet (that comes with IAM enforcement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.security.policy import PolicyKind, parse_policy, policy_size
from lambdamaker.services.base import RequestContext
from lambdamaker.services.iam import tables as t
from lambdamaker.services.iam.common import (
    IamBase,
    count_rows,
    encode_document,
    new_id,
    now,
    permissions_boundary,
    require_document,
    require_str,
    to_datetime,
)
from lambdamaker.services.iam.errors import (
    DeleteConflictError,
    EntityAlreadyExistsError,
    LimitExceededError,
)
from lambdamaker.services.iam.tags import drop_tags, read_tags, write_tags
from lambdamaker.services.iam.validation import (
    check_description,
    check_name,
    check_path,
    check_range,
    check_tags,
)

TRUST_POLICY_MAX = 2048
DEFAULT_MAX_SESSION = 3600
MIN_MAX_SESSION, MAX_MAX_SESSION = 3600, 43200


@dataclass(frozen=True)
class RoleInfo:
    """What STS needs to know about a role."""

    role_id: str
    role_name: str
    arn: str
    max_session_duration: int
    assume_role_policy: str


def check_trust_policy(text: str) -> None:
    parse_policy(text, PolicyKind.TRUST)
    if policy_size(text) > TRUST_POLICY_MAX:
        raise LimitExceededError(f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")


class RoleOperations(IamBase):
    def role_dict(self, row: Row[Any], conn: Connection | None = None) -> dict[str, Any]:
        """The ``Role`` shape; with ``conn`` (GetRole, CreateRole) it includes tags."""
        role: dict[str, Any] = {
            "Path": row.path,
            "RoleName": row.role_name,
            "RoleId": row.role_id,
            "Arn": row.arn,
            "CreateDate": to_datetime(row.created_at),
            "AssumeRolePolicyDocument": encode_document(row.assume_role_policy),
            "MaxSessionDuration": row.max_session_duration,
        }
        if row.description is not None:
            role["Description"] = row.description
        if conn is not None:
            if row.permissions_boundary:
                role["PermissionsBoundary"] = permissions_boundary(row.permissions_boundary)
            tags = read_tags(conn, row.role_id)
            if tags:
                role["Tags"] = tags
            role["RoleLastUsed"] = {}
        return role

    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require_str(params, "RoleName"), "roleName")
        path = check_path(params.get("Path"))
        document = require_document(params, "AssumeRolePolicyDocument")
        description = check_description(params.get("Description"))
        duration = params.get("MaxSessionDuration")
        duration = DEFAULT_MAX_SESSION if duration is None else int(duration)
        check_range(duration, "maxSessionDuration", MIN_MAX_SESSION, MAX_MAX_SESSION)
        tags = check_tags(params.get("Tags"))
        check_trust_policy(document)
        boundary = params.get("PermissionsBoundary")
        with self.platform.store.begin() as conn:
            if conn.execute(
                sa.select(t.roles.c.role_id).where(t.roles.c.name_key == name.lower())
            ).first():
                raise EntityAlreadyExistsError(f"Role with name {name} already exists.")
            if boundary is not None:
                self.use_boundary(conn, boundary, +1)
            role_id = new_id("AROA")
            conn.execute(
                sa.insert(t.roles).values(
                    role_id=role_id,
                    name_key=name.lower(),
                    role_name=name,
                    path=path,
                    arn=self.arn("role", path, name),
                    assume_role_policy=document,
                    description=description,
                    max_session_duration=duration,
                    permissions_boundary=boundary,
                    created_at=now(),
                )
            )
            write_tags(conn, role_id, tags)
            row = self.role_row(conn, name)
            role = self.role_dict(row, conn)
        role.pop("RoleLastUsed")
        return {"Role": role}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            row = self.role_row(conn, require_str(params, "RoleName"))
            return {"Role": self.role_dict(row, conn)}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.list_by_name(t.roles, params, "Roles", self.role_dict)

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            row = self.role_row(conn, require_str(params, "RoleName"))
            attached = count_rows(conn, t.role_attachments.c.role_id, row.role_id)
            if attached:
                raise DeleteConflictError("Cannot delete entity, must detach all policies first.")
            inline = count_rows(conn, t.role_inline_policies.c.role_id, row.role_id)
            if inline:
                raise DeleteConflictError("Cannot delete entity, must delete policies first.")
            if row.permissions_boundary:
                self.use_boundary(conn, row.permissions_boundary, -1)
            drop_tags(conn, row.role_id)
            conn.execute(sa.delete(t.roles).where(t.roles.c.role_id == row.role_id))
        return {}

    def update_assume_role_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        document = require_document(params, "PolicyDocument")
        with self.platform.store.begin() as conn:
            row = self.role_row(conn, require_str(params, "RoleName"))
            check_trust_policy(document)
            conn.execute(
                sa.update(t.roles)
                .where(t.roles.c.role_id == row.role_id)
                .values(assume_role_policy=document)
            )
        return {}

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if "Description" in params:
            values["description"] = check_description(params["Description"])
        if params.get("MaxSessionDuration") is not None:
            duration = int(params["MaxSessionDuration"])
            check_range(duration, "maxSessionDuration", MIN_MAX_SESSION, MAX_MAX_SESSION)
            values["max_session_duration"] = duration
        with self.platform.store.begin() as conn:
            row = self.role_row(conn, require_str(params, "RoleName"))
            if values:
                conn.execute(
                    sa.update(t.roles).where(t.roles.c.role_id == row.role_id).values(**values)
                )
        return {}

    def update_role_description(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        description = check_description(require_str(params, "Description"))
        with self.platform.store.begin() as conn:
            row = self.role_row(conn, require_str(params, "RoleName"))
            conn.execute(
                sa.update(t.roles)
                .where(t.roles.c.role_id == row.role_id)
                .values(description=description)
            )
            return {"Role": self.role_dict(self.role_row(conn, row.role_name), conn)}

    # -- for STS -----------------------------------------------------------------------------

    def find_role_by_arn(self, arn: str) -> RoleInfo | None:
        with self.platform.store.read() as conn:
            row = conn.execute(sa.select(t.roles).where(t.roles.c.arn == arn)).first()
        if row is None:
            return None
        return RoleInfo(
            role_id=row.role_id,
            role_name=row.role_name,
            arn=row.arn,
            max_session_duration=row.max_session_duration,
            assume_role_policy=row.assume_role_policy,
        )

    def find_role_by_name(self, name: str) -> RoleInfo | None:
        with self.platform.store.read() as conn:
            row = conn.execute(
                sa.select(t.roles.c.arn).where(t.roles.c.name_key == name.lower())
            ).first()
        return self.find_role_by_arn(row.arn) if row is not None else None
