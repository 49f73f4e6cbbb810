"""Object and bucket records and the few SQL statements that read and write them.

Every statement the hot paths run is here, so the per-request SQL stays visible and small:
GetObject/HeadObject run one SELECT (bucket left-joined with the object, so a miss still tells
NoSuchBucket from NoSuchKey); a write runs one transaction (lock the row, then update or
insert). Inserts use ``ON CONFLICT DO NOTHING`` plus a re-read, so two concurrent first writes
of one key on PostgreSQL do not fail with a unique violation; on SQLite writers are serialized
by ``BEGIN IMMEDIATE`` anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult

from lambdamaker.services.s3.checksums import Checksum
from lambdamaker.services.s3.conditions import quote_etag
from lambdamaker.services.s3.tables import buckets, objects

CONTENT_HEADERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "WebsiteRedirectLocation",
)
"""Request members stored with an object and returned by GET/HEAD under the same names."""

DEFAULT_CONTENT_TYPE = "binary/octet-stream"


def to_datetime(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def seconds_datetime(ms: int) -> datetime:
    """A timestamp at HTTP-header resolution (what Last-Modified can carry)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC)


@dataclass
class ObjectRecord:
    bucket: str
    key: str
    blob_id: str
    size: int
    etag: str
    """Unquoted: an MD5 hex digest, or ``<hex>-<parts>`` for a multipart object."""
    last_modified_ms: int
    content_type: str = DEFAULT_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    expires: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    checksum: Checksum | None = None
    part_sizes: list[int] | None = None
    storage_class: str = "STANDARD"
    server_side_encryption: str = "AES256"

    def attrs_json(self) -> str:
        attrs: dict[str, Any] = {"content_type": self.content_type}
        if self.headers:
            attrs["headers"] = self.headers
        if self.expires is not None:
            attrs["expires"] = self.expires
        if self.metadata:
            attrs["metadata"] = self.metadata
        if self.checksum is not None:
            attrs["checksum"] = self.checksum.to_json()
        if self.part_sizes is not None:
            attrs["part_sizes"] = self.part_sizes
        if self.storage_class != "STANDARD":
            attrs["storage_class"] = self.storage_class
        if self.server_side_encryption != "AES256":
            attrs["sse"] = self.server_side_encryption
        return orjson.dumps(attrs).decode()

    def row_values(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "blob_id": self.blob_id,
            "size": self.size,
            "etag": self.etag,
            "last_modified_ms": self.last_modified_ms,
            "attrs": self.attrs_json(),
        }

    @classmethod
    def from_row(cls, row: Any) -> ObjectRecord:
        attrs = orjson.loads(row.attrs)
        return cls(
            bucket=row.bucket,
            key=row.key,
            blob_id=row.blob_id,
            size=row.size,
            etag=row.etag,
            last_modified_ms=row.last_modified_ms,
            content_type=attrs.get("content_type", DEFAULT_CONTENT_TYPE),
            headers=attrs.get("headers", {}),
            expires=attrs.get("expires"),
            metadata=attrs.get("metadata", {}),
            checksum=Checksum.from_json(attrs.get("checksum")),
            part_sizes=attrs.get("part_sizes"),
            storage_class=attrs.get("storage_class", "STANDARD"),
            server_side_encryption=attrs.get("sse", "AES256"),
        )

    @property
    def quoted_etag(self) -> str:
        return quote_etag(self.etag)

    def describe(self) -> dict[str, Any]:
        """The output members GetObject and HeadObject share (before range/part adjustments)."""
        out: dict[str, Any] = {
            "AcceptRanges": "bytes",
            "LastModified": seconds_datetime(self.last_modified_ms),
            "ContentLength": self.size,
            "ETag": self.quoted_etag,
            "ContentType": self.content_type,
            "ServerSideEncryption": self.server_side_encryption,
        }
        out.update(self.headers)
        if self.expires is not None:
            out["Expires"] = datetime.fromtimestamp(self.expires, tz=UTC)
        if self.metadata:
            out["Metadata"] = dict(self.metadata)
        if self.storage_class != "STANDARD":
            out["StorageClass"] = self.storage_class
        return out

    def listing_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Key": self.key,
            "LastModified": to_datetime(self.last_modified_ms),
            "ETag": self.quoted_etag,
            "Size": self.size,
            "StorageClass": self.storage_class,
        }
        if self.checksum is not None:
            entry["ChecksumAlgorithm"] = [self.checksum.algorithm]
            entry["ChecksumType"] = self.checksum.type
        return entry


