"""Listings: ListObjectsV2, ListObjects (v1) and ListMultipartUploads.

Keys are listed in UTF-8 byte order (the primary-key order of ``s3_objects``). A prefix is a key
range ``[prefix, successor(prefix))``, so a listing is an index range scan, never a LIKE. With a
delimiter, keys roll up into common prefixes; after emitting one the walk *seeks* past it
(to ``successor(common prefix)``) instead of reading every key under it, so listing the top of a
bucket with a million keys under ``data/`` reads a handful of rows.

Continuation tokens are opaque to clients (base64 of a small JSON naming the bucket and the last
key or common prefix returned) and validated on the way back in: a token that does not decode,
or that belongs to another bucket, is ``InvalidArgument``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import RequestContext
from lambdamaker.services.s3 import errors
from lambdamaker.services.s3.base import S3Base
from lambdamaker.services.s3.names import owner
from lambdamaker.services.s3.records import ObjectRecord, select_bucket, to_datetime
from lambdamaker.services.s3.tables import objects, uploads

MAX_PAGE = 1000


def successor(prefix: str) -> str | None:
    """The least string greater than every string that starts with ``prefix`` (None: no bound).

    Code-point order is UTF-8 byte order, so this bounds the key range in SQL too.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1])
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:  # surrogates cannot appear in UTF-8
                code = 0xE000
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return key[: index + len(delimiter)] if index >= 0 else None


@dataclass(frozen=True)
class Position:
    """Where a walk resumes: at ``key`` (inclusive) or after it (and after ``tiebreak``)."""

    key: str
    inclusive: bool = False
    tiebreak: str | None = None


@dataclass(frozen=True)
class CommonPrefix:
    prefix: str


Fetch = Callable[[Position | None, int], Sequence[Any]]


def start_position(prefix: str, after: str | None, tiebreak: str | None = None) -> Position | None:
    if after is not None and after >= prefix:
        return Position(after, False, tiebreak)
    return Position(prefix, True) if prefix else None


def walk(
    fetch: Fetch,
    position: Position | None,
    *,
    prefix: str,
    delimiter: str,
    max_items: int,
    skip_prefix: str | None = None,
    tiebreak: str | None = None,
) -> tuple[list[Any], bool]:
    """Rows and ``CommonPrefix`` items in key order, and whether more items follow.

    ``tiebreak``: the column that orders rows of one key (uploads: ``upload_id``), if any.
    """
    items: list[Any] = []
    if max_items <= 0:
        return items, False
    skipping = skip_prefix
    batch = min(max_items + 1, MAX_PAGE)
    while True:
        rows = fetch(position, batch)
        for row in rows:
            key: str = row.key
            if not key.startswith(prefix):
                return items, False
            if skipping is not None and key.startswith(skipping):
                continue
            skipping = None
            if len(items) == max_items:
                return items, True
            rolled = common_prefix(key, prefix, delimiter)
            if rolled is None:
                items.append(row)
            else:
                items.append(CommonPrefix(rolled))
                skipping = rolled
        if len(rows) < batch:
            return items, False
        last = rows[-1]
        if skipping is not None and last.key.startswith(skipping):
            seek = successor(skipping)
            if seek is None:
                return items, False
            position = Position(seek, True)
        else:
            position = Position(last.key, False, getattr(last, tiebreak) if tiebreak else None)


def marker_as_common_prefix(marker: str | None, prefix: str, delimiter: str) -> str | None:
    """A marker that is itself a common prefix (a previous NextMarker): skip keys under it."""
    if marker is None or not marker.startswith(prefix):
        return None
    return marker if common_prefix(marker, prefix, delimiter) == marker else None


def encode_token(bucket: str, item: Any) -> str:
    payload = (
        {"b": bucket, "p": item.prefix}
        if isinstance(item, CommonPrefix)
        else {"b": bucket, "k": item.key}
    )
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode()


