"""Tags on roles, users and customer managed policies.

IAM tag keys are case-insensitive but case-preserving: tagging ``env`` when ``Env`` exists
replaces the value and keeps ``Env``'s position; a request naming the same key twice in any
case is ``InvalidInput``. An entity holds at most 50 tags; a request that would go beyond is
``LimitExceeded`` and changes nothing. Tags are keyed by the entity's id (see ``tables``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.services.base import RequestContext
from lambdamaker.services.iam import tables as t
from lambdamaker.services.iam.common import IamBase, require_str
from lambdamaker.services.iam.errors import IamAccessDeniedError, LimitExceededError
from lambdamaker.services.iam.validation import MAX_TAGS, check_tag_keys, check_tags, paginate


def read_tags(conn: Connection, entity_id: str) -> list[dict[str, str]]:
    rows = conn.execute(
        sa.select(t.tags.c.key, t.tags.c.value)
        .where(t.tags.c.entity_id == entity_id)
        .order_by(t.tags.c.seq)
    ).all()
    return [{"Key": r.key, "Value": r.value} for r in rows]


def write_tags(conn: Connection, entity_id: str, pairs: list[tuple[str, str]]) -> None:
    """Merge ``pairs`` into the entity's tags (already validated by ``check_tags``)."""
    if not pairs:
        return
    existing = {
        r.key_lower: r
        for r in conn.execute(sa.select(t.tags).where(t.tags.c.entity_id == entity_id)).all()
    }
    new_keys = {k.lower() for k, _ in pairs} - set(existing)
    if len(existing) + len(new_keys) > MAX_TAGS:
        raise LimitExceededError(
            f"The number of tags has reached the maximum limit of {MAX_TAGS} tags per resource."
        )
    seq = max((r.seq for r in existing.values()), default=0)
    for key, value in pairs:
        old = existing.get(key.lower())
        if old is not None:
            conn.execute(
                sa.update(t.tags)
                .where(t.tags.c.entity_id == entity_id, t.tags.c.key_lower == key.lower())
                .values(value=value)
            )
        else:
            seq += 1
            conn.execute(
                sa.insert(t.tags).values(
                    entity_id=entity_id, key_lower=key.lower(), key=key, value=value, seq=seq
                )
            )


def remove_tags(conn: Connection, entity_id: str, keys: list[str]) -> None:
    lowered = [k.lower() for k in keys]
    if lowered:
        conn.execute(
            sa.delete(t.tags).where(
                t.tags.c.entity_id == entity_id, t.tags.c.key_lower.in_(lowered)
            )
        )


def drop_tags(conn: Connection, entity_id: str) -> None:
    conn.execute(sa.delete(t.tags).where(t.tags.c.entity_id == entity_id))


def _tag_page(tags: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
    indexed = [(i, tag) for i, tag in enumerate(tags)]
    out = paginate(indexed, params, lambda it: [it[0]], "Tags")
    out["Tags"] = [tag for _, tag in out["Tags"]]
    return out


class TagOperations(IamBase):
    """TagRole, UntagRole, ListRoleTags and their user and policy counterparts."""

    def _tag(self, params: dict[str, Any], entity: str) -> None:
        pairs = check_tags(params.get("Tags"))
        with self.platform.store.begin() as conn:
            write_tags(conn, self._entity_id(conn, params, entity), pairs)

    def _untag(self, params: dict[str, Any], entity: str) -> None:
        keys = check_tag_keys(params.get("TagKeys"))
        with self.platform.store.begin() as conn:
            remove_tags(conn, self._entity_id(conn, params, entity), keys)

    def _list(self, params: dict[str, Any], entity: str) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            tags = read_tags(conn, self._entity_id(conn, params, entity, writing=False))
        return _tag_page(tags, params)

    def _entity_id(
        self, conn: Connection, params: dict[str, Any], entity: str, writing: bool = True
    ) -> str:
        row: Row[Any]
        if entity == "role":
            return str(self.role_row(conn, require_str(params, "RoleName")).role_id)
        if entity == "user":
            return str(self.user_row(conn, require_str(params, "UserName")).user_id)
        row = self.policy_row(conn, require_str(params, "PolicyArn"))
        if writing and row.scope == "AWS":
            raise IamAccessDeniedError(
                f"Cannot modify the tags of AWS managed policy {row.arn}: it belongs to AWS."
            )
        return str(row.policy_id)

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(params, "role")
        return {}

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._untag(params, "role")
        return {}

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(params, "role")

    def tag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(params, "user")
        return {}

    def untag_user(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._untag(params, "user")
        return {}

    def list_user_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(params, "user")

    def tag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._tag(params, "policy")
        return {}

    def untag_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._untag(params, "policy")
        return {}

    def list_policy_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(params, "policy")
