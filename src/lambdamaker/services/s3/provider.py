"""The S3 provider: every operation group composed into one ``Provider``, and start-up recovery."""

from __future__ import annotations

import sqlalchemy as sa

from lambdamaker.services.s3.base import log
from lambdamaker.services.s3.buckets import BucketOperations
from lambdamaker.services.s3.listing import ListingOperations
from lambdamaker.services.s3.multipart import MultipartOperations
from lambdamaker.services.s3.notifications import NotificationOperations
from lambdamaker.services.s3.tables import MIGRATIONS, objects, parts


class S3Provider(
    BucketOperations,
    MultipartOperations,  # includes CopyOperations and ObjectOperations
    ListingOperations,
    NotificationOperations,
):
    """Amazon S3 (``s3``, API version 2006-03-01) on the platform's store and object store."""

    migrations = MIGRATIONS
    inline_operations = frozenset(
        {"HeadObject", "GetObject", "HeadBucket", "GetBucketLocation", "ListBuckets"}
    )

    def start(self) -> None:
        """Delete blobs that no committed row references: uploads cut short by a crash between
        making a blob durable and committing its row, or blobs replaced just before one."""
        referenced: set[str] = set()
        with self.store.read() as conn:
            for table in (objects, parts):
                referenced.update(conn.execute(sa.select(table.c.blob_id)).scalars())
        removed = self.blobs.sweep(referenced)
        if removed:
            log.info("s3: removed %d orphaned blob(s) left by an interrupted write", removed)
