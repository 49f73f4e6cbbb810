"""What every group of S3 operations shares: clock, bucket lookup, blob lifecycle helpers."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lambdamaker.gateway.protocol.body import Body
from lambdamaker.services.base import Provider
from lambdamaker.services.s3 import errors
from lambdamaker.services.s3.events import Notifier
from lambdamaker.services.s3.records import BucketRecord, select_bucket
from lambdamaker.store import ObjectStore, Store

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.s3")


def as_body(value: Any) -> Body:
    """The request payload as a ``Body`` (in-process callers may pass bytes or nothing)."""
    if isinstance(value, Body):
        return value
    if value is None:
        return Body.from_bytes(b"")
    if isinstance(value, str):
        return Body.from_bytes(value.encode())
    return Body.from_bytes(bytes(value))


class S3Base(Provider):
    service = "s3"

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.notifier = Notifier(platform)

    @property
    def store(self) -> Store:
        return self.platform.store

    @property
    def blobs(self) -> ObjectStore:
        return self.platform.blobs("s3")

    @staticmethod
    def now_ms() -> int:
        return int(time.time() * 1000)

    def bucket_or_raise(self, params: dict[str, Any], name: str | None = None) -> BucketRecord:
        """The bucket named by ``params["Bucket"]`` (one SELECT), checking ExpectedBucketOwner."""
        bucket = name if name is not None else params["Bucket"]
        with self.store.read() as conn:
            record = select_bucket(conn, bucket)
        if record is None:
            raise errors.no_such_bucket(bucket)
        self.check_expected_owner(params, record.account_id)
        return record

    @staticmethod
    def check_expected_owner(
        params: dict[str, Any], account_id: str, member: str = "ExpectedBucketOwner"
    ) -> None:
        expected = params.get(member)
        if expected is not None and expected != account_id:
            raise errors.access_denied()

    def discard_blobs(self, blob_ids: Iterable[str | None]) -> None:
        """Delete blobs no committed row references any more. Called only after the commit that
        dropped the last reference; a crash before this leaves garbage for the start-up sweep."""
        for blob_id in blob_ids:
            if blob_id is not None:
                try:
                    self.blobs.delete(blob_id)
                except OSError:  # pragma: no cover - the sweep at next start retries
                    log.warning("could not delete blob %s", blob_id, exc_info=True)
