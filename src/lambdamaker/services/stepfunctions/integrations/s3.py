"""S3 reads for Map's ItemReader: one object's bytes, or a prefix's listing.

``read_s3_object(platform, bucket, key) -> bytes`` and ``list_s3_objects(platform, bucket,
prefix) -> list[dict]`` run S3's GetObject / ListObjectsV2 in-process. Listed items have the
shape Map's ItemReader gives each iteration (``{Etag, Key, LastModified, Size,
StorageClass}``, ``LastModified`` in epoch seconds). A refused read raises ``StatesError`` named
as the SDK names it (``S3.NoSuchKeyException``, ``S3.NoSuchBucketException``) with the SDK v2
cause text; the Map state decides whether that becomes ``States.ItemReaderFailed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from lambdamaker.gateway.protocol.body import Body, StreamPayload
from lambdamaker.services.stepfunctions.integrations.calls import CallFailed, CallResult, call
from lambdamaker.services.stepfunctions.integrations.faults import sdk_v2_error

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


async def _s3(platform: Platform, operation: str, params: dict[str, Any]) -> CallResult:
    try:
        return await call(
            platform,
            "s3",
            operation,
            params,
            region=platform.config.region,
            account_id=platform.config.account_id,
        )
    except CallFailed as failure:
        raise sdk_v2_error(failure, "S3") from None


async def read_s3_object(platform: Platform, bucket: str, key: str) -> bytes:
    """The bytes of ``s3://bucket/key``."""
    result = await _s3(platform, "GetObject", {"Bucket": bucket, "Key": key})
    body = result.output.get("Body")
    if isinstance(body, StreamPayload | Body):
        return body.read()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return str(body or "").encode()


async def list_s3_objects(platform: Platform, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object under ``prefix``, in key order, as ItemReader items."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix or ""}
        if token:
            params["ContinuationToken"] = token
        result = await _s3(platform, "ListObjectsV2", params)
        for entry in result.output.get("Contents") or []:
            modified = entry.get("LastModified")
            items.append(
                {
                    "Etag": entry.get("ETag"),
                    "Key": entry.get("Key"),
                    "LastModified": int(modified.timestamp())
                    if isinstance(modified, datetime)
                    else modified,
                    "Size": entry.get("Size"),
                    "StorageClass": entry.get("StorageClass", "STANDARD"),
                }
            )
        token = result.output.get("NextContinuationToken")
        if not result.output.get("IsTruncated") or not token:
            return items
