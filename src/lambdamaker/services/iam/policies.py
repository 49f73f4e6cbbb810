"""Managed policies and their versions.

Invariants (as in IAM, https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html):
- A customer managed policy has 1 to 5 versions, exactly one of them the default. Version ids
  are ``v1``, ``v2``…, never reused after a deletion.
- A policy cannot be deleted while it is attached or used as a permissions boundary, nor while
  it has versions besides the default one.
- Documents are identity policies, at most 6,144 non-whitespace characters.
- AWS managed policies (``scope = 'AWS'``) come from ``managed.CATALOGUE``, are synced at
  start-up, and refuse every change but attaching.
"""

from __future__ import annotations

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
    require_document,
    require_str,
    to_datetime,
)
from lambdamaker.services.iam.errors import (
    DeleteConflictError,
    EntityAlreadyExistsError,
    IamAccessDeniedError,
    LimitExceededError,
    NoSuchEntityError,
)
from lambdamaker.services.iam.managed import CATALOGUE, CATALOGUE_DATE
from lambdamaker.services.iam.tags import drop_tags, read_tags, write_tags
from lambdamaker.services.iam.validation import (
    check_description,
    check_name,
    check_policy_path,
    check_tags,
    decode_marker,
    max_items,
    paginate,
    validation_error,
)

MANAGED_POLICY_MAX = 6144
MAX_VERSIONS = 5
SCOPES = ("All", "AWS", "Local")


