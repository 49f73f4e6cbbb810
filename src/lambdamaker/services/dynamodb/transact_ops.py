"""TransactWriteItems and TransactGetItems.

A write transaction runs in three steps inside one store transaction: (1) before the store is
touched, every action's expressions are parsed (a bad expression is a ValidationException);
(2) tables and keys are resolved, duplicates refused, and every condition evaluated against the
stored items, the new items of Put / Update computed; (3) only if every action passed, the
writes are applied through ``item_store`` (so ``changes.after_write`` sees each of them).

Invariants:

- all or nothing: a failed condition (or an update that cannot apply) cancels the whole request
  with TransactionCanceledException, whose CancellationReasons has one entry per action in
  request order; nothing is written then, and no idempotency token is recorded;
- an item is the target of at most one action of a request;
- a ``ClientRequestToken`` that succeeded is recorded with its request's digest in the same
  transaction as the writes: within 10 minutes the same token and request return the recorded
  response without writing again, the same token with another request is
  IdempotentParameterMismatchException;
- TransactGetItems reads every item in one read snapshot, so the items are mutually consistent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.dynamodb import item_store
from lambdamaker.services.dynamodb.capacity import Meter, read_units, write_units
from lambdamaker.services.dynamodb.common import (
    DynamoDBBase,
    StoredKey,
    Table,
    item_key,
    request_key,
)
from lambdamaker.services.dynamodb.errors import validation
from lambdamaker.services.dynamodb.expressions import RequestExpressions
from lambdamaker.services.dynamodb.item_ops import select
from lambdamaker.services.dynamodb.transact_tables import ddb_tx_tokens
from lambdamaker.services.dynamodb.update_ops import check_key_untouched, updated_item
from lambdamaker.services.dynamodb.values import MAX_ITEM_BYTES, Item, check_item, item_size

MAX_ACTIONS = 100
IDEMPOTENCY_MS = 10 * 60 * 1000
_KINDS = ("ConditionCheck", "Put", "Delete", "Update")

_TOKEN = sa.select(
    ddb_tx_tokens.c.digest, ddb_tx_tokens.c.response, ddb_tx_tokens.c.created_ms
).where(
    ddb_tx_tokens.c.account == sa.bindparam("account"),
    ddb_tx_tokens.c.token == sa.bindparam("token"),
)


def _token_upsert(dialect: str) -> sa.Insert:
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(ddb_tx_tokens).values(
        account=sa.bindparam("account"),
        token=sa.bindparam("token"),
        digest=sa.bindparam("digest"),
        response=sa.bindparam("response"),
        created_ms=sa.bindparam("created_ms"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[ddb_tx_tokens.c.account, ddb_tx_tokens.c.token],
        set_={
            "digest": stmt.excluded.digest,
            "response": stmt.excluded.response,
            "created_ms": stmt.excluded.created_ms,
        },
    )


_TOKEN_UPSERTS = {"postgresql": _token_upsert("postgresql"), "sqlite": _token_upsert("sqlite")}
_PURGE = sa.delete(ddb_tx_tokens).where(ddb_tx_tokens.c.created_ms < sa.bindparam("before"))


def purge_tokens(conn: Connection, now_ms: int) -> int:
    """Forget the tokens older than the idempotency window (run by the TTL loop's passes)."""
    return int(conn.execute(_PURGE, {"before": now_ms - IDEMPOTENCY_MS}).rowcount or 0)


@dataclass
class _Action:
    kind: str
    spec: dict[str, Any]
    expressions: RequestExpressions
    table: Table | None = None
    key: StoredKey | None = None
    key_item: Item = field(default_factory=dict)
    old: Item | None = None
    new: Item | None = None
    size: int = 0


def _table_name(name: str) -> str:
    """A table name, or the name inside a table ARN (the Transact* APIs accept both)."""
    if name.startswith("arn:") and ":table/" in name:
        return name.split(":table/", 1)[1]
    return name


def _too_many(count: int) -> ServiceError:
    return validation(
        f"1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
        f"Member must have length less than or equal to {MAX_ACTIONS} (got {count})"
    )


def _digest(params: dict[str, Any]) -> str:
    def default(value: Any) -> str:
        if isinstance(value, (bytes, bytearray)):
            return base64.b64encode(bytes(value)).decode()
        return str(value)

    relevant = {k: params.get(k) for k in ("TransactItems", "ReturnItemCollectionMetrics")}
    text = json.dumps(relevant, sort_keys=True, default=default, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _parse_write(raw: dict[str, Any]) -> _Action:
    given = [kind for kind in _KINDS if raw.get(kind) is not None]
    if len(given) != 1:
        raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
    kind = given[0]
    spec: dict[str, Any] = raw[kind]
    return _Action(kind, spec, RequestExpressions(spec))


def _cancel_reason(error: ServiceError) -> dict[str, Any]:
    if error.code == "ConditionalCheckFailedException":
        reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": error.message}
        if error.fields.get("Item") is not None:
            reason["Item"] = error.fields["Item"]
        return reason
    return {"Code": "ValidationError", "Message": error.message}


class TransactOperations(DynamoDBBase):
    def transact_write_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raw_actions: list[dict[str, Any]] = params["TransactItems"]
        if len(raw_actions) > MAX_ACTIONS:
            raise _too_many(len(raw_actions))
        actions = [_parse_write(raw) for raw in raw_actions]
        token = params.get("ClientRequestToken")
        digest = _digest(params)
        meter = Meter(params)
        with self.platform.store.begin() as conn:
            if token:
                replay = self._replay(conn, ctx.account_id, token, digest)
                if replay is not None:
                    return replay
            tables = self._resolve(conn, ctx.account_id, actions)
            reasons = [self._evaluate(conn, action) for action in actions]
            if any(reason["Code"] != "None" for reason in reasons):
                codes = ", ".join(str(reason["Code"]) for reason in reasons)
                raise ServiceError(
                    "Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{codes}]",
                    code="TransactionCanceledException",
                    CancellationReasons=reasons,
                )
            for action in actions:
                self._apply(conn, action, meter)
            out = meter.many({}, tables)
            if token:
                conn.execute(
                    _TOKEN_UPSERTS[conn.dialect.name],
                    {
                        "account": ctx.account_id,
                        "token": token,
                        "digest": digest,
                        "response": json.dumps(out),
                        "created_ms": self.now_ms(),
                    },
                )
        return out

    def _replay(
        self, conn: Connection, account: str, token: str, digest: str
    ) -> dict[str, Any] | None:
        row = conn.execute(_TOKEN, {"account": account, "token": token}).first()
        if row is None or self.now_ms() - row.created_ms >= IDEMPOTENCY_MS:
            return None
        if row.digest != digest:
            raise ServiceError(
                "The request uses the same client token as a previous, but non-identical request.",
                code="IdempotentParameterMismatchException",
            )
        response: dict[str, Any] = json.loads(row.response)
        return response

    def _resolve(self, conn: Connection, account: str, actions: list[_Action]) -> list[str]:
        """Tables and keys of every action (ValidationException / ResourceNotFoundException
        before anything is evaluated); the table names in first-use order."""
        seen: set[tuple[int, bytes, bytes]] = set()
        names: list[str] = []
        for action in actions:
            name = _table_name(action.spec["TableName"])
            table = self.get_table(conn, account, name)
            if action.kind == "Put":
                item = check_item(action.spec["Item"])
                key = item_key(table, item)
                action.size = item_size(item)
                if action.size > MAX_ITEM_BYTES:
                    raise validation("Item size has exceeded the maximum allowed size")
                action.new = item
            else:
                action.key_item = check_item(action.spec["Key"])
                key = request_key(table, action.key_item)
                if action.kind == "Update":
                    check_key_untouched(action.key_item, action.expressions.update, {})
            if (table.id, key.hash, key.range) in seen:
                raise validation(
                    "Transaction request cannot include multiple operations on one item"
                )
            seen.add((table.id, key.hash, key.range))
            action.table, action.key = table, key
            if table.name not in names:
                names.append(table.name)
        return names

    @staticmethod
    def _evaluate(conn: Connection, action: _Action) -> dict[str, Any]:
        """Check the action's condition against the stored item; compute an update's result."""
        assert action.table is not None and action.key is not None
        action.old = item_store.get_item(conn, action.table, action.key)
        try:
            action.expressions.check(action.old, action.spec)
            if action.kind == "Update":
                action.new, action.size = updated_item(
                    action.key_item, action.old, action.expressions.update, {}
                )
        except ServiceError as error:
            return _cancel_reason(error)
        return {"Code": "None"}

    @staticmethod
    def _apply(conn: Connection, action: _Action, meter: Meter) -> None:
        assert action.table is not None and action.key is not None
        old_size = 0 if action.old is None else item_size(action.old)
        if action.kind in ("Put", "Update"):
            assert action.new is not None
            item_store.put_item(conn, action.table, action.key, action.new, action.size, action.old)
        elif action.kind == "Delete" and action.old is not None:
            item_store.delete_item(conn, action.table, action.key, action.old)
        # A transactional write costs two writes' units.
        meter.add_write(action.table.name, 2 * write_units(max(action.size, old_size)))

    def transact_get_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raw_gets: list[dict[str, Any]] = params["TransactItems"]
        if len(raw_gets) > MAX_ACTIONS:
            raise _too_many(len(raw_gets))
        gets: list[tuple[dict[str, Any], RequestExpressions]] = []
        for raw in raw_gets:
            spec = raw.get("Get")
            if spec is None:
                raise validation("TransactItems can only contain one of Get")
            gets.append((spec, RequestExpressions(spec)))
        meter = Meter(params)
        responses: list[dict[str, Any]] = []
        names: list[str] = []
        seen: set[tuple[int, bytes, bytes]] = set()
        with self.platform.store.read() as conn:
            for spec, expressions in gets:
                table = self.get_table(conn, ctx.account_id, _table_name(spec["TableName"]))
                key = request_key(table, check_item(spec["Key"]))
                if (table.id, key.hash, key.range) in seen:
                    raise validation(
                        "Transaction request cannot include multiple operations on one item"
                    )
                seen.add((table.id, key.hash, key.range))
                if table.name not in names:
                    names.append(table.name)
                item = item_store.get_item(conn, table, key)
                size = 0 if item is None else item_size(item)
                # A transactional read costs two strongly consistent reads' units.
                meter.add_read(table.name, 2 * read_units(size, True))
                responses.append({} if item is None else {"Item": select(item, spec, expressions)})
        return meter.many({"Responses": responses}, names)
