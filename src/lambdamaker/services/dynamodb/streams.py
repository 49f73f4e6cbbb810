"""DynamoDB Streams, the writing side: a table's stream settings and one record per change.

A table's stream lives in its definition as ``definition["Stream"]``:
``{"Id", "Arn", "Label", "ViewType", "Enabled"}`` (the ``ddb_streams`` row, its ARN and label,
and whether it still receives records). DescribeTable reports ``StreamSpecification`` only while
it is enabled, and ``LatestStreamArn`` / ``LatestStreamLabel`` as long as the table lives.

Invariants:

- ``record_change`` runs in the item write's transaction (``changes.after_write``): a record
  exists iff the change committed, and a write that leaves the item exactly as it was (a put of
  the same item) writes none, as DynamoDB does.
- A stream has ONE shard here (AWS rotates shards every few hours; consumers and the ESM poller
  handle any number): its id derives from the stream's creation time and row id.
- Enabling makes a new stream (a new ARN); disabling closes the current one, which stays
  readable (DISABLED) for 24 hours; deleting the table disables its stream the same way.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.dynamodb.common import StoredKey, Table, key_of
from lambdamaker.services.dynamodb.errors import invalid, validation
from lambdamaker.services.dynamodb.stream_tables import ddb_stream_records, ddb_streams
from lambdamaker.services.dynamodb.tables import ddb_tables
from lambdamaker.services.dynamodb.values import Item, dumps, item_size

RETENTION_MS = 24 * 3600 * 1000
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
TRIM_EVERY = 1024
"""Every this many records, a write deletes its stream's records past retention."""

_NEXT_SEQ = (
    sa.update(ddb_streams)
    .where(ddb_streams.c.id == sa.bindparam("sid"))
    .where(ddb_streams.c.disabled_ms.is_(None))
    .values(last_seq=ddb_streams.c.last_seq + 1)
    .returning(ddb_streams.c.last_seq)
)
_INSERT = sa.insert(ddb_stream_records).values(
    stream_id=sa.bindparam("sid"),
    seq=sa.bindparam("seq"),
    event_id=sa.bindparam("eid"),
    event_name=sa.bindparam("name"),
    arrival_ms=sa.bindparam("at"),
    keys=sa.bindparam("keys"),
    new_image=sa.bindparam("new"),
    old_image=sa.bindparam("old"),
    size=sa.bindparam("size"),
    identity=sa.bindparam("ident"),
)
_TRIM = sa.delete(ddb_stream_records).where(
    ddb_stream_records.c.stream_id == sa.bindparam("sid"),
    ddb_stream_records.c.arrival_ms < sa.bindparam("cutoff"),
)


def format_seq(seq: int) -> str:
    """A sequence number as DynamoDB Streams shows it: 21+ decimal digits."""
    return f"{seq:021d}"


def shard_id(created_ms: int, stream_id: int) -> str:
    return f"shardId-{created_ms:020d}-{stream_id & 0xFFFFFFFF:08x}"


def label_of(ms: int) -> str:
    """ISO-8601 with milliseconds, as DynamoDB's stream labels."""
    stamp = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ms % 1000:03d}"


# -- the table's stream settings ---------------------------------------------------------------


def check_spec(spec: dict[str, Any]) -> tuple[bool, str | None]:
    """(enabled, view type) of a StreamSpecification, or DynamoDB's ValidationException."""
    enabled = bool(spec.get("StreamEnabled"))
    view = spec.get("StreamViewType")
    if enabled and view is None:
        raise invalid("If stream is being enabled then UpdateViewType is required")
    if not enabled and view is not None:
        raise invalid("If stream is being disabled, then UpdateViewType must not be specified")
    if view is not None and view not in VIEW_TYPES:
        raise validation(
            f"1 validation error detected: Value '{view}' at 'streamSpecification.streamViewType' "
            f"failed to satisfy constraint: Member must satisfy enum value set: "
            f"[{', '.join(VIEW_TYPES)}]"
        )
    return enabled, view


def enable(conn: Connection, table: Table, view_type: str, now_ms: int, region: str) -> None:
    """Give the table a new ENABLED stream (``table.definition`` is updated in memory; the
    caller stores it)."""
    _forget_expired(conn, table.account, now_ms)
    base = f"arn:aws:dynamodb:{region}:{table.account}:table/{table.name}/stream/"
    created = now_ms
    while conn.execute(
        sa.select(ddb_streams.c.id).where(ddb_streams.c.arn == base + label_of(created))
    ).first():
        created += 1  # two streams of one table in one millisecond: keep ARNs unique
    label = label_of(created)
    stream_id = conn.execute(
        sa.insert(ddb_streams)
        .values(
            account=table.account,
            table_name=table.name,
            arn=base + label,
            label=label,
            view_type=view_type,
            key_schema=json.dumps(table.definition["KeySchema"]),
            created_ms=created,
            last_seq=0,
        )
        .returning(ddb_streams.c.id)
    ).scalar_one()
    table.definition["Stream"] = {
        "Id": stream_id,
        "Arn": base + label,
        "Label": label,
        "ViewType": view_type,
        "Enabled": True,
    }


