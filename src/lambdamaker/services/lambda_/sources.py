"""Where a deployment package comes from: ``ZipFile`` bytes in the request, or an object in this
platform's S3, read straight from S3's store through Python (never over HTTP).

Lambda copies the object when the function is created, so later changes to it do not affect
the function; ``CodeStore.ingest`` makes that copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdamaker.errors import InvalidParameterValueError
from lambdamaker.services.lambda_ import limits
from lambdamaker.services.lambda_.code import CodeArtifact, CodeStore
from lambdamaker.services.lambda_.errors import RequestTooLargeError

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


def s3_error(code: str, message: str) -> InvalidParameterValueError:
    return InvalidParameterValueError(
        f"Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"
    )


def has_source(content: dict[str, Any]) -> bool:
    return content.get("ZipFile") is not None or content.get("S3Bucket") is not None


def ingest(
    platform: Platform, code: CodeStore, content: dict[str, Any], kind: str, operation: str
) -> CodeArtifact:
    """Validate, unpack and keep the package that ``content`` names (ZipFile or S3*)."""
    zip_file = content.get("ZipFile")
    if zip_file is not None:
        data = bytes(zip_file)
        if len(data) > limits.ZIPPED_CODE_LIMIT:
            # Lambda measures the request: a 50 MB zip is 69,905,067 bytes of base64.
            raise RequestTooLargeError(
                f"Request must be smaller than {limits.CREATE_FUNCTION_REQUEST_LIMIT} bytes for "
                f"the {operation} operation"
            )
        return code.ingest(data, kind)
    bucket, key = content.get("S3Bucket"), content.get("S3Key")
    if bucket is None or key is None:
        raise InvalidParameterValueError("Please provide a source for function code.")
    for _ in range(3):
        path = _s3_object_path(platform, bucket, key, content.get("S3ObjectVersion"))
        try:
            return code.ingest(path, kind)
        except FileNotFoundError:
            continue  # overwritten between the lookup and the read: look it up again
    raise s3_error("NoSuchKey", "The specified key does not exist.")


def _s3_object_path(platform: Platform, bucket: str, key: str, version: str | None) -> Path:
    if "s3" not in platform.providers:
        raise s3_error("NoSuchBucket", "The specified bucket does not exist")
    from lambdamaker.services.s3.records import select_object

    if version is not None and version != "null":
        # This platform's buckets are unversioned: "null" is the only version there is.
        raise s3_error("InvalidArgument", "Invalid version id specified")
    with platform.store.read() as conn:
        owner, record = select_object(conn, bucket, key)
    if owner is None:
        raise s3_error("NoSuchBucket", "The specified bucket does not exist")
    if record is None:
        raise s3_error("NoSuchKey", "The specified key does not exist.")
    return platform.blobs("s3").path(record.blob_id)
