"""The S3 provider's tables and their migrations.

- ``s3_buckets``: one row per bucket; the notification configuration rides along as JSON.
- ``s3_objects``: one row per live object, keyed ``(bucket, key)``. The primary key is the index
  every listing walks, so keys must sort in UTF-8 byte order as S3 lists them: SQLite's default
  BINARY collation does that; on PostgreSQL the key column uses the ``C`` collation.
- ``s3_uploads`` / ``s3_parts``: in-progress multipart uploads and their uploaded parts.
- ``s3_sequencers``: per bucket, the last event-notification ``sequencer`` handed out. It is
  advanced inside the transaction that commits the change it numbers, so sequencers follow
  commit order and survive restarts. Only buckets with a matching notification touch it.

Object and part rows point at immutable blobs of ``platform.objects`` through ``blob_id``; a blob
referenced by no row is garbage (see the package docstring). The less-queried attributes of an
object (content headers, user metadata, checksums, part sizes) live in one JSON ``attrs`` column
so that adding one is not a migration.
"""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.store import Migration
from lambdamaker.store.migrations import create_tables

metadata = sa.MetaData()

# Keys are compared as UTF-8 bytes (S3's listing order); PostgreSQL needs the C collation for it.
KeyString = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")
BucketString = sa.String(63).with_variant(sa.String(63, collation="C"), "postgresql")

buckets = sa.Table(
    "s3_buckets",
    metadata,
    sa.Column("name", BucketString, primary_key=True),
    sa.Column("account_id", sa.String(12), nullable=False),
    sa.Column("region", sa.String(32), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("notification", sa.Text, nullable=True),
)

objects = sa.Table(
    "s3_objects",
    metadata,
    sa.Column("bucket", BucketString, sa.ForeignKey("s3_buckets.name"), primary_key=True),
    sa.Column("key", KeyString, primary_key=True),
    sa.Column("blob_id", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(64), nullable=False),
    sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
    sa.Column("attrs", sa.Text, nullable=False),
)

uploads = sa.Table(
    "s3_uploads",
    metadata,
    sa.Column("upload_id", sa.String(128), primary_key=True),
    sa.Column("bucket", BucketString, sa.ForeignKey("s3_buckets.name"), nullable=False),
    sa.Column("key", KeyString, nullable=False),
    sa.Column("initiated_ms", sa.BigInteger, nullable=False),
    sa.Column("attrs", sa.Text, nullable=False),
    # Upload ids start with the initiation time, so this is also initiation order per key.
    sa.Index("ix_s3_uploads_bucket_key", "bucket", "key", "upload_id"),
)

parts = sa.Table(
    "s3_parts",
    metadata,
    sa.Column("upload_id", sa.String(128), sa.ForeignKey("s3_uploads.upload_id"), primary_key=True),
    sa.Column("part_number", sa.Integer, primary_key=True),
    sa.Column("blob_id", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(64), nullable=False),
    sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
    sa.Column("checksum", sa.Text, nullable=True),
)

sequencers = sa.Table(
    "s3_sequencers",
    metadata,
    sa.Column("bucket", BucketString, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

MIGRATIONS = (
    Migration(
        "s3", 1, create_tables(buckets, objects, uploads, parts), "buckets, objects, uploads"
    ),
    Migration("s3", 2, create_tables(sequencers), "event notification sequencers"),
)
