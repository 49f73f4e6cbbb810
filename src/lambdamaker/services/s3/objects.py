"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects.

A write validates everything it can before keeping a byte (key, size, Content-MD5, checksum,
metadata), then makes the blob durable, then commits the row in one transaction, then deletes
the blob it replaced. A read is one SELECT, then the conditions, then the range.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

import sqlalchemy as sa

from lambdamaker.errors import InternalFailure
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.services.base import RequestContext
from lambdamaker.services.s3 import checksums, errors
from lambdamaker.services.s3.base import S3Base, as_body
from lambdamaker.services.s3.conditions import (
    check_read_conditions,
    check_write_conditions,
    parse_range,
    validate_write_conditions,
)
from lambdamaker.services.s3.events import Change
from lambdamaker.services.s3.names import validate_key
from lambdamaker.services.s3.payload import BlobSlice
from lambdamaker.services.s3.records import (
    CONTENT_HEADERS,
    DEFAULT_CONTENT_TYPE,
    ObjectRecord,
    delete_object,
    select_bucket,
    select_object,
    upsert_object,
)

MAX_METADATA_BYTES = 2048
STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
        "FSX_ONTAP",
    }
)
_RESPONSE_OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}


def object_attributes(params: dict[str, Any]) -> dict[str, Any]:
    """The stored attributes a PUT-like request sets (content headers, metadata, class...)."""
    headers = {name: params[name] for name in CONTENT_HEADERS if params.get(name) is not None}
    encoding = headers.get("ContentEncoding")
    if encoding is not None:
        # aws-chunked is a transfer detail the gateway already decoded; S3 does not store it.
        kept = [e.strip() for e in encoding.split(",") if e.strip() and e.strip() != "aws-chunked"]
        if kept:
            headers["ContentEncoding"] = ",".join(kept)
        else:
            del headers["ContentEncoding"]
    metadata = {str(k).lower(): str(v) for k, v in (params.get("Metadata") or {}).items()}
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise errors.ServiceError(
            "Your metadata headers exceed the maximum allowed metadata size",
            code="MetadataTooLarge",
            status=400,
            Size=size,
            MaxSizeAllowed=MAX_METADATA_BYTES,
        )
    storage_class = params.get("StorageClass") or "STANDARD"
    if storage_class not in STORAGE_CLASSES:
        raise errors.ServiceError(
            "The storage class you specified is not valid",
            code="InvalidStorageClass",
            status=400,
            StorageClassRequested=storage_class,
        )
    expires = params.get("Expires")
    return {
        "content_type": params.get("ContentType") or DEFAULT_CONTENT_TYPE,
        "headers": headers,
        "expires": expires.timestamp() if expires is not None else None,
        "metadata": metadata,
        "storage_class": storage_class,
        "server_side_encryption": params.get("ServerSideEncryption") or "AES256",
    }


def check_content_md5(value: str | None, body: Body) -> None:
    """Content-MD5: malformed is InvalidDigest, a mismatch is BadDigest."""
    if value is None:
        return
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 16:
        raise errors.invalid_digest(value)
    if raw.hex() != body.md5_hex:
        calculated = base64.b64encode(bytes.fromhex(body.md5_hex)).decode()
        raise errors.bad_digest(value, calculated)


def check_version_id(params: dict[str, Any], member: str = "VersionId") -> None:
    """Buckets are unversioned: the only version id that exists is ``null``."""
    version = params.get(member)
    if version is not None and version != "null":
        raise errors.invalid_argument("Invalid version id specified", "versionId", version)


def check_part_number(part_number: int) -> None:
    if not 1 <= part_number <= 10000:
        raise errors.invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            part_number,
        )