def decode_token(bucket: str, token: str) -> tuple[Position | None, str | None]:
    """(where to resume, a common prefix to skip) from a continuation token."""
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError):
        payload = None
    if isinstance(payload, dict) and payload.get("b") == bucket:
        if isinstance(payload.get("k"), str):
            return Position(payload["k"]), None
        if isinstance(payload.get("p"), str):
            seek = successor(payload["p"])
            if seek is None:  # every later key starts with the prefix: skip them all
                return Position(payload["p"]), payload["p"]
            return Position(seek, True), payload["p"]
    raise errors.invalid_argument(
        "The continuation token provided is incorrect", "continuation-token", token
    )


def _encoder(params: dict[str, Any]) -> Callable[[str], str]:
    encoding = params.get("EncodingType")
    if encoding is None:
        return lambda value: value
    if encoding != "url":
        raise errors.invalid_argument(
            "Invalid Encoding Method specified in Request", "encoding-type", encoding
        )
    return lambda value: quote_plus(value, safe="/")


def _max_keys(params: dict[str, Any], member: str = "MaxKeys", name: str = "max-keys") -> int:
    value = params.get(member)
    if value is None:
        return MAX_PAGE
    if value < 0:
        raise errors.invalid_argument(
            f"Argument {name} must be an integer between 0 and 2147483647", name, value
        )
    return int(value)


def _range_fetch(
    conn: Connection, table: sa.Table, bucket: str, prefix: str, tiebreak: str | None
) -> Fetch:
    """Rows of ``table`` (objects or uploads) in the bucket under ``prefix``, in key order, then
    ``tiebreak`` order (uploads: ``upload_id``); a position's tiebreak resumes within its key."""
    upper = successor(prefix) if prefix else None
    key = table.c.key
    tie = table.c[tiebreak] if tiebreak is not None else None
    order = (key,) if tie is None else (key, tie)

    def fetch(position: Position | None, limit: int) -> Sequence[Any]:
        stmt = sa.select(table).where(table.c.bucket == bucket)
        if position is not None:
            if position.inclusive:
                stmt = stmt.where(key >= position.key)
            elif tie is None or position.tiebreak is None:
                stmt = stmt.where(key > position.key)
            else:
                stmt = stmt.where(
                    sa.or_(
                        key > position.key, sa.and_(key == position.key, tie > position.tiebreak)
                    )
                )
        if upper is not None:
            stmt = stmt.where(key < upper)
        return conn.execute(stmt.order_by(*order).limit(limit)).all()

    return fetch


def _echo_options(out: dict[str, Any], params: dict[str, Any], enc: Callable[[str], str]) -> None:
    """The delimiter and encoding type a listing was asked for, as every listing returns them."""
    if params.get("Delimiter"):
        out["Delimiter"] = enc(params["Delimiter"])
    if params.get("EncodingType"):
        out["EncodingType"] = params["EncodingType"]


