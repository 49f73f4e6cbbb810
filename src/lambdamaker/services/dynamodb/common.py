"""What the DynamoDB operation groups share: the clock, table lookup, key extraction and the
TableDescription.

Invariants: a ``Table`` is read inside the transaction that uses it, so an operation never acts
on a table deleted meanwhile; key extraction validates key values against the table's schema
before any item is written or looked up.
"""

from __future__ import annotations

import functools
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import Provider
from lambdamaker.services.dynamodb.errors import invalid, not_found, table_not_found, validation
from lambdamaker.services.dynamodb.keys import encode_key
from lambdamaker.services.dynamodb.table_cache import TableCache
from lambdamaker.services.dynamodb.tables import ddb_items, ddb_tables
from lambdamaker.services.dynamodb.values import Item
from lambdamaker.store.group_commit import GroupCommitter

BUCKETS = 65536

_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")


def check_table_name(name: str) -> None:
    """DynamoDB's ValidationException for a table name outside its pattern and lengths (an
    ARN is checked as one). DynamoDB checks this before looking the table up; here it runs
    only once the lookup found nothing, which answers the same (no table has such a name)."""
    if name.startswith("arn:"):
        return
    problems = []
    if not _TABLE_NAME.fullmatch(name):
        problems.append("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    if len(name) < 3:
        problems.append("Member must have length greater than or equal to 3")
    if len(name) > 255:
        problems.append("Member must have length less than or equal to 255")
    if not problems:
        return
    count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected"
    clauses = "; ".join(
        f"Value '{name}' at 'tableName' failed to satisfy constraint: {problem}"
        for problem in problems
    )
    raise validation(f"{count}: {clauses}")


_BY_NAME = sa.select(ddb_tables).where(
    ddb_tables.c.account == sa.bindparam("account"), ddb_tables.c.name == sa.bindparam("name")
)
_STATS = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ddb_items.c.size), 0)).where(
    ddb_items.c.table_id == sa.bindparam("id")
)


@dataclass
class Table:
    id: int
    account: str
    name: str
    table_id: str
    definition: dict[str, Any]
    created_ms: int

    @functools.cached_property
    def key_schema(self) -> list[tuple[str, str]]:
        """``[(name, type)]``: the partition key, then the sort key if any. Cached: a table's
        key attributes and their types never change (cached tables serve many requests)."""
        types = {
            a["AttributeName"]: a["AttributeType"] for a in self.definition["AttributeDefinitions"]
        }
        return [
            (k["AttributeName"], types[k["AttributeName"]]) for k in self.definition["KeySchema"]
        ]

    @functools.cached_property
    def key_names(self) -> frozenset[str]:
        """The key attributes' names (cached like ``key_schema``)."""
        return frozenset(name for name, _ in self.key_schema)


class StoredKey(NamedTuple):
    """An item's key as stored (a NamedTuple: made once per item written or read, and a
    frozen dataclass costs three times as much to build)."""

    hash: bytes
    range: bytes
    bucket: int


def bucket_of(hash_bytes: bytes) -> int:
    return zlib.crc32(hash_bytes) % BUCKETS


def stored_hash(hash_bytes: bytes) -> tuple[bytes, int]:
    """The ``hash`` column of an item whose partition key encodes to ``hash_bytes``, and its
    bucket: the bucket (2 bytes, big-endian) in front, so one index serves key lookups and Scan
    order (``tables``)."""
    bucket = zlib.crc32(hash_bytes) % BUCKETS
    return bucket.to_bytes(2, "big") + hash_bytes, bucket


def bucket_bound(bucket: int) -> bytes | None:
    """The smallest ``hash`` column value of ``bucket`` (None past the last bucket)."""
    return bucket.to_bytes(2, "big") if bucket < BUCKETS else None


def _key_value(table: Table, name: str, type_: str, value: dict[str, Any]) -> Any:
    ((actual, inner),) = value.items()
    if actual != type_:
        raise invalid(f"Type mismatch for key {name} expected: {type_} actual: {actual}")
    if type_ in ("S", "B") and len(inner) == 0:
        kind = "string" if type_ == "S" else "binary"
        raise validation(
            "One or more parameter values are not valid. The AttributeValue for a key "
            f"attribute cannot contain an empty {kind} value. Key: {name}"
        )
    return inner


def item_key(table: Table, item: Item) -> StoredKey:
    """The stored key of a (validated) item being written."""
    parts = []
    for name, type_ in table.key_schema:
        value = item.get(name)
        if value is None:
            raise invalid(f"Missing the key {name} in the item")
        inner = value.get("S")
        if type_ == "S" and type(inner) is str and inner and len(value) == 1:
            parts.append(inner.encode())  # the common key, as the general path encodes it
        else:
            parts.append(encode_key(type_, _key_value(table, name, type_, value)))
    stored, bucket = stored_hash(parts[0])
    return StoredKey(stored, parts[1] if len(parts) > 1 else b"", bucket)