def _forget_expired(conn: Connection, account: str, now_ms: int) -> None:
    """Delete the account's streams disabled more than 24 hours ago, with their records
    (readers already treat them as gone; enabling a stream is rare enough to pay for this)."""
    expired = list(
        conn.execute(
            sa.select(ddb_streams.c.id).where(
                ddb_streams.c.account == account,
                ddb_streams.c.disabled_ms < now_ms - RETENTION_MS,
            )
        ).scalars()
    )
    if expired:
        conn.execute(
            sa.delete(ddb_stream_records).where(ddb_stream_records.c.stream_id.in_(expired))
        )
        conn.execute(sa.delete(ddb_streams).where(ddb_streams.c.id.in_(expired)))


def disable(conn: Connection, table: Table, now_ms: int) -> None:
    """Close the table's enabled stream (it stays readable, DISABLED, for 24 hours)."""
    stream = table.definition.get("Stream")
    if not stream or not stream["Enabled"]:
        return
    conn.execute(
        sa.update(ddb_streams).where(ddb_streams.c.id == stream["Id"]).values(disabled_ms=now_ms)
    )
    stream["Enabled"] = False


def update_spec(
    conn: Connection, table: Table, spec: dict[str, Any], now_ms: int, region: str
) -> None:
    """UpdateTable's StreamSpecification: enable a new stream or disable the current one."""
    enabled, view = check_spec(spec)
    current = table.definition.get("Stream")
    has_enabled = bool(current and current["Enabled"])
    if enabled and has_enabled:
        raise validation(f"Table already has an enabled stream: TableName: {table.name}")
    if not enabled and not has_enabled:
        raise validation(f"Table has no stream to disable: TableName: {table.name}")
    if enabled:
        assert view is not None
        enable(conn, table, view, now_ms, region)
    else:
        disable(conn, table, now_ms)


def create_spec(
    conn: Connection, table: Table, spec: dict[str, Any] | None, now_ms: int, region: str
) -> None:
    """CreateTable's StreamSpecification: a stream from the start, stored in the definition."""
    if not spec:
        return
    enabled, view = check_spec(spec)
    if not enabled:
        return
    assert view is not None
    enable(conn, table, view, now_ms, region)
    conn.execute(
        sa.update(ddb_tables)
        .where(ddb_tables.c.id == table.id)
        .values(definition=json.dumps(table.definition))
    )


def describe_fields(definition: dict[str, Any]) -> dict[str, Any]:
    """The stream members of a TableDescription."""
    stream = definition.get("Stream")
    if not stream:
        return {}
    out: dict[str, Any] = {
        "LatestStreamLabel": stream["Label"],
        "LatestStreamArn": stream["Arn"],
    }
    if stream["Enabled"]:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["ViewType"]}
    return out


# -- one record per change ---------------------------------------------------------------------


def _normal(value: Any) -> Any:
    # Sets are unordered: compare them sorted. Everything else compares as stored.
    if isinstance(value, dict):
        if len(value) == 1:
            ((type_, inner),) = value.items()
            if type_ in ("SS", "NS", "BS"):
                return {type_: sorted(inner)}
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def record_change(
    conn: Connection,
    table: Table,
    key: StoredKey,
    old: Item | None,
    new: Item | None,
    identity: dict[str, str] | None,
) -> None:
    """Append the change's record to the table's enabled stream (nothing without one)."""
    stream = table.definition.get("Stream")
    if not stream or not stream["Enabled"]:
        return
    if old is not None and new is not None and _normal(old) == _normal(new):
        return  # DynamoDB writes no record for a write that changed nothing
    seq = conn.execute(_NEXT_SEQ, {"sid": stream["Id"]}).scalar()
    if seq is None:
        return  # disabled by a concurrent UpdateTable that committed first
    view = stream["ViewType"]
    keys = key_of(table, new if new is not None else old)  # type: ignore[arg-type]
    new_image = new if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") else None
    old_image = old if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") else None
    size = item_size(keys) + sum(item_size(i) for i in (new_image, old_image) if i is not None)
    now_ms = int(time.time() * 1000)
    conn.execute(
        _INSERT,
        {
            "sid": stream["Id"],
            "seq": seq,
            "eid": uuid.uuid4().hex,
            "name": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
            "at": now_ms,
            "keys": dumps(keys),
            "new": None if new_image is None else dumps(new_image),
            "old": None if old_image is None else dumps(old_image),
            "size": size,
            "ident": None if identity is None else json.dumps(_lambda_identity(identity)),
        },
    )
    if seq % TRIM_EVERY == 0:
        conn.execute(_TRIM, {"sid": stream["Id"], "cutoff": now_ms - RETENTION_MS})


def _lambda_identity(identity: dict[str, str]) -> dict[str, str]:
    """``{"type", "principalId"}`` whichever casing the caller used."""
    lowered = {k[:1].lower() + k[1:]: v for k, v in identity.items()}
    return {
        "type": lowered.get("type", "Service"),
        "principalId": lowered.get("principalId", "dynamodb.amazonaws.com"),
    }