def check_managed_document(text: str) -> None:
    parse_policy(text, PolicyKind.IDENTITY)
    if policy_size(text) > MANAGED_POLICY_MAX:
        raise LimitExceededError(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")


def insert_policy(
    conn: Connection,
    *,
    policy_id: str,
    arn: str,
    scope: str,
    name: str,
    path: str,
    description: str | None,
    document: str,
    ts: float,
) -> None:
    """A new managed policy, unattached, whose one version ``v1`` holds ``document``."""
    conn.execute(
        sa.insert(t.policies).values(
            policy_id=policy_id,
            arn=arn,
            scope=scope,
            name_key=name.lower(),
            policy_name=name,
            path=path,
            description=description,
            default_version_id="v1",
            next_version=2,
            attachment_count=0,
            boundary_count=0,
            created_at=ts,
            updated_at=ts,
        )
    )
    conn.execute(
        sa.insert(t.policy_versions).values(
            policy_id=policy_id,
            version_id="v1",
            version_number=1,
            document=document,
            created_at=ts,
        )
    )


def sync_catalogue(conn: Connection) -> None:
    """Insert (or refresh) the built-in AWS managed policies; attachments are kept."""
    for mp in CATALOGUE:
        row = conn.execute(sa.select(t.policies).where(t.policies.c.arn == mp.arn)).first()
        if row is None:
            insert_policy(
                conn,
                policy_id=mp.policy_id,
                arn=mp.arn,
                scope="AWS",
                name=mp.name,
                path=mp.path,
                description=mp.description,
                document=mp.document_text,
                ts=CATALOGUE_DATE,
            )
        else:
            conn.execute(
                sa.update(t.policy_versions)
                .where(
                    t.policy_versions.c.policy_id == row.policy_id,
                    t.policy_versions.c.version_id == "v1",
                )
                .values(document=mp.document_text)
            )


def _version_number(version_id: str) -> int:
    if not version_id.startswith("v") or not version_id[1:].isdigit():
        raise validation_error(
            version_id,
            "versionId",
            r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
        )
    return int(version_id[1:])


class PolicyOperations(IamBase):
    def policy_dict(self, row: Row[Any], conn: Connection | None = None) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "PolicyName": row.policy_name,
            "PolicyId": row.policy_id,
            "Arn": row.arn,
            "Path": row.path,
            "DefaultVersionId": row.default_version_id,
            "AttachmentCount": row.attachment_count,
            "PermissionsBoundaryUsageCount": row.boundary_count,
            "IsAttachable": True,
            "CreateDate": to_datetime(row.created_at),
            "UpdateDate": to_datetime(row.updated_at),
        }
        if conn is not None:
            if row.description is not None:
                policy["Description"] = row.description
            tags = read_tags(conn, row.policy_id)
            if tags:
                policy["Tags"] = tags
        return policy

    def _local_policy(self, conn: Connection, arn: str, action: str) -> Row[Any]:
        row = self.policy_row(conn, arn)
        if row.scope == "AWS":
            raise IamAccessDeniedError(f"Cannot {action} AWS managed policy {arn}.")
        return row

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = check_name(require_str(params, "PolicyName"), "policyName", max_len=128)
        path = check_policy_path(params.get("Path"))
        document = require_document(params, "PolicyDocument")
        description = check_description(params.get("Description"))
        tags = check_tags(params.get("Tags"))
        check_managed_document(document)
        ts = now()
        with self.platform.store.begin() as conn:
            clash = conn.execute(
                sa.select(t.policies.c.policy_id).where(
                    t.policies.c.scope == "Local", t.policies.c.name_key == name.lower()
                )
            ).first()
            if clash:
                raise EntityAlreadyExistsError(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            policy_id = new_id("ANPA")
            arn = self.arn("policy", path, name)
            insert_policy(
                conn,
                policy_id=policy_id,
                arn=arn,
                scope="Local",
                name=name,
                path=path,
                description=description,
                document=document,
                ts=ts,
            )
            write_tags(conn, policy_id, tags)
            return {"Policy": self.policy_dict(self.policy_row(conn, arn), conn)}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            row = self.policy_row(conn, require_str(params, "PolicyArn"))
            return {"Policy": self.policy_dict(row, conn)}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        scope = params.get("Scope") or "All"
        if scope not in SCOPES:
            raise validation_error(
                scope, "scope", "Member must satisfy enum value set: [All, AWS, Local]"
            )
        prefix = check_policy_path(params.get("PathPrefix"), "pathPrefix")
        limit = max_items(params)
        after = decode_marker(params.get("Marker"))
        query = sa.select(t.policies).where(t.policies.c.path.startswith(prefix, autoescape=True))
        if scope != "All":
            query = query.where(t.policies.c.scope == scope)
        usage = params.get("PolicyUsageFilter")
        if usage == "PermissionsBoundary":
            query = query.where(t.policies.c.boundary_count > 0)
        elif usage == "PermissionsPolicy" or params.get("OnlyAttached"):
            query = query.where(t.policies.c.attachment_count > 0)
        if after:
            last_name, last_arn = str(after[0]), str(after[-1])
            query = query.where(
                (t.policies.c.name_key > last_name)
                | ((t.policies.c.name_key == last_name) & (t.policies.c.arn > last_arn))
            )
        order = (t.policies.c.name_key, t.policies.c.arn)
        return self.page_of_rows(query, order, limit, "Policies", self.policy_dict)

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            row = self._local_policy(conn, require_str(params, "PolicyArn"), "delete")
            if row.attachment_count or row.boundary_count:
                raise DeleteConflictError("Cannot delete a policy attached to entities.")
            versions = count_rows(conn, t.policy_versions.c.policy_id, row.policy_id)
            if versions > 1:
                raise DeleteConflictError(
                    "This policy has more than one version. Before you delete a policy, you must "
                    "delete the policy's versions. The default version is deleted with the policy."
                )
            conn.execute(
                sa.delete(t.policy_versions).where(t.policy_versions.c.policy_id == row.policy_id)
            )
            drop_tags(conn, row.policy_id)
            conn.execute(sa.delete(t.policies).where(t.policies.c.policy_id == row.policy_id))
        return {}

    # -- versions ----------------------------------------------------------------------------

    def _version_dict(self, policy: Row[Any], v: Row[Any], document: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "VersionId": v.version_id,
            "IsDefaultVersion": v.version_id == policy.default_version_id,
            "CreateDate": to_datetime(v.created_at),
        }
        if document:
            out["Document"] = encode_document(v.document)
        return out

    def _version_row(self, conn: Connection, policy: Row[Any], version_id: str) -> Row[Any]:
        _version_number(version_id)
        row = conn.execute(
            sa.select(t.policy_versions).where(
                t.policy_versions.c.policy_id == policy.policy_id,
                t.policy_versions.c.version_id == version_id,
            )
        ).first()
        if row is None:
            raise NoSuchEntityError(
                f"Policy {policy.arn} version {version_id} does not exist or is not attachable."
            )
        return row

    def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            policy = self.policy_row(conn, require_str(params, "PolicyArn"))
            v = self._version_row(conn, policy, require_str(params, "VersionId"))
        return {"PolicyVersion": self._version_dict(policy, v, document=True)}

    def create_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        document = require_document(params, "PolicyDocument")
        check_managed_document(document)
        ts = now()
        with self.platform.store.begin() as conn:
            policy = self._local_policy(conn, require_str(params, "PolicyArn"), "modify")
            count = count_rows(conn, t.policy_versions.c.policy_id, policy.policy_id)
            if count >= MAX_VERSIONS:
                raise LimitExceededError(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create "
                    "a new version, you must delete an existing version."
                )
            number = policy.next_version
            version_id = f"v{number}"
            conn.execute(
                sa.insert(t.policy_versions).values(
                    policy_id=policy.policy_id,
                    version_id=version_id,
                    version_number=number,
                    document=document,
                    created_at=ts,
                )
            )
            values: dict[str, Any] = {"next_version": number + 1, "updated_at": ts}
            if params.get("SetAsDefault"):
                values["default_version_id"] = version_id
            conn.execute(
                sa.update(t.policies)
                .where(t.policies.c.policy_id == policy.policy_id)
                .values(**values)
            )
            policy = self.policy_row(conn, policy.arn)
            v = self._version_row(conn, policy, version_id)
        return {"PolicyVersion": self._version_dict(policy, v, document=True)}

    def list_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            policy = self.policy_row(conn, require_str(params, "PolicyArn"))
            rows = conn.execute(
                sa.select(t.policy_versions)
                .where(t.policy_versions.c.policy_id == policy.policy_id)
                .order_by(t.policy_versions.c.version_number.desc())
            ).all()
        # Newest first, as IAM lists them; the marker key is the negated version number so
        # that "greater than the last key" walks down the list.
        items = [(-r.version_number, self._version_dict(policy, r, document=False)) for r in rows]
        out = paginate(items, params, lambda it: [it[0]], "Versions")
        out["Versions"] = [v for _, v in out["Versions"]]
        return out

    def delete_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            policy = self._local_policy(conn, require_str(params, "PolicyArn"), "modify")
            v = self._version_row(conn, policy, require_str(params, "VersionId"))
            if v.version_id == policy.default_version_id:
                raise DeleteConflictError("Cannot delete the default version of a policy.")
            conn.execute(
                sa.delete(t.policy_versions).where(
                    t.policy_versions.c.policy_id == policy.policy_id,
                    t.policy_versions.c.version_id == v.version_id,
                )
            )
        return {}

    def set_default_policy_version(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            policy = self._local_policy(conn, require_str(params, "PolicyArn"), "modify")
            v = self._version_row(conn, policy, require_str(params, "VersionId"))
            conn.execute(
                sa.update(t.policies)
                .where(t.policies.c.policy_id == policy.policy_id)
                .values(default_version_id=v.version_id, updated_at=now())
            )
        return {}