class ObjectOperations(S3Base):
    # --- writes -------------------------------------------------------------------------------

    def commit_object(
        self,
        record: ObjectRecord,
        params: dict[str, Any],
        ctx: RequestContext | None = None,
        event: str = "ObjectCreated:Put",
    ) -> None:
        """Commit ``record`` (its blob already durable) with its event notifications, then
        delete the blob it replaced.

        On any failure the new blob is deleted: nothing references it.
        """
        try:
            with self.store.begin() as conn:
                old = upsert_object(
                    conn,
                    record,
                    lambda current: check_write_conditions(params, record.key, current),
                )
                change = Change(event, record.key, record.size, record.etag)
                self.notifier.emit(conn, ctx, record.bucket, [change], record.last_modified_ms)
        except sa.exc.IntegrityError:
            self.discard_blobs([record.blob_id])
            raise errors.no_such_bucket(record.bucket) from None
        except BaseException:
            self.discard_blobs([record.blob_id])
            raise
        self.discard_blobs([old])

    def put_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        body = as_body(params.get("Body"))
        try:
            bucket, key = params["Bucket"], params["Key"]
            validate_key(key)
            if body.size > errors.MAX_OBJECT_SIZE:
                raise errors.entity_too_large(body.size)
            validate_write_conditions(params)
            attributes = object_attributes(params)
            if params.get("ExpectedBucketOwner") is not None:
                self.bucket_or_raise(params)
            check_content_md5(params.get("ContentMD5"), body)
            algorithm, value = checksums.requested(params)
            checksum = checksums.for_body(body, algorithm, value)
            etag, size = body.md5_hex, body.size
            blob_id = self.blobs.put_body(body)
        finally:
            body.discard()
        record = ObjectRecord(
            bucket, key, blob_id, size, etag, self.now_ms(), checksum=checksum, **attributes
        )
        self.commit_object(record, params, ctx, "ObjectCreated:Put")
        out: dict[str, Any] = {
            "ETag": record.quoted_etag,
            "ServerSideEncryption": record.server_side_encryption,
        }
        if checksum is not None:
            out.update(checksum.members())
        return out

    # --- reads --------------------------------------------------------------------------------

    def lookup_object(self, params: dict[str, Any]) -> ObjectRecord:
        bucket, key = params["Bucket"], params["Key"]
        with self.store.read() as conn:
            account, record = select_object(conn, bucket, key)
        if account is None:
            raise errors.no_such_bucket(bucket)
        self.check_expected_owner(params, account)
        if record is None:
            raise errors.no_such_key(key)
        return record

    def describe_read(
        self, params: dict[str, Any], record: ObjectRecord
    ) -> tuple[dict[str, Any], int, int]:
        """GetObject/HeadObject output members, and the (offset, length) of bytes to send."""
        check_version_id(params)
        check_read_conditions(params, record.etag, record.last_modified_ms)
        out = record.describe()
        offset, length = 0, record.size
        part_number = params.get("PartNumber")
        range_header = params.get("Range")
        if part_number is not None:
            if range_header:
                raise errors.invalid_request(
                    "Cannot specify both Range header and partNumber query parameter"
                )
            check_part_number(part_number)
            sizes = record.part_sizes or [record.size]
            if part_number > len(sizes):
                raise errors.ServiceError(
                    "The requested partnumber is not satisfiable",
                    code="InvalidPartNumber",
                    status=416,
                    PartNumberRequested=part_number,
                    ActualPartCount=len(sizes),
                )
            offset, length = sum(sizes[: part_number - 1]), sizes[part_number - 1]
            if record.part_sizes is not None:
                out["PartsCount"] = len(sizes)
            if length:
                out["ContentRange"] = f"bytes {offset}-{offset + length - 1}/{record.size}"
                out["__http_status__"] = 206
        elif range_header:
            byte_range = parse_range(range_header, record.size)
            if byte_range is not None:
                offset, length = byte_range.start, byte_range.length
                out["ContentRange"] = byte_range.content_range(record.size)
                out["__http_status__"] = 206
        out["ContentLength"] = length
        whole = "ContentRange" not in out
        if params.get("ChecksumMode") == "ENABLED" and record.checksum is not None and whole:
            out.update(record.checksum.members())
        for param, member in _RESPONSE_OVERRIDES.items():
            if params.get(param) is not None:
                out[member] = params[param]
        return out, offset, length

    def get_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # The blob may be replaced between the SELECT and the open (an overwrite commits, then
        # unlinks the old blob); the row read again then names the new blob.
        for _ in range(3):
            record = self.lookup_object(params)
            out, offset, length = self.describe_read(params, record)
            path = self.blobs.path(record.blob_id)
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            out["Body"] = BlobSlice(path, offset, length, fd)
            return out
        raise InternalFailure(f"object bytes of {params['Key']!r} are missing from the store")

    def head_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        record = self.lookup_object(params)
        out, _, _ = self.describe_read(params, record)
        return out

    # --- deletes ------------------------------------------------------------------------------

    def delete_object(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket, key = params["Bucket"], params["Key"]
        check_version_id(params)
        if_match = params.get("IfMatch")
        with self.store.begin() as conn:
            bucket_record = select_bucket(conn, bucket)
            if bucket_record is None:
                raise errors.no_such_bucket(bucket)
            self.check_expected_owner(params, bucket_record.account_id)
            if if_match is not None:
                _, current = select_object(conn, bucket, key)
                check_write_conditions(
                    {"IfMatch": if_match}, key, current.etag if current else None
                )
            blob_id = delete_object(conn, bucket, key)
            # S3 reports a delete of an unversioned key whether or not it existed.
            self.notifier.emit(
                conn, ctx, bucket, [Change("ObjectRemoved:Delete", key)], self.now_ms()
            )
        self.discard_blobs([blob_id])
        return {}

    def delete_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bucket = params["Bucket"]
        spec = params.get("Delete") or {}
        identifiers = spec.get("Objects") or []
        if not identifiers or len(identifiers) > 1000:
            raise errors.malformed_xml()
        self.bucket_or_raise(params)
        deleted: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        blob_ids: list[str | None] = []
        with self.store.begin() as conn:
            for ident in identifiers:
                key = ident.get("Key", "")
                try:
                    validate_key(key)
                    check_version_id(ident)
                    if ident.get("ETag") is not None:
                        _, current = select_object(conn, bucket, key)
                        check_write_conditions(
                            {"IfMatch": ident["ETag"]}, key, current.etag if current else None
                        )
                except errors.ServiceError as exc:
                    failed.append({"Key": key, "Code": exc.code, "Message": exc.message})
                    continue
                blob_ids.append(delete_object(conn, bucket, key))
                entry = {"Key": key}
                if ident.get("VersionId") is not None:
                    entry["VersionId"] = ident["VersionId"]
                deleted.append(entry)
            changes = [Change("ObjectRemoved:Delete", entry["Key"]) for entry in deleted]
            self.notifier.emit(conn, ctx, bucket, changes, self.now_ms())
        self.discard_blobs(blob_ids)
        out: dict[str, Any] = {}
        if deleted and not spec.get("Quiet"):
            out["Deleted"] = deleted
        if failed:
            out["Errors"] = failed
        return out
