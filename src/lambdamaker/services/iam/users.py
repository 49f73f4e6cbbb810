"""Users and their access keys.

Access keys live in the credential store (``security.credentials``), not in IAM's tables, so a
key created here signs requests at once and a deleted or deactivated one stops working at once:
the gateway authenticates against the same rows. Key counts are read inside the IAM write
transaction so that two concurrent ``CreateAccessKey`` calls cannot both pass the limit of 2.

When ``UserName`` is omitted, IAM acts on the caller: an IAM user's own keys, or the account
root's keys when the caller is the root (or authentication is off). Other callers (assumed
roles) must name the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.security.credentials import KeyRecord, access_keys
from lambdamaker.services.base import RequestContext
from lambdamaker.services.iam import tables as t
from lambdamaker.services.iam.common import (
    IamBase,
    new_id,
    now,
    permissions_boundary,
    require_str,
    to_datetime,
)
from lambdamaker.services.iam.errors import (
    DeleteConflictError,
    EntityAlreadyExistsError,
    IamValidationError,
    LimitExceededError,
    NoSuchEntityError,
)
from lambdamaker.services.iam.tags import drop_tags, read_tags, write_tags
from lambdamaker.services.iam.validation import (
    ACCESS_KEY_STATUSES,
    check_name,
    check_path,
    check_tags,
    paginate,
    validation_error,
)

MAX_KEYS_PER_USER = 2


@dataclass(frozen=True)
class KeyOwner:
    """Whose access keys an operation acts on: an IAM user, or the account root."""

    principal_arn: str
    user_name: str | None
    """None for the root."""


class UserOperations(IamBase):
    def user_dict(self, row: Row[Any], conn: Connection | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "Path": row.path,
            "UserName": row.user_name,
            "UserId": row.user_id,
            "Arn": row.arn,
            "CreateDate": to_datetime(row.created_at),
        }
        if conn is not None:
            if row.permissions_boundary:
                user["PermissionsBoundary"] = permissions_boundary(row.permissions_boundary)
            tags = read_tags(conn, row.user_id)
            if tags:
                user["Tags"] = tags
        return user

    def create_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require_str(params, "UserName"), "userName")
        path = check_path(params.get("Path"))
        tags = check_tags(params.get("Tags"))
        boundary = params.get("PermissionsBoundary")
        with self.platform.store.begin() as conn:
            if conn.execute(
                sa.select(t.users.c.user_id).where(t.users.c.name_key == name.lower())
            ).first():
                raise EntityAlreadyExistsError(f"User with name {name} already exists.")
            if boundary is not None:
                self.use_boundary(conn, boundary, +1)
            user_id = new_id("AIDA")
            conn.execute(
                sa.insert(t.users).values(
                    user_id=user_id,
                    name_key=name.lower(),
                    user_name=name,
                    path=path,
                    arn=self.arn("user", path, name),
                    permissions_boundary=boundary,
                    created_at=now(),
                )
            )
            write_tags(conn, user_id, tags)
            return {"User": self.user_dict(self.user_row(conn, name), conn)}

    def get_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("UserName")
        with self.platform.store.read() as conn:
            if name is not None:
                return {"User": self.user_dict(self.user_row(conn, name), conn)}
            owner = self._caller_owner(ctx, conn)
            if owner.user_name is None:
                return {"User": self._root_user()}
            return {"User": self.user_dict(self.user_row(conn, owner.user_name), conn)}

    def _root_user(self) -> dict[str, Any]:
        admin = self.platform.admin_key
        return {
            "UserId": self.account_id,
            "Arn": f"arn:aws:iam::{self.account_id}:root",
            "CreateDate": to_datetime(admin.created_at if admin else now()),
        }

    def list_users(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.list_by_name(t.users, params, "Users", self.user_dict)

    def delete_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            row = self.user_row(conn, require_str(params, "UserName"))
            if self._keys(conn, KeyOwner(row.arn, row.user_name)):
                raise DeleteConflictError("Cannot delete entity, must delete access keys first.")
            if row.permissions_boundary:
                conn.execute(
                    sa.update(t.policies)
                    .where(t.policies.c.arn == row.permissions_boundary)
                    .values(boundary_count=t.policies.c.boundary_count - 1)
                )
            drop_tags(conn, row.user_id)
            conn.execute(sa.delete(t.users).where(t.users.c.user_id == row.user_id))
        return {}

    # -- access keys -------------------------------------------------------------------------

    def _caller_owner(self, ctx: RequestContext, conn: Connection) -> KeyOwner:
        arn = self.caller_arn(ctx)
        if arn == f"arn:aws:iam::{self.account_id}:root":
            return KeyOwner(arn, None)
        row = conn.execute(sa.select(t.users).where(t.users.c.arn == arn)).first()
        if row is None:
            raise IamValidationError("Must specify userName when calling with non-User credentials")
        return KeyOwner(row.arn, row.user_name)

    def _owner(self, ctx: RequestContext, conn: Connection, params: dict[str, Any]) -> KeyOwner:
        name = params.get("UserName")
        if name is None:
            return self._caller_owner(ctx, conn)
        row = self.user_row(conn, name)
        return KeyOwner(row.arn, row.user_name)

    def _keys(self, conn: Connection, owner: KeyOwner) -> list[KeyRecord]:
        # Read through the caller's transaction (not CredentialStore.keys_of_user, which opens
        # its own connection) so that the limit check and the insert are atomic.
        rows = conn.execute(
            sa.select(access_keys)
            .where(
                access_keys.c.principal_arn == owner.principal_arn,
                access_keys.c.session_token.is_(None),
            )
            .order_by(access_keys.c.created_at, access_keys.c.access_key_id)
        ).all()
        return [KeyRecord(**r._mapping) for r in rows]

    def _key_of(self, ctx: RequestContext, params: dict[str, Any]) -> KeyRecord:
        key_id = require_str(params, "AccessKeyId")
        with self.platform.store.read() as conn:
            owner = self._owner(ctx, conn, params)
            for rec in self._keys(conn, owner):
                if rec.access_key_id == key_id:
                    return rec
        raise NoSuchEntityError(f"The Access Key with id {key_id} cannot be found.")

    def create_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            owner = self._owner(ctx, conn, params)
            if len(self._keys(conn, owner)) >= MAX_KEYS_PER_USER:
                raise LimitExceededError(
                    f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
                )
            rec = self.platform.credentials.create_key(
                owner.principal_arn, user_name=owner.user_name, conn=conn
            )
        key: dict[str, Any] = {
            "AccessKeyId": rec.access_key_id,
            "Status": rec.status,
            "SecretAccessKey": rec.secret_access_key,
            "CreateDate": to_datetime(rec.created_at),
        }
        if owner.user_name is not None:
            key = {"UserName": owner.user_name, **key}
        return {"AccessKey": key}

    def list_access_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            owner = self._owner(ctx, conn, params)
            records = self._keys(conn, owner)
        items = []
        for rec in records:
            meta: dict[str, Any] = {
                "AccessKeyId": rec.access_key_id,
                "Status": rec.status,
                "CreateDate": to_datetime(rec.created_at),
            }
            if owner.user_name is not None:
                meta = {"UserName": owner.user_name, **meta}
            items.append(meta)
        return paginate(items, params, lambda m: [m["AccessKeyId"]], "AccessKeyMetadata")

    def delete_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._key_of(ctx, params)
        # Its own transaction: the credential store drops its cache entry after the commit, so
        # no concurrent request can re-cache the key between the delete and the commit.
        if not self.platform.credentials.delete_key(rec.access_key_id):
            raise NoSuchEntityError(f"The Access Key with id {rec.access_key_id} cannot be found.")
        return {}

    def update_access_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        status = require_str(params, "Status")
        if status not in ACCESS_KEY_STATUSES:
            raise validation_error(
                status, "status", "Member must satisfy enum value set: [Active, Inactive]"
            )
        rec = self._key_of(ctx, params)
        if not self.platform.credentials.set_status(rec.access_key_id, status):
            raise NoSuchEntityError(f"The Access Key with id {rec.access_key_id} cannot be found.")
        return {}

    # -- for STS -----------------------------------------------------------------------------

    def find_user_id(self, arn: str) -> str | None:
        with self.platform.store.read() as conn:
            return conn.execute(sa.select(t.users.c.user_id).where(t.users.c.arn == arn)).scalar()
