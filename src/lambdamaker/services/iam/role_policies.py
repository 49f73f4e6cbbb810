"""A role's permissions: attached managed policies and inline policies.

- Attaching is idempotent (attaching twice changes nothing, as in IAM) and limited to 10
  managed policies per role (IAM's default ``PoliciesPerRole``). The policy's
  ``AttachmentCount`` changes in the same transaction as the attachment row.
- Inline policies are identity policies, validated as such; their combined size per role is
  limited to 10,240 non-whitespace characters, as IAM counts it. ``PutRolePolicy`` replaces a
  policy of the same name.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lambdamaker.security.policy import PolicyKind, parse_policy, policy_size
from lambdamaker.services.base import RequestContext
from lambdamaker.services.iam import tables as t
from lambdamaker.services.iam.common import (
    IamBase,
    count_rows,
    encode_document,
    now,
    require_document,
    require_str,
)
from lambdamaker.services.iam.errors import LimitExceededError, NoSuchEntityError
from lambdamaker.services.iam.validation import (
    check_name,
    check_policy_path,
    paginate,
)

MAX_ATTACHED_PER_ROLE = 10
INLINE_ROLE_POLICY_MAX = 10240


class RolePolicyOperations(IamBase):
    # -- managed policies --------------------------------------------------------------------

    def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = require_str(params, "PolicyArn")
        with self.platform.store.begin() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            policy = self.policy_row(conn, arn)
            key = (t.role_attachments.c.role_id == role.role_id) & (
                t.role_attachments.c.policy_id == policy.policy_id
            )
            if conn.execute(sa.select(t.role_attachments).where(key)).first():
                return {}
            count = count_rows(conn, t.role_attachments.c.role_id, role.role_id)
            if count >= MAX_ATTACHED_PER_ROLE:
                raise LimitExceededError(
                    f"Cannot exceed quota for PoliciesPerRole: {MAX_ATTACHED_PER_ROLE}"
                )
            conn.execute(
                sa.insert(t.role_attachments).values(
                    role_id=role.role_id, policy_id=policy.policy_id, attached_at=now()
                )
            )
            self._count_attachment(conn, policy.policy_id, +1)
        return {}

    def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = require_str(params, "PolicyArn")
        with self.platform.store.begin() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            self.check_policy_arn(arn)
            policy = conn.execute(sa.select(t.policies).where(t.policies.c.arn == arn)).first()
            deleted = 0
            if policy is not None:
                deleted = conn.execute(
                    sa.delete(t.role_attachments).where(
                        t.role_attachments.c.role_id == role.role_id,
                        t.role_attachments.c.policy_id == policy.policy_id,
                    )
                ).rowcount
            if not deleted or policy is None:
                raise NoSuchEntityError(f"Policy {arn} was not found.")
            self._count_attachment(conn, policy.policy_id, -1)
        return {}

    def _count_attachment(self, conn: sa.Connection, policy_id: str, delta: int) -> None:
        conn.execute(
            sa.update(t.policies)
            .where(t.policies.c.policy_id == policy_id)
            .values(attachment_count=t.policies.c.attachment_count + delta)
        )

    def list_attached_role_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        prefix = check_policy_path(params.get("PathPrefix"), "pathPrefix")
        with self.platform.store.read() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            rows = conn.execute(
                sa.select(t.policies.c.policy_name, t.policies.c.arn, t.policies.c.path)
                .join(t.role_attachments, t.role_attachments.c.policy_id == t.policies.c.policy_id)
                .where(t.role_attachments.c.role_id == role.role_id)
                .order_by(t.policies.c.name_key, t.policies.c.arn)
            ).all()
        items = [
            {"PolicyName": r.policy_name, "PolicyArn": r.arn}
            for r in rows
            if r.path.startswith(prefix)
        ]
        return paginate(
            items, params, lambda p: [p["PolicyName"].lower(), p["PolicyArn"]], "AttachedPolicies"
        )

    # -- inline policies ---------------------------------------------------------------------

    def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy_name = check_name(require_str(params, "PolicyName"), "policyName", max_len=128)
        document = require_document(params, "PolicyDocument")
        parse_policy(document, PolicyKind.IDENTITY)
        with self.platform.store.begin() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            others = conn.execute(
                sa.select(t.role_inline_policies.c.document).where(
                    t.role_inline_policies.c.role_id == role.role_id,
                    t.role_inline_policies.c.policy_name != policy_name,
                )
            ).scalars()
            total = policy_size(document) + sum(policy_size(d) for d in others)
            if total > INLINE_ROLE_POLICY_MAX:
                raise LimitExceededError(
                    f"Maximum policy size of {INLINE_ROLE_POLICY_MAX} bytes exceeded for role "
                    f"{role.role_name}"
                )
            key = (t.role_inline_policies.c.role_id == role.role_id) & (
                t.role_inline_policies.c.policy_name == policy_name
            )
            if conn.execute(sa.select(t.role_inline_policies.c.role_id).where(key)).first():
                conn.execute(sa.update(t.role_inline_policies).where(key).values(document=document))
            else:
                conn.execute(
                    sa.insert(t.role_inline_policies).values(
                        role_id=role.role_id, policy_name=policy_name, document=document
                    )
                )
        return {}

    def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy_name = check_name(require_str(params, "PolicyName"), "policyName", max_len=128)
        with self.platform.store.read() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            document = conn.execute(
                sa.select(t.role_inline_policies.c.document).where(
                    t.role_inline_policies.c.role_id == role.role_id,
                    t.role_inline_policies.c.policy_name == policy_name,
                )
            ).scalar()
        if document is None:
            raise NoSuchEntityError(f"The role policy with name {policy_name} cannot be found.")
        return {
            "RoleName": role.role_name,
            "PolicyName": policy_name,
            "PolicyDocument": encode_document(document),
        }

    def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        policy_name = check_name(require_str(params, "PolicyName"), "policyName", max_len=128)
        with self.platform.store.begin() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            deleted = conn.execute(
                sa.delete(t.role_inline_policies).where(
                    t.role_inline_policies.c.role_id == role.role_id,
                    t.role_inline_policies.c.policy_name == policy_name,
                )
            ).rowcount
        if not deleted:
            raise NoSuchEntityError(f"The role policy with name {policy_name} cannot be found.")
        return {}

    def list_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            role = self.role_row(conn, require_str(params, "RoleName"))
            names = list(
                conn.execute(
                    sa.select(t.role_inline_policies.c.policy_name)
                    .where(t.role_inline_policies.c.role_id == role.role_id)
                    .order_by(t.role_inline_policies.c.policy_name)
                ).scalars()
            )
        return paginate(names, params, lambda n: [n], "PolicyNames")
