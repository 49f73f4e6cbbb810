"""Time to Live: a background pass deletes the items whose TTL attribute lies in the past.

A table's TTL attribute is the one UpdateTimeToLive enabled (``definition["TimeToLive"]``). An
item expires when that attribute is a Number (epoch seconds) not after the provider's clock and
not more than five years before it (DynamoDB ignores such values). AWS deletes expired items
within days; here a pass runs every ``TtlSweeper.interval`` seconds (env
``LAMBDAMAKER_DYNAMODB_TTL_INTERVAL``, default 30).

Invariants:

- expired items stay readable until a pass deletes them (no read-side filtering, as in AWS);
- an item is deleted only if it is still expired when re-read in the deleting transaction, so a
  concurrent write that renews or removes the TTL wins;
- every deletion goes through ``item_store.delete_item`` with the DynamoDB service principal as
  identity, so streams record it as a TTL removal and indexes follow;
- a pass also forgets TransactWriteItems idempotency tokens older than their 10 minutes;
- a pass reads each TTL table in key pages (``PAGE`` items per read snapshot) and deletes each
  page's expired items in one short write transaction: it never holds the writer for long.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lambdamaker.services.background import BackgroundLoop
from lambdamaker.services.dynamodb import item_store
from lambdamaker.services.dynamodb.common import StoredKey, Table
from lambdamaker.services.dynamodb.tables import ddb_items, ddb_tables
from lambdamaker.services.dynamodb.transact_ops import purge_tokens
from lambdamaker.services.dynamodb.values import Item, loads

if TYPE_CHECKING:
    from lambdamaker.services.dynamodb.common import DynamoDBBase

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
FIVE_YEARS = 5 * 365 * 24 * 3600
PAGE = 500

_TTL_TABLES = sa.select(ddb_tables)
_c = ddb_items.c
_PAGE = (
    sa.select(_c.bucket, _c.hash, _c.range, _c.item)
    .where(
        _c.table_id == sa.bindparam("t"),
        sa.tuple_(_c.hash, _c.range) > sa.tuple_(sa.bindparam("h"), sa.bindparam("r")),
    )
    .order_by(_c.hash, _c.range)
    .limit(PAGE)
)


def expired(item: Item | None, attribute: str, now: float) -> bool:
    """True when ``item``'s TTL attribute is a Number of epoch seconds that has passed."""
    if item is None:
        return False
    value = item.get(attribute)
    if value is None or "N" not in value:
        return False
    try:
        at = Decimal(value["N"])
    except InvalidOperation:
        return False
    return Decimal(now - FIVE_YEARS) <= at <= Decimal(now)


class TtlSweeper:
    interval: float = float(os.environ.get("LAMBDAMAKER_DYNAMODB_TTL_INTERVAL", "30"))
    """Seconds between passes (AWS: within a few days)."""

    def __init__(self, provider: DynamoDBBase) -> None:
        self.provider = provider
        self.loop = BackgroundLoop(
            "dynamodb-ttl", self._pass, min_wait=self.interval, max_wait=self.interval
        )

    def start(self) -> None:
        self.loop.start()

    def close(self) -> None:
        self.loop.close()

    def _pass(self) -> float:
        self.sweep(self.loop.stopped)
        # Housekeeping shares the loop: TransactWriteItems tokens past their window.
        with self.provider.platform.store.begin() as conn:
            purge_tokens(conn, self.provider.now_ms())
        return self.interval

    def _tables(self) -> list[Table]:
        with self.provider.platform.store.read() as conn:
            rows = conn.execute(_TTL_TABLES).all()
        tables = []
        for row in rows:
            definition: dict[str, Any] = json.loads(row.definition)
            if definition.get("TimeToLive"):
                tables.append(
                    Table(row.id, row.account, row.name, row.table_id, definition, row.created_ms)
                )
        return tables

    def sweep(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """One pass over every TTL table (cut short once ``stopping()``); the number of items
        deleted."""
        deleted = 0
        for table in self._tables():
            deleted += self._sweep_table(table, stopping)
        return deleted

    def _sweep_table(self, table: Table, stopping: Callable[[], bool]) -> int:
        attribute = str(table.definition["TimeToLive"])
        store = self.provider.platform.store
        cursor: tuple[bytes, bytes] = (b"", b"")
        deleted = 0
        while not stopping():
            now = self.provider.clock()
            with store.read() as conn:
                rows = conn.execute(_PAGE, {"t": table.id, "h": cursor[0], "r": cursor[1]}).all()
            if not rows:
                break
            cursor = (rows[-1].hash, rows[-1].range)
            due = [
                StoredKey(row.hash, row.range, row.bucket)
                for row in rows
                if expired(loads(row.item), attribute, now)
            ]
            if due:
                deleted += self._delete(table, attribute, due, now)
            if len(rows) < PAGE:
                break
        return deleted

    def _delete(self, table: Table, attribute: str, keys: list[StoredKey], now: float) -> int:
        deleted = 0
        with self.provider.platform.store.begin() as conn:
            current = self.provider.find_table(conn, table.account, table.name)
            if current is None or current.id != table.id:
                return 0  # the table was deleted (or replaced) meanwhile
            if current.definition.get("TimeToLive") != attribute:
                return 0  # TTL was disabled meanwhile
            for key in keys:
                old = item_store.get_item(conn, current, key)
                if old is not None and expired(old, attribute, now):
                    item_store.delete_item(conn, current, key, old, identity=TTL_IDENTITY)
                    deleted += 1
        return deleted
