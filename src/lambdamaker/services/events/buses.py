"""Event buses: Create, Delete, List, Describe. The ``default`` bus has no row and always exists;
deleting a bus deletes its rules and their targets in the same transaction."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import RequestContext
from lambdamaker.services.events import tables as t
from lambdamaker.services.events.base import EventsBase
from lambdamaker.services.events.common import (
    DEFAULT_BUS,
    AlreadyExistsError,
    EventsValidationError,
    bus_arn,
    bus_name_of,
    bus_not_found,
    decode_token,
    encode_token,
    page_limit,
)

_NAME = re.compile(r"[\w.\-]{1,256}")


def bus_exists(conn: Connection, ctx: RequestContext, name: str) -> bool:
    return bus_exists_in(conn, ctx.account_id, ctx.region, name)


def bus_exists_in(conn: Connection, account: str, region: str, name: str) -> bool:
    if name == DEFAULT_BUS:
        return True
    row = conn.execute(
        sa.select(t.buses.c.name).where(
            t.buses.c.account == account, t.buses.c.region == region, t.buses.c.name == name
        )
    ).first()
    return row is not None


def _default_row(ctx: RequestContext) -> dict[str, Any]:
    return {"name": DEFAULT_BUS, "arn": bus_arn(ctx, DEFAULT_BUS), "description": None,
            "created_at": 0.0, "modified_at": 0.0}  # fmt: skip


def _bus_shape(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": row["name"], "Arn": row["arn"]}
    if row["description"] is not None:
        out["Description"] = row["description"]
    if row["created_at"]:
        out["CreationTime"] = datetime.fromtimestamp(row["created_at"], UTC)
        out["LastModifiedTime"] = datetime.fromtimestamp(row["modified_at"], UTC)
    return out


class BusOperations(EventsBase):
    def create_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if params.get("EventSourceName"):
            raise EventsValidationError("Partner event sources are not supported.")
        if _NAME.fullmatch(name) is None:
            raise EventsValidationError(
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+"
            )
        arn, now = bus_arn(ctx, name), time.time()
        with self.platform.store.begin() as conn:
            if bus_exists(conn, ctx, name):
                raise AlreadyExistsError(f"Event bus {name} already exists.")
            conn.execute(
                sa.insert(t.buses).values(
                    account=ctx.account_id,
                    region=ctx.region,
                    name=name,
                    arn=arn,
                    description=params.get("Description"),
                    created_at=now,
                    modified_at=now,
                )
            )
        out: dict[str, Any] = {"EventBusArn": arn}
        if params.get("Description") is not None:
            out["Description"] = params["Description"]
        return out

    def delete_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if name == DEFAULT_BUS:
            raise EventsValidationError("Cannot delete event bus default.")
        scope = {"account": ctx.account_id, "region": ctx.region}
        with self.platform.store.begin() as conn:
            # AWS answers 200 for a bus that doesn't exist.
            for table, column in ((t.targets, "bus"), (t.rules, "bus"), (t.buses, "name")):
                conn.execute(
                    sa.delete(table).where(
                        table.c.account == scope["account"],
                        table.c.region == scope["region"],
                        table.c[column] == name,
                    )
                )
            self.rules_changed(conn)
        return {}

    def describe_event_bus(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = bus_name_of(ctx, params.get("Name"))
        if name == DEFAULT_BUS:
            return _bus_shape(_default_row(ctx))
        with self.platform.store.read() as conn:
            row = conn.execute(
                sa.select(t.buses).where(
                    t.buses.c.account == ctx.account_id,
                    t.buses.c.region == ctx.region,
                    t.buses.c.name == name,
                )
            ).first()
        if row is None:
            raise bus_not_found(name)
        return _bus_shape(row._mapping)

    def list_event_buses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("NamePrefix") or ""
        limit = page_limit(params)
        token = params.get("NextToken")
        after = decode_token(token) if token else None
        with self.platform.store.read() as conn:
            query = sa.select(t.buses).where(
                t.buses.c.account == ctx.account_id, t.buses.c.region == ctx.region
            )
            rows: list[Any] = [r._mapping for r in conn.execute(query)]
        rows.append(_default_row(ctx))
        rows = sorted(
            (
                r
                for r in rows
                if r["name"].startswith(prefix) and (after is None or r["name"] > after)
            ),
            key=lambda r: r["name"],
        )
        out: dict[str, Any] = {"EventBuses": [_bus_shape(r) for r in rows[:limit]]}
        if len(rows) > limit:
            out["NextToken"] = encode_token(rows[limit - 1]["name"])
        return out