@dataclass(frozen=True)
class BucketRecord:
    name: str
    account_id: str
    region: str
    created_ms: int
    notification: str | None = None


def select_bucket(conn: Connection, name: str) -> BucketRecord | None:
    row = conn.execute(sa.select(buckets).where(buckets.c.name == name)).first()
    if row is None:
        return None
    return BucketRecord(row.name, row.account_id, row.region, row.created_ms, row.notification)


# Built once: constructing a Core statement costs more than running it on SQLite.
_SELECT_OBJECT = (
    sa.select(
        buckets.c.account_id,
        objects.c.bucket,
        objects.c.key,
        objects.c.blob_id,
        objects.c.size,
        objects.c.etag,
        objects.c.last_modified_ms,
        objects.c.attrs,
    )
    .select_from(
        buckets.outerjoin(
            objects,
            sa.and_(objects.c.bucket == buckets.c.name, objects.c.key == sa.bindparam("key")),
        )
    )
    .where(buckets.c.name == sa.bindparam("bucket"))
)


def select_object(
    conn: Connection, bucket: str, key: str
) -> tuple[str | None, ObjectRecord | None]:
    """(owning account of the bucket or None if no bucket, the object or None): one SELECT."""
    row = conn.execute(_SELECT_OBJECT, {"bucket": bucket, "key": key}).first()
    if row is None:
        return None, None
    if row.blob_id is None:
        return row.account_id, None
    return row.account_id, ObjectRecord.from_row(row)


def insert_ignore(conn: Connection, table: sa.Table, values: dict[str, Any]) -> CursorResult[Any]:
    """INSERT that does nothing (rowcount 0) if the primary key already exists."""
    stmt: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    return conn.execute(stmt)


def _lock_current(conn: Connection, bucket: str, key: str) -> Any:
    stmt = (
        sa.select(objects.c.blob_id, objects.c.etag)
        .where(objects.c.bucket == bucket, objects.c.key == key)
        .with_for_update()
    )
    return conn.execute(stmt).first()


def upsert_object(
    conn: Connection,
    record: ObjectRecord,
    check: Callable[[str | None], None] | None = None,
) -> str | None:
    """Insert or replace ``record``; returns the blob id it replaced (to delete after commit).

    ``check(current_etag)`` runs with the row locked, for conditional writes. A missing bucket
    surfaces as ``sqlalchemy.exc.IntegrityError`` (the foreign key) on the insert path.
    """
    where = (objects.c.bucket == record.bucket, objects.c.key == record.key)
    for _ in range(2):
        current = _lock_current(conn, record.bucket, record.key)
        if check is not None:
            check(current.etag if current is not None else None)
        if current is not None:
            conn.execute(sa.update(objects).where(*where).values(record.row_values()))
            old: str = current.blob_id
            return old
        if insert_ignore(conn, objects, record.row_values()).rowcount == 1:
            return None
        # A concurrent first write of the same key won the insert (PostgreSQL): replace it.
    raise RuntimeError("object row vanished while locked")  # pragma: no cover


def delete_object(conn: Connection, bucket: str, key: str) -> str | None:
    """Delete the row; returns its blob id (to delete after commit) or None if there was none."""
    stmt = (
        sa.delete(objects)
        .where(objects.c.bucket == bucket, objects.c.key == key)
        .returning(objects.c.blob_id)
    )
    row = conn.execute(stmt).first()
    return row.blob_id if row is not None else None
