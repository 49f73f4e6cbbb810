"""Server-side copies: CopyObject, and the copy-source half of UploadPartCopy.

``x-amz-copy-source`` is ``[/]bucket/key`` URL-encoded, optionally followed by
``?versionId=...``. The copied bytes are a new blob made by hard-linking the source blob (blobs
are immutable), so a 5 GB copy costs no I/O. The source row is read, the link made, and if the
source blob vanished in between (an overwrite committed and unlinked it) the row is read again.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, unquote

from lambdamaker.errors import InternalFailure
from lambdamaker.services.base import RequestContext
from lambdamaker.services.s3 import checksums, errors
from lambdamaker.services.s3.checksums import Checksum
from lambdamaker.services.s3.conditions import (
    check_copy_source_conditions,
    validate_write_conditions,
)
from lambdamaker.services.s3.names import validate_key
from lambdamaker.services.s3.objects import ObjectOperations, object_attributes
from lambdamaker.services.s3.records import ObjectRecord, select_object, to_datetime

_SELF_COPY_CHANGES = (
    "StorageClass",
    "WebsiteRedirectLocation",
    "ServerSideEncryption",
    "SSEKMSKeyId",
    "SSECustomerAlgorithm",
    "ChecksumAlgorithm",
)


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) of an ``x-amz-copy-source`` header."""
    path, _, query = value.partition("?")
    version: str | None = None
    if query:
        version = parse_qs(query, keep_blank_values=True).get("versionId", [None])[0]
    bucket, sep, key = unquote(path).lstrip("/").partition("/")
    if not sep or not bucket or not key:
        raise errors.invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            value,
        )
    if version is not None and version != "null":
        raise errors.invalid_argument("Invalid version id specified", "x-amz-copy-source", value)
    return bucket, key, version


class CopyOperations(ObjectOperations):
    def read_copy_source(self, params: dict[str, Any]) -> ObjectRecord:
        """The source object of a copy, after its ``x-amz-copy-source-if-*`` conditions."""
        bucket, key, _ = parse_copy_source(params["CopySource"])
        with self.store.read() as conn:
            account, record = select_object(conn, bucket, key)
        if account is None:
            raise errors.no_such_bucket(bucket)
        self.check_expected_owner(params, account, "ExpectedSourceBucketOwner")
        if record is None:
            raise errors.no_such_key(key)
        check_copy_source_conditions(params, record.etag, record.last_modified_ms)
        return record

    def snapshot_copy_source(self, params: dict[str, Any]) -> tuple[ObjectRecord, str]:
        """The source record and a new blob holding its bytes (a hard link)."""
        for _ in range(3):
            source = self.read_copy_source(params)
            if source.size > errors.MAX_OBJECT_SIZE:
                raise errors.invalid_request(
                    "The specified copy source is larger than the maximum allowable size for a "
                    f"copy source: {errors.MAX_OBJECT_SIZE}"
                )
            try:
                return source, self.blobs.copy(source.blob_id)
            except FileNotFoundError:
                continue
        raise InternalFailure("copy source bytes are missing from the store")

    def copy_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, key = params["Bucket"], params["Key"]
        validate_key(key)
        validate_write_conditions(params)
        directive = params.get("MetadataDirective") or "COPY"
        if directive not in ("COPY", "REPLACE"):
            raise errors.invalid_argument(
                "Unknown metadata directive.", "x-amz-metadata-directive", directive
            )
        src_bucket, src_key, _ = parse_copy_source(params["CopySource"])
        if (
            (src_bucket, src_key) == (bucket, key)
            and directive == "COPY"
            and not any(params.get(name) for name in _SELF_COPY_CHANGES)
        ):
            # Checked before the source conditions, as S3 does, so a missing source still 404s.
            self.read_copy_source(params)
            raise errors.invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes."
            )
        if params.get("ExpectedBucketOwner") is not None:
            self.bucket_or_raise(params)
        attributes = object_attributes(params) if directive == "REPLACE" else None
        algorithm, _ = checksums.requested(params)
        source, blob_id = self.snapshot_copy_source(params)
        try:
            path = self.blobs.path(blob_id)
            etag = source.etag
            if "-" in etag:
                # A copy is a single-part object: its ETag is the MD5 of its bytes.
                md5 = hashlib.md5()
                for chunk in checksums.file_chunks(path):
                    md5.update(chunk)
                etag = md5.hexdigest()
            checksum: Checksum | None = None
            if algorithm is not None:
                checksum = checksums.for_file(path, algorithm)
            elif source.checksum is not None and source.checksum.type == "FULL_OBJECT":
                checksum = source.checksum
            if attributes is None:
                attributes = {
                    "content_type": source.content_type,
                    "headers": dict(source.headers),
                    "expires": source.expires,
                    "metadata": dict(source.metadata),
                    "storage_class": params.get("StorageClass") or "STANDARD",
                    "server_side_encryption": params.get("ServerSideEncryption") or "AES256",
                }
                if params.get("WebsiteRedirectLocation") is not None:
                    attributes["headers"]["WebsiteRedirectLocation"] = params[
                        "WebsiteRedirectLocation"
                    ]
        except BaseException:
            self.discard_blobs([blob_id])
            raise
        record = ObjectRecord(
            bucket, key, blob_id, source.size, etag, self.now_ms(), checksum=checksum, **attributes
        )
        self.commit_object(record, params, ctx, "ObjectCreated:Copy")
        result: dict[str, Any] = {
            "ETag": record.quoted_etag,
            "LastModified": to_datetime(record.last_modified_ms),
        }
        if checksum is not None:
            result.update(checksum.members())
        return {
            "CopyObjectResult": result,
            "ServerSideEncryption": record.server_side_encryption,
        }
