"""Table operations: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable,
UpdateTimeToLive, DescribeTimeToLive.

Invariants: a stored definition is always valid (``schema.check_create``); tables are ACTIVE as
soon as CreateTable commits, and gone as soon as DeleteTable commits (items with them).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import RequestContext
from lambdamaker.services.dynamodb import index_updates, indexes, streams
from lambdamaker.services.dynamodb.common import DynamoDBBase, Table
from lambdamaker.services.dynamodb.errors import in_use, invalid, not_supported, validation
from lambdamaker.services.dynamodb.schema import check_create, check_throughput
from lambdamaker.services.dynamodb.tables import ddb_items, ddb_tables

_LIST = (
    sa.select(ddb_tables.c.name)
    .where(ddb_tables.c.account == sa.bindparam("account"))
    .where(ddb_tables.c.name > sa.bindparam("after"))
    .order_by(ddb_tables.c.name)
    .limit(sa.bindparam("limit"))
)


class TableOperations(DynamoDBBase):
    def describe(self, conn: Connection, table: Table, status: str = "ACTIVE") -> dict[str, Any]:
        """The TableDescription, with each index's ItemCount and IndexSizeBytes."""
        out = super().describe(conn, table, status)
        counts = indexes.stats(conn, table)
        for group in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for index in out.get(group, []):
                count, size = counts.get(index["IndexName"], (0, 0))
                index["ItemCount"], index["IndexSizeBytes"] = count, size
        out.update(streams.describe_fields(table.definition))
        return out

    def create_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.tables.changing():
            return self._create_table(ctx, params)

    def _create_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for unsupported in ("SSESpecification",):
            spec = params.get(unsupported)
            if spec and spec.get("StreamEnabled", spec.get("Enabled")):
                raise not_supported(unsupported)
        definition = check_create(params)
        name = params["TableName"]
        now = self.now_ms()
        with self.platform.store.begin() as conn:
            if self.find_table(conn, ctx.account_id, name) is not None:
                raise in_use(f"Table already exists: {name}")
            conn.execute(
                sa.insert(ddb_tables).values(
                    account=ctx.account_id,
                    name=name,
                    table_id=str(uuid.uuid4()),
                    definition=json.dumps(definition),
                    created_ms=now,
                )
            )
            table = self.get_table(conn, ctx.account_id, name)
            stream_spec = params.get("StreamSpecification")
            streams.create_spec(conn, table, stream_spec, now, self.platform.config.region)
            return {"TableDescription": self.describe(conn, table)}

    def describe_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            table = self.get_table(conn, ctx.account_id, params["TableName"], named=True)
            return {"Table": self.describe(conn, table)}

    def list_tables(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = int(params.get("Limit", 100))
        with self.platform.store.read() as conn:
            names = list(
                conn.execute(
                    _LIST,
                    {
                        "account": ctx.account_id,
                        "after": params.get("ExclusiveStartTableName", ""),
                        "limit": limit + 1,
                    },
                ).scalars()
            )
        out: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def delete_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.tables.changing():
            return self._delete_table(ctx, params)

    def _delete_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            table = self.get_table(conn, ctx.account_id, params["TableName"], named=True)
            if table.definition.get("DeletionProtectionEnabled"):
                raise validation(
                    "Resource cannot be deleted as it is currently protected against deletion. "
                    "Disable deletion protection first."
                )
            description = self.describe(conn, table, status="DELETING")
            streams.disable(conn, table, self.now_ms())  # readable (DISABLED) for 24 hours
            conn.execute(sa.delete(ddb_items).where(ddb_items.c.table_id == table.id))
            conn.execute(sa.delete(ddb_tables).where(ddb_tables.c.id == table.id))
        return {"TableDescription": description}

    def update_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.tables.changing():
            return self._update_table(ctx, params)

    def _update_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        for unsupported in (
            "ReplicaUpdates",
            "SSESpecification",
        ):
            if params.get(unsupported):
                raise not_supported(unsupported)
        mode = params.get("BillingMode")
        throughput = params.get("ProvisionedThroughput")
        protection = params.get("DeletionProtectionEnabled")
        gsi_updates = params.get("GlobalSecondaryIndexUpdates")
        stream_spec = params.get("StreamSpecification")
        if (
            mode is None
            and throughput is None
            and protection is None
            and not gsi_updates
            and stream_spec is None
        ):
            raise validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        with self.platform.store.begin() as conn:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
            d = table.definition
            new_mode = mode or d["BillingMode"]
            if new_mode == "PAY_PER_REQUEST":
                if throughput is not None:
                    raise invalid(
                        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                        "BillingMode is PAY_PER_REQUEST"
                    )
                if d["BillingMode"] != "PAY_PER_REQUEST":
                    d["PayPerRequestSince"] = self.now_ms()
                d.pop("ProvisionedThroughput", None)
                for gsi in d.get("GlobalSecondaryIndexes", []):
                    gsi.pop("ProvisionedThroughput", None)
            else:
                if throughput is None and d["BillingMode"] != "PROVISIONED":
                    raise validation(
                        "One or more parameter values were invalid: ProvisionedThroughput must "
                        "be specified when BillingMode is PROVISIONED"
                    )
                if throughput is not None:
                    check_throughput(throughput)
                    current = d.get("ProvisionedThroughput")
                    if current == _plain(throughput) and mode is None:
                        raise validation(_unchanged(current))
                    d["ProvisionedThroughput"] = _plain(throughput)
                    for gsi in d.get("GlobalSecondaryIndexes", []):
                        gsi.setdefault("ProvisionedThroughput", _plain(throughput))
            d["BillingMode"] = new_mode
            index_updates.apply(conn, table, params)
            if stream_spec is not None:
                region = self.platform.config.region
                streams.update_spec(conn, table, stream_spec, self.now_ms(), region)
            if protection is not None:
                d["DeletionProtectionEnabled"] = bool(protection)
            conn.execute(
                sa.update(ddb_tables)
                .where(ddb_tables.c.id == table.id)
                .values(definition=json.dumps(d))
            )
            return {"TableDescription": self.describe(conn, table, status="ACTIVE")}

    def update_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.tables.changing():
            return self._update_time_to_live(ctx, params)

    def _update_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        spec = params["TimeToLiveSpecification"]
        enabled = bool(spec["Enabled"])
        with self.platform.store.begin() as conn:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
            d = table.definition
            ttl = d.get("TimeToLive")
            if enabled and ttl is not None:
                raise validation("TimeToLive is already enabled")
            if not enabled and ttl is None:
                raise validation("TimeToLive is already disabled")
            if not enabled and ttl != spec["AttributeName"]:
                raise validation(
                    "TimeToLive is active on a different AttributeName: current AttributeName "
                    f"is {ttl}"
                )
            if enabled:
                d["TimeToLive"] = spec["AttributeName"]
            else:
                d.pop("TimeToLive")
            conn.execute(
                sa.update(ddb_tables)
                .where(ddb_tables.c.id == table.id)
                .values(definition=json.dumps(d))
            )
        return {
            "TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": spec["AttributeName"]}
        }

    def describe_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            table = self.get_table(conn, ctx.account_id, params["TableName"])
        ttl = table.definition.get("TimeToLive")
        if ttl is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl}}


def _plain(throughput: dict[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
    }


def _unchanged(current: dict[str, int]) -> str:
    r, w = current["ReadCapacityUnits"], current["WriteCapacityUnits"]
    return (
        "The provisioned throughput for the table will not change. The requested value equals "
        f"the current value. Current ReadCapacityUnits provisioned for the table: {r}. Requested "
        f"ReadCapacityUnits: {r}. Current WriteCapacityUnits provisioned for the table: {w}. "
        f"Requested WriteCapacityUnits: {w}. Refer to the Amazon DynamoDB Developer Guide for "
        "current limits and how to request higher limits."
    )