def request_key(table: Table, key: Item) -> StoredKey:
    """The stored key of a ``Key`` parameter: exactly the key attributes, of the right types."""
    schema = table.key_schema
    if len(key) != len(schema) or not table.key_names.issuperset(key):
        raise validation("The provided key element does not match the schema")
    for name, type_ in schema:
        if next(iter(key[name])) != type_:
            raise validation("The provided key element does not match the schema")
    return item_key(table, key)


def key_of(table: Table, item: Item) -> Item:
    return {name: item[name] for name, _ in table.key_schema}


class DynamoDBBase(Provider):
    service = "dynamodb"

    clock: Callable[[], float] = staticmethod(time.time)
    """Seconds since the epoch; tests replace it on the instance."""

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def table_arn(self, account: str, name: str) -> str:
        return f"arn:aws:dynamodb:{self.platform.config.region}:{account}:table/{name}"

    @staticmethod
    def find_table(conn: Connection, account: str, name: str) -> Table | None:
        row = conn.execute(_BY_NAME, {"account": account, "name": name}).first()
        if row is None:
            return None
        return Table(
            row.id, row.account, row.name, row.table_id, json.loads(row.definition), row.created_ms
        )

    @functools.cached_property
    def tables(self) -> TableCache:
        return TableCache(self.platform.epochs)

    @property
    def committer(self) -> GroupCommitter:
        """Item writes of concurrent requests share one transaction (and one fsync), with the
        platform's other hot writes."""
        return self.platform.committer

    def lookup_table(self, account: str, name: str) -> Table:
        """The table outside any transaction: from the cache, else one read."""

        def fetch() -> Table | None:
            with self.platform.store.read() as conn:
                return self.find_table(conn, account, name)

        table = self.tables.get(account, name, fetch)
        if table is None:
            check_table_name(name)
            raise not_found()
        return table

    def get_table(self, conn: Connection, account: str, name: str, *, named: bool = False) -> Table:
        """The table, or ResourceNotFoundException (naming the table as DescribeTable and
        DeleteTable do when ``named``). From the cache (``table_cache``) when it is current."""
        table = self.tables.get(account, name, lambda: self.find_table(conn, account, name))
        if table is None:
            check_table_name(name)
            raise table_not_found(name) if named else not_found()
        return table

    def describe(self, conn: Connection, table: Table, status: str = "ACTIVE") -> dict[str, Any]:
        d = table.definition
        count, size = conn.execute(_STATS, {"id": table.id}).one()
        arn = self.table_arn(table.account, table.name)
        created = datetime.fromtimestamp(table.created_ms / 1000, UTC)
        out: dict[str, Any] = {
            "AttributeDefinitions": d["AttributeDefinitions"],
            "TableName": table.name,
            "KeySchema": d["KeySchema"],
            "TableStatus": status,
            "CreationDateTime": created,
            "ProvisionedThroughput": _throughput(d.get("ProvisionedThroughput")),
            "TableSizeBytes": int(size),
            "ItemCount": int(count),
            "TableArn": arn,
            "TableId": table.table_id,
            "DeletionProtectionEnabled": bool(d.get("DeletionProtectionEnabled", False)),
        }
        if d["BillingMode"] == "PAY_PER_REQUEST":
            out["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
            if "PayPerRequestSince" in d:
                out["BillingModeSummary"]["LastUpdateToPayPerRequestDateTime"] = (
                    datetime.fromtimestamp(d["PayPerRequestSince"] / 1000, UTC)
                )
        if d.get("GlobalSecondaryIndexes"):
            out["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": gsi["IndexName"],
                    "KeySchema": gsi["KeySchema"],
                    "Projection": gsi["Projection"],
                    "IndexStatus": "ACTIVE",
                    "ProvisionedThroughput": _throughput(gsi.get("ProvisionedThroughput")),
                    "IndexSizeBytes": 0,
                    "ItemCount": 0,
                    "IndexArn": f"{arn}/index/{gsi['IndexName']}",
                }
                for gsi in d["GlobalSecondaryIndexes"]
            ]
        if d.get("LocalSecondaryIndexes"):
            out["LocalSecondaryIndexes"] = [
                {
                    "IndexName": lsi["IndexName"],
                    "KeySchema": lsi["KeySchema"],
                    "Projection": lsi["Projection"],
                    "IndexSizeBytes": 0,
                    "ItemCount": 0,
                    "IndexArn": f"{arn}/index/{lsi['IndexName']}",
                }
                for lsi in d["LocalSecondaryIndexes"]
            ]
        return out


def _throughput(given: dict[str, Any] | None) -> dict[str, Any]:
    given = given or {}
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": int(given.get("ReadCapacityUnits", 0)),
        "WriteCapacityUnits": int(given.get("WriteCapacityUnits", 0)),
    }
