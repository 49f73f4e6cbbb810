"""What the HTTP API operations share: errors, ids, documents, paging."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.apigatewayv2 import tables as t
from lambdamaker.services.base import RequestContext
from lambdamaker.store import Store

_ID_ALPHABET = string.ascii_lowercase + string.digits


class BadRequestError(ServiceError):
    code = "BadRequestException"
    status = 400


class NotFoundError(ServiceError):
    code = "NotFoundException"
    status = 404


class ConflictError(ServiceError):
    code = "ConflictException"
    status = 409


def new_id(length: int = 7) -> str:
    """API ids are 10 characters, route/integration ids 7, as AWS makes them."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def not_found(kind: str, ident: str) -> NotFoundError:
    return NotFoundError(f"Invalid {kind} identifier specified {ident}", ResourceType=kind)


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), default=str)


def load(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def pick(params: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The members of ``params`` named in ``names`` that the caller gave."""
    return {name: params[name] for name in names if params.get(name) is not None}


def require_api(conn: Connection, ctx: RequestContext, api_id: str) -> Any:
    """The API's row, if it belongs to the caller's account and region."""
    row = conn.execute(
        sa.select(t.apis).where(
            t.apis.c.api_id == api_id,
            t.apis.c.account == ctx.account_id,
            t.apis.c.region == ctx.region,
        )
    ).first()
    if row is None:
        raise not_found("API", api_id)
    return row


def child(conn: Connection, table: sa.Table, kind: str, api_id: str, ident: str) -> Any:
    """The row of an API's route, integration, stage, deployment or authorizer (``table`` is
    keyed by (api_id, id)), or ``NotFoundException`` naming ``kind``."""
    row = conn.execute(sa.select(table).where(_by_key(table, api_id, ident))).first()
    if row is None:
        raise not_found(kind, ident)
    return row


def _by_key(table: sa.Table, api_id: str, ident: str) -> Any:
    key = list(table.primary_key.columns)[1]
    return sa.and_(table.c.api_id == api_id, key == ident)


def update_child(conn: Connection, table: sa.Table, api_id: str, ident: str, **values: Any) -> None:
    """Set ``values`` on one of an API's routes, integrations, stages, deployments or
    authorizers (``table`` keyed by (api_id, id))."""
    conn.execute(sa.update(table).where(_by_key(table, api_id, ident)).values(**values))


def delete_child(conn: Connection, table: sa.Table, api_id: str, ident: str) -> bool:
    """Delete one of an API's children; whether it existed."""
    return bool(conn.execute(sa.delete(table).where(_by_key(table, api_id, ident))).rowcount)


def children(conn: Connection, table: sa.Table, api_id: str, order: sa.Column[Any]) -> list[Any]:
    """All routes, integrations or stages of an API, ordered by ``order``."""
    return list(conn.execute(sa.select(table).where(table.c.api_id == api_id).order_by(order)))


def read_child(
    store: Store, ctx: RequestContext, table: sa.Table, kind: str, api_id: str, ident: str
) -> Any:
    """``child`` of an existing API of the caller, in its own read."""
    with store.read() as conn:
        require_api(conn, ctx, api_id)
        return child(conn, table, kind, api_id, ident)


def read_children(
    store: Store, ctx: RequestContext, table: sa.Table, api_id: str, order: sa.Column[Any]
) -> list[Any]:
    """``children`` of an existing API of the caller, in its own read."""
    with store.read() as conn:
        require_api(conn, ctx, api_id)
        return children(conn, table, api_id, order)


def page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """``Items`` and ``NextToken`` (an offset) for the Get* list operations."""
    try:
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 0) or len(items) or 1
    except ValueError as exc:
        raise BadRequestError("Invalid pagination parameters") from exc
    if start < 0 or size < 1:
        raise BadRequestError("Invalid pagination parameters")
    out: dict[str, Any] = {"Items": items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out
