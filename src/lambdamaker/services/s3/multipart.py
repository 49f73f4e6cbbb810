"""Multipart uploads: create, upload part (or part copy), complete, abort, list parts.

Each part is a durable blob with a row in ``s3_parts``; a re-uploaded part number replaces the
row and its old blob is deleted after the commit. Completion validates the requested parts
(ascending, known, matching ETags, all but the last at least 5 MiB), concatenates their blobs
into a new blob outside any transaction (a 5 GB assembly must not hold the write lock), then in
one transaction checks that the upload and its parts are unchanged, writes the object row and
drops the upload. Only after that commit are the part blobs and the replaced object's blob
deleted. Upload ids start with the creation time in fixed-width hex, so ordering uploads of
one key by id is ordering them by initiation, as ListMultipartUploads must.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InternalFailure
from lambdamaker.services.base import RequestContext
from lambdamaker.services.s3 import checksums, errors
from lambdamaker.services.s3.base import as_body
from lambdamaker.services.s3.checksums import Checksum
from lambdamaker.services.s3.conditions import (
    check_write_conditions,
    parse_copy_source_range,
    quote_etag,
    validate_write_conditions,
)
from lambdamaker.services.s3.copy import CopyOperations
from lambdamaker.services.s3.events import Change
from lambdamaker.services.s3.names import owner, validate_key
from lambdamaker.services.s3.objects import check_content_md5, check_part_number, object_attributes
from lambdamaker.services.s3.records import (
    ObjectRecord,
    insert_ignore,
    select_bucket,
    to_datetime,
    upsert_object,
)
from lambdamaker.services.s3.tables import parts, uploads


@dataclass
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated_ms: int
    attributes: dict[str, Any]
    checksum_algorithm: str | None
    checksum_type: str | None
    account_id: str

    @classmethod
    def from_row(cls, row: Any) -> Upload:
        attrs = orjson.loads(row.attrs)
        return cls(
            row.upload_id,
            row.bucket,
            row.key,
            row.initiated_ms,
            attrs["object"],
            attrs.get("checksum_algorithm"),
            attrs.get("checksum_type"),
            attrs.get("account_id", ""),
        )


@dataclass
class Part:
    part_number: int
    blob_id: str
    size: int
    etag: str
    last_modified_ms: int
    checksum: Checksum | None

    @classmethod
    def from_row(cls, row: Any) -> Part:
        checksum = Checksum.from_json(orjson.loads(row.checksum)) if row.checksum else None
        return cls(row.part_number, row.blob_id, row.size, row.etag, row.last_modified_ms, checksum)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "PartNumber": self.part_number,
            "LastModified": to_datetime(self.last_modified_ms),
            "ETag": quote_etag(self.etag),
            "Size": self.size,
        }
        if self.checksum is not None:
            out[f"Checksum{self.checksum.algorithm}"] = self.checksum.value
        return out


class _UploadIds:
    """Upload ids that sort in creation order: a strictly increasing microsecond stamp in
    fixed-width hex (two uploads in one microsecond still get distinct, ordered stamps), then
    random characters so ids cannot be guessed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new(self) -> str:
        with self._lock:
            self._last = max(time.time_ns() // 1000, self._last + 1)
            stamp = self._last
        return f"{stamp:014x}{secrets.token_urlsafe(36)}"


new_upload_id = _UploadIds().new


def _invalid_part(upload_id: str, part_number: int, etag: str) -> errors.ServiceError:
    return errors.ServiceError(
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not have matched the part's entity tag.",
        code="InvalidPart",
        status=400,
        UploadId=upload_id,
        PartNumber=part_number,
        ETag=etag,
    )


def _read_hashing(src: BinaryIO, length: int, md5: Any) -> Iterator[bytes]:
    remaining = length
    while remaining > 0:
        chunk = src.read(min(1 << 20, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        md5.update(chunk)
        yield chunk


def _multipart_etag(selected: list[Part]) -> str:
    digest = hashlib.md5(b"".join(bytes.fromhex(p.etag) for p in selected)).hexdigest()
    return f"{digest}-{len(selected)}"


class MultipartOperations(CopyOperations):
    # --- lookups ------------------------------------------------------------------------------

    def read_upload(self, conn: Connection, params: dict[str, Any], lock: bool = False) -> Upload:
        upload_id, bucket, key = params["UploadId"], params["Bucket"], params["Key"]
        stmt = sa.select(uploads).where(uploads.c.upload_id == upload_id)
        if lock:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        if row is None or row.bucket != bucket or row.key != key:
            if select_bucket(conn, bucket) is None:
                raise errors.no_such_bucket(bucket)
            raise errors.no_such_upload(upload_id)
        upload = Upload.from_row(row)
        self.check_expected_owner(params, upload.account_id)
        return upload

    def get_upload(self, params: dict[str, Any]) -> Upload:
        with self.store.read() as conn:
            return self.read_upload(conn, params)

    # --- operations ---------------------------------------------------------------------------

    def create_multipart_upload(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        bucket, key = params["Bucket"], params["Key"]
        validate_key(key)
        attributes = object_attributes(params)
        algorithm, _ = checksums.requested(params)
        checksum_type = params.get("ChecksumType")
        if checksum_type is not None:
            if algorithm is None:
                raise errors.invalid_request(
                    "The x-amz-checksum-type header can only be used with the "
                    "x-amz-checksum-algorithm header."
                )
            if not checksums.supports_type(algorithm, checksum_type):
                raise errors.invalid_request(
                    f"The {checksum_type} checksum type cannot be used with the "
                    f"{algorithm.lower()} checksum algorithm."
                )
        elif algorithm is not None:
            checksum_type = checksums.default_type(algorithm)
        record = self.bucket_or_raise(params)
        now = self.now_ms()
        upload_id = new_upload_id()
        attrs = {
            "object": attributes,
            "checksum_algorithm": algorithm,
            "checksum_type": checksum_type,
            "account_id": ctx.account_id,
        }
        try:
            with self.store.begin() as conn:
                conn.execute(
                    sa.insert(uploads).values(
                        upload_id=upload_id,
                        bucket=record.name,
                        key=key,
                        initiated_ms=now,
                        attrs=orjson.dumps(attrs).decode(),
                    )
                )
        except sa.exc.IntegrityError:
            raise errors.no_such_bucket(bucket) from None
        out: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "UploadId": upload_id,
            "ServerSideEncryption": attributes["server_side_encryption"],
        }
        if algorithm is not None:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = checksum_type
        return out

    def store_part(self, upload: Upload, part: Part) -> None:
        """Commit a part row (its blob durable), replacing any earlier upload of that number."""
        old: str | None = None
        values = {
            "upload_id": upload.upload_id,
            "part_number": part.part_number,
            "blob_id": part.blob_id,
            "size": part.size,
            "etag": part.etag,
            "last_modified_ms": part.last_modified_ms,
            "checksum": orjson.dumps(part.checksum.to_json()).decode() if part.checksum else None,
        }
        where = (parts.c.upload_id == upload.upload_id, parts.c.part_number == part.part_number)
        try:
            with self.store.begin() as conn:
                self.read_upload(
                    conn, {"UploadId": upload.upload_id, "Bucket": upload.bucket, "Key": upload.key}
                )
                for _ in range(2):
                    current = conn.execute(
                        sa.select(parts.c.blob_id).where(*where).with_for_update()
                    ).first()
                    if current is not None:
                        conn.execute(sa.update(parts).where(*where).values(values))
                        old = current.blob_id
                        break
                    if insert_ignore(conn, parts, values).rowcount == 1:
                        break
        except sa.exc.IntegrityError:
            self.discard_blobs([part.blob_id])
            raise errors.no_such_upload(upload.upload_id) from None
        except BaseException:
            self.discard_blobs([part.blob_id])
            raise
        self.discard_blobs([old])

    def part_checksum_algorithm(
        self, upload: Upload, params: dict[str, Any]
    ) -> tuple[str | None, str | None]:
        algorithm, value = checksums.requested(params)
        if upload.checksum_algorithm is None:
            return algorithm, value
        if algorithm is not None and algorithm != upload.checksum_algorithm:
            raise errors.invalid_request(
                "Checksum Type mismatch occurred, expected checksum Type: "
                f"{upload.checksum_algorithm.lower()}, actual checksum Type: {algorithm.lower()}"
            )
        return upload.checksum_algorithm, value

    def upload_part(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        body = as_body(params.get("Body"))
        try:
            check_part_number(params["PartNumber"])
            if body.size > errors.MAX_OBJECT_SIZE:
                raise errors.entity_too_large(body.size)
            upload = self.get_upload(params)
            check_content_md5(params.get("ContentMD5"), body)
            algorithm, value = self.part_checksum_algorithm(upload, params)
            checksum = checksums.for_body(body, algorithm, value)
            etag, size = body.md5_hex, body.size
            blob_id = self.blobs.put_body(body)
        finally:
            body.discard()
        self.store_part(
            upload, Part(params["PartNumber"], blob_id, size, etag, self.now_ms(), checksum)
        )
        out: dict[str, Any] = {"ETag": quote_etag(etag), "ServerSideEncryption": "AES256"}
        if checksum is not None:
            out[f"Checksum{checksum.algorithm}"] = checksum.value
        return out

    def copy_part_bytes(self, params: dict[str, Any]) -> tuple[str, int, str]:
        """(blob id, size, md5 hex) of a new blob holding the copy source's requested range."""
        for _ in range(3):
            source = self.read_copy_source(params)
            if params.get("CopySourceRange"):
                byte_range = parse_copy_source_range(params["CopySourceRange"], source.size)
                offset, length = byte_range.start, byte_range.length
            else:
                offset, length = 0, source.size
            if length > errors.MAX_OBJECT_SIZE:
                raise errors.invalid_request(
                    "The specified copy source is larger than the maximum allowable size for a "
                    f"copy source: {errors.MAX_OBJECT_SIZE}"
                )
            try:
                src = self.blobs.open(source.blob_id)
            except FileNotFoundError:
                continue  # overwritten since the SELECT: read the source row again
            md5 = hashlib.md5()
            with src:
                src.seek(offset)
                blob_id = self.blobs.put_chunks(_read_hashing(src, length, md5))
            return blob_id, length, md5.hexdigest()
        raise InternalFailure("copy source bytes are missing from the store")

    def upload_part_copy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        check_part_number(params["PartNumber"])
        upload = self.get_upload(params)
        blob_id, length, etag = self.copy_part_bytes(params)
        checksum = None
        if upload.checksum_algorithm is not None:
            checksum = checksums.for_file(self.blobs.path(blob_id), upload.checksum_algorithm)
        part = Part(params["PartNumber"], blob_id, length, etag, self.now_ms(), checksum)
        self.store_part(upload, part)
        result: dict[str, Any] = {
            "ETag": quote_etag(part.etag),
            "LastModified": to_datetime(part.last_modified_ms),
        }
        if checksum is not None:
            result[f"Checksum{checksum.algorithm}"] = checksum.value
        return {"CopyPartResult": result}

    def abort_multipart_upload(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.store.begin() as conn:
            upload = self.read_upload(conn, params, lock=True)
            blob_ids = [
                row.blob_id
                for row in conn.execute(
                    sa.select(parts.c.blob_id).where(parts.c.upload_id == upload.upload_id)
                )
            ]
            conn.execute(sa.delete(parts).where(parts.c.upload_id == upload.upload_id))
            conn.execute(sa.delete(uploads).where(uploads.c.upload_id == upload.upload_id))
        self.discard_blobs(blob_ids)
        return {}

    def list_parts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        max_parts = params.get("MaxParts", 1000)
        if max_parts < 0:
            raise errors.invalid_argument(
                "Argument max-parts must be an integer between 0 and 2147483647",
                "max-parts",
                max_parts,
            )
        limit = min(max_parts, 1000)
        marker = params.get("PartNumberMarker") or 0
        with self.store.read() as conn:
            upload = self.read_upload(conn, params)
            rows = conn.execute(
                sa.select(parts)
                .where(parts.c.upload_id == upload.upload_id, parts.c.part_number > marker)
                .order_by(parts.c.part_number)
                .limit(limit + 1)
            ).all()
        page = [Part.from_row(row) for row in rows[:limit]]
        truncated = len(rows) > limit
        who = owner(upload.account_id or ctx.account_id)
        out: dict[str, Any] = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": max_parts,
            "IsTruncated": truncated,
            "Parts": [p.describe() for p in page],
            "Initiator": who,
            "Owner": who,
            "StorageClass": upload.attributes.get("storage_class", "STANDARD"),
        }
        if page:
            out["NextPartNumberMarker"] = page[-1].part_number
        if upload.checksum_algorithm is not None:
            out["ChecksumAlgorithm"] = upload.checksum_algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    # --- completion ---------------------------------------------------------------------------

    def select_parts(self, upload: Upload, requested: list[dict[str, Any]]) -> list[Part]:
        """The stored parts a CompleteMultipartUpload names, validated as S3 validates them."""
        with self.store.read() as conn:
            stored = {
                row.part_number: Part.from_row(row)
                for row in conn.execute(
                    sa.select(parts).where(parts.c.upload_id == upload.upload_id)
                )
            }
        selected = []
        for item in requested:
            number = item.get("PartNumber")
            etag = (item.get("ETag") or "").strip().strip('"')
            part = stored.get(number) if isinstance(number, int) else None
            if part is None or part.etag != etag:
                raise _invalid_part(upload.upload_id, number or 0, item.get("ETag") or "")
            if part.checksum is not None:
                given = item.get(f"Checksum{part.checksum.algorithm}")
                if given is not None and given != part.checksum.value:
                    raise _invalid_part(upload.upload_id, part.part_number, item.get("ETag") or "")
                if given is None and upload.checksum_type == "COMPOSITE":
                    raise errors.invalid_request(
                        f"The upload was created using a {part.checksum.algorithm.lower()} "
                        "checksum. The complete request must include the checksum for each "
                        f"part. It was missing for part {part.part_number} in the request."
                    )
            selected.append(part)
        for part in selected[:-1]:
            if part.size < errors.MIN_PART_SIZE:
                raise errors.ServiceError(
                    "Your proposed upload is smaller than the minimum allowed object size.",
                    code="EntityTooSmall",
                    status=400,
                    ProposedSize=part.size,
                    MinSizeAllowed=errors.MIN_PART_SIZE,
                    PartNumber=part.part_number,
                    ETag=part.etag,
                )
        return selected

    def object_checksum(
        self, upload: Upload, selected: list[Part], blob_id: str, params: dict[str, Any]
    ) -> Checksum | None:
        algorithm = upload.checksum_algorithm
        if algorithm is None:
            return None
        if upload.checksum_type == "COMPOSITE":
            values = [p.checksum.value for p in selected if p.checksum is not None]
            return checksums.composite(algorithm, values) if len(values) == len(selected) else None
        given = params.get(f"Checksum{algorithm}")
        computed = checksums.for_file(self.blobs.path(blob_id), algorithm)
        if given is not None and computed is not None and given != computed.value:
            raise errors.ServiceError(
                f"The {algorithm} you specified did not match the calculated checksum.",
                code="BadDigest",
                status=400,
            )
        if computed is None and given is not None:
            return Checksum(algorithm, given, "FULL_OBJECT")
        return computed

    def complete_multipart_upload(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        validate_write_conditions(params)
        spec = params.get("MultipartUpload")
        if spec is None:
            raise errors.malformed_xml()
        requested = spec.get("Parts") or []
        upload = self.get_upload(params)
        if not requested:
            raise errors.invalid_request("You must specify at least one part")
        numbers = [item.get("PartNumber") or 0 for item in requested]
        if any(b <= a for a, b in itertools.pairwise(numbers)):
            raise errors.ServiceError(
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
                code="InvalidPartOrder",
                status=400,
                UploadId=upload.upload_id,
            )
        for _ in range(3):
            selected = self.select_parts(upload, requested)
            total = sum(p.size for p in selected)
            expected_size = params.get("MpuObjectSize")
            if expected_size is not None and expected_size != total:
                raise errors.invalid_request(
                    f"The provided 'x-amz-mp-object-size' header value {expected_size} does not "
                    f"match what was computed: {total}"
                )
            try:
                blob_id, size, _ = self.blobs.concat(p.blob_id for p in selected)
            except FileNotFoundError:
                continue  # a part was re-uploaded meanwhile: select again
            try:
                checksum = self.object_checksum(upload, selected, blob_id, params)
                record = ObjectRecord(
                    upload.bucket,
                    upload.key,
                    blob_id,
                    size,
                    _multipart_etag(selected),
                    self.now_ms(),
                    checksum=checksum,
                    part_sizes=[p.size for p in selected],
                    **upload.attributes,
                )
                replaced, part_blobs = self.commit_upload(upload, selected, record, params, ctx)
            except _PartsChanged:
                self.discard_blobs([blob_id])
                continue
            except BaseException:
                self.discard_blobs([blob_id])
                raise
            self.discard_blobs([replaced, *part_blobs])
            out: dict[str, Any] = {
                "Location": f"{ctx.endpoint_url.rstrip('/')}/{upload.bucket}/{quote(upload.key)}",
                "Bucket": upload.bucket,
                "Key": upload.key,
                "ETag": record.quoted_etag,
                "ServerSideEncryption": record.server_side_encryption,
            }
            if checksum is not None:
                out.update(checksum.members())
            return out
        raise errors.invalid_request("The parts of this upload kept changing; retry the request")

    def commit_upload(
        self,
        upload: Upload,
        selected: list[Part],
        record: ObjectRecord,
        params: dict[str, Any],
        ctx: RequestContext | None = None,
    ) -> tuple[str | None, list[str]]:
        """One transaction: the upload and its chosen parts unchanged → object row, upload gone,
        and the ``ObjectCreated:CompleteMultipartUpload`` notifications.

        Returns the replaced object's blob and every part blob, to delete after the commit.
        """
        with self.store.begin() as conn:
            self.read_upload(conn, params, lock=True)
            rows = conn.execute(
                sa.select(parts.c.part_number, parts.c.blob_id).where(
                    parts.c.upload_id == upload.upload_id
                )
            ).all()
            current = {row.part_number: row.blob_id for row in rows}
            if any(current.get(p.part_number) != p.blob_id for p in selected):
                raise _PartsChanged
            replaced = upsert_object(
                conn, record, lambda etag: check_write_conditions(params, record.key, etag)
            )
            conn.execute(sa.delete(parts).where(parts.c.upload_id == upload.upload_id))
            conn.execute(sa.delete(uploads).where(uploads.c.upload_id == upload.upload_id))
            change = Change(
                "ObjectCreated:CompleteMultipartUpload", record.key, record.size, record.etag
            )
            self.notifier.emit(conn, ctx, record.bucket, [change], record.last_modified_ms)
        return replaced, list(current.values())


class _PartsChanged(Exception):
    """A part was re-uploaded between assembly and commit."""
