"""``S3ItemStore``: the engine's ``ItemStore`` on this platform's S3 provider.

A Distributed Map's ItemReader (GetObject, ListObjectsV2) and ResultWriter (PutObject) reach S3
in-process through ``integrations.calls.call``, as the execution's account and region (the
execution's role is not evaluated, like every other integration of this platform).

Invariants:
- a refused S3 call raises ``StatesError`` named ``S3.<error code>`` (``S3.NoSuchKey``,
  ``S3.NoSuchBucket``, ``S3.AccessDenied``...) with the service's message and the SDK's
  trailer as cause; nothing else escapes for a user's mistake (a missing bucket or key);
- listings are complete: every page of ListObjectsV2 is read, so the items are in key order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdamaker.engines.workflows.errors import RUNTIME, StatesError
from lambdamaker.gateway.protocol.body import Body, StreamPayload
from lambdamaker.services.stepfunctions.integrations.calls import (
    CallFailed,
    CallResult,
    NotProvided,
    call,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


def s3_error(failure: CallFailed) -> StatesError:
    """The error a Map's ItemReader / ResultWriter reports for a refused S3 call."""
    error = failure.error
    cause = (
        f"{error.message} (Service: S3, Status Code: {error.status}, "
        f"Request ID: {failure.request_id})"
    )
    return StatesError(f"S3.{error.code}", cause)


class S3ItemStore:
    """``ItemStore`` for one execution (its account and region)."""

    def __init__(self, platform: Platform, *, region: str, account_id: str) -> None:
        self.platform = platform
        self.region = region
        self.account_id = account_id

    async def _call(self, operation: str, params: dict[str, Any]) -> CallResult:
        try:
            return await call(
                self.platform,
                "s3",
                operation,
                params,
                region=self.region,
                account_id=self.account_id,
            )
        except CallFailed as failure:
            raise s3_error(failure) from None
        except NotProvided as exc:
            raise StatesError(RUNTIME, str(exc)) from None

    async def get_object(self, bucket: str, key: str) -> bytes:
        result = await self._call("GetObject", {"Bucket": bucket, "Key": key})
        body = result.output.get("Body")
        if isinstance(body, StreamPayload | Body):
            return body.read()
        if isinstance(body, bytes | bytearray):
            return bytes(body)
        return str(body or "").encode()

    async def list_objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix or ""}
            if token:
                params["ContinuationToken"] = token
            output = (await self._call("ListObjectsV2", params)).output
            entries.extend(output.get("Contents") or [])
            token = output.get("NextContinuationToken")
            if not output.get("IsTruncated") or not token:
                return entries

    async def put_object(self, bucket: str, key: str, body: bytes) -> None:
        await self._call("PutObject", {"Bucket": bucket, "Key": key, "Body": body})