class ListingOperations(S3Base):
    def _list(
        self,
        params: dict[str, Any],
        table: sa.Table,
        position: Position | None,
        skip_prefix: str | None,
        max_items: int,
        tiebreak: str | None = None,
    ) -> tuple[str, list[Any], bool]:
        """(bucket owner, items, truncated): one page of the walk over ``table``'s rows."""
        bucket = params["Bucket"]
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        with self.store.read() as conn:
            record = select_bucket(conn, bucket)
            if record is None:
                raise errors.no_such_bucket(bucket)
            self.check_expected_owner(params, record.account_id)
            items, truncated = walk(
                _range_fetch(conn, table, bucket, prefix, tiebreak),
                position,
                prefix=prefix,
                delimiter=delimiter,
                max_items=min(max_items, MAX_PAGE),
                skip_prefix=skip_prefix,
                tiebreak=tiebreak,
            )
        return record.account_id, items, truncated

    @staticmethod
    def _page(
        items: list[Any], enc: Callable[[str], str], who: dict[str, str] | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        contents = []
        for item in items:
            if isinstance(item, CommonPrefix):
                continue
            entry = ObjectRecord.from_row(item).listing_entry()
            entry["Key"] = enc(entry["Key"])
            if who is not None:
                entry["Owner"] = who
            contents.append(entry)
        prefixes = [{"Prefix": enc(i.prefix)} for i in items if isinstance(i, CommonPrefix)]
        if contents:
            out["Contents"] = contents
        if prefixes:
            out["CommonPrefixes"] = prefixes
        return out

    def list_objects_v2(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        enc = _encoder(params)
        max_keys = _max_keys(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter")
        skip: str | None = None
        if token is not None:
            position, skip = decode_token(params["Bucket"], token)
            position = max_position(position, start_position(prefix, None))
        else:
            position = start_position(prefix, start_after)
            skip = marker_as_common_prefix(start_after, prefix, delimiter)
        account, items, truncated = self._list(params, objects, position, skip, max_keys)
        who = owner(account) if params.get("FetchOwner") else None
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": enc(prefix),
            "MaxKeys": max_keys,
            "KeyCount": len(items),
            "IsTruncated": truncated,
            **self._page(items, enc, who),
        }
        _echo_options(out, params, enc)
        if token is not None:
            out["ContinuationToken"] = token
        if start_after is not None:
            out["StartAfter"] = enc(start_after)
        if truncated:
            out["NextContinuationToken"] = encode_token(params["Bucket"], items[-1])
        return out

    def list_objects(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        enc = _encoder(params)
        max_keys = _max_keys(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        marker = params.get("Marker") or None
        position = start_position(prefix, marker)
        skip = marker_as_common_prefix(marker, prefix, delimiter)
        account, items, truncated = self._list(params, objects, position, skip, max_keys)
        out: dict[str, Any] = {
            "Name": params["Bucket"],
            "Prefix": prefix,
            "Marker": enc(marker or ""),
            "MaxKeys": max_keys,
            "IsTruncated": truncated,
            **self._page(items, enc, owner(account)),
        }
        _echo_options(out, params, enc)
        if truncated and delimiter:
            # S3 sends NextMarker only with a delimiter; clients otherwise use the last Key.
            last = items[-1]
            out["NextMarker"] = enc(last.prefix if isinstance(last, CommonPrefix) else last.key)
        return out

    def list_multipart_uploads(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        from lambdamaker.services.s3.multipart import Upload

        bucket = params["Bucket"]
        enc = _encoder(params)
        max_uploads = _max_keys(params, "MaxUploads", "max-uploads")
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        key_marker = params.get("KeyMarker") or None
        upload_id_marker = (params.get("UploadIdMarker") or None) if key_marker else None
        account, items, truncated = self._list(
            params,
            uploads,
            start_position(prefix, key_marker, upload_id_marker),
            marker_as_common_prefix(key_marker, prefix, delimiter),
            max_uploads,
            tiebreak="upload_id",
        )
        listed = []
        for item in items:
            if isinstance(item, CommonPrefix):
                continue
            upload = Upload.from_row(item)
            who = owner(upload.account_id or account)
            entry: dict[str, Any] = {
                "UploadId": upload.upload_id,
                "Key": enc(upload.key),
                "Initiated": to_datetime(upload.initiated_ms),
                "StorageClass": upload.attributes.get("storage_class", "STANDARD"),
                "Owner": who,
                "Initiator": who,
            }
            if upload.checksum_algorithm is not None:
                entry["ChecksumAlgorithm"] = upload.checksum_algorithm
                entry["ChecksumType"] = upload.checksum_type
            listed.append(entry)
        out: dict[str, Any] = {
            "Bucket": bucket,
            "KeyMarker": enc(key_marker or ""),
            "UploadIdMarker": upload_id_marker or "",
            "Prefix": enc(prefix),
            "MaxUploads": max_uploads,
            "IsTruncated": truncated,
        }
        if listed:
            out["Uploads"] = listed
        prefixes = [{"Prefix": enc(i.prefix)} for i in items if isinstance(i, CommonPrefix)]
        if prefixes:
            out["CommonPrefixes"] = prefixes
        _echo_options(out, params, enc)
        if truncated:
            last = items[-1]
            if isinstance(last, CommonPrefix):
                out["NextKeyMarker"] = enc(last.prefix)
            else:
                out["NextKeyMarker"] = enc(last.key)
                out["NextUploadIdMarker"] = last.upload_id
        return out


def max_position(a: Position | None, b: Position | None) -> Position | None:
    """The later of two resume points (a token never rewinds before the prefix)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if (a.key, not a.inclusive) >= (b.key, not b.inclusive) else b
