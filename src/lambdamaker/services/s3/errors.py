"""S3's error codes, statuses, messages and extra body members, as S3 itself sends them.

S3 names its errors without the ``Exception`` suffix and puts context in the error body
(``<BucketName>``, ``<Key>``, ``<UploadId>``...); the extra members travel as ``fields`` of a
plain ``ServiceError``. Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

from __future__ import annotations

from typing import Any

from lambdamaker.errors import ServiceError

MAX_OBJECT_SIZE = 5 * 1024**3
"""The largest single PUT, part or copy source: 5 GiB."""
MIN_PART_SIZE = 5 * 1024**2
"""Every part of a multipart upload but the last is at least 5 MiB."""

__all__ = ["MAX_OBJECT_SIZE", "MIN_PART_SIZE", "ServiceError"]


def _err(code: str, status: int, message: str, **fields: Any) -> ServiceError:
    return ServiceError(message, code=code, status=status, **fields)


def no_such_bucket(bucket: str) -> ServiceError:
    return _err("NoSuchBucket", 404, "The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> ServiceError:
    return _err("NoSuchKey", 404, "The specified key does not exist.", Key=key)


def no_such_upload(upload_id: str) -> ServiceError:
    return _err(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        UploadId=upload_id,
    )


def invalid_bucket_name(bucket: str) -> ServiceError:
    return _err("InvalidBucketName", 400, "The specified bucket is not valid.", BucketName=bucket)


def bucket_already_exists(bucket: str) -> ServiceError:
    return _err(
        "BucketAlreadyExists",
        409,
        "The requested bucket name is not available. The bucket namespace is shared by all "
        "users of the system. Please select a different name and try again.",
        BucketName=bucket,
    )


def bucket_already_owned_by_you(bucket: str) -> ServiceError:
    return _err(
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
        BucketName=bucket,
    )


def bucket_not_empty(bucket: str) -> ServiceError:
    return _err(
        "BucketNotEmpty", 409, "The bucket you tried to delete is not empty", BucketName=bucket
    )


def key_too_long(size: int) -> ServiceError:
    return _err("KeyTooLongError", 400, "Your key is too long", Size=size, MaxSizeAllowed=1024)


def entity_too_large(size: int) -> ServiceError:
    return _err(
        "EntityTooLarge",
        400,
        "Your proposed upload exceeds the maximum allowed size",
        ProposedSize=size,
        MaxSizeAllowed=MAX_OBJECT_SIZE,
    )


def invalid_argument(message: str, name: str, value: Any = None) -> ServiceError:
    fields: dict[str, Any] = {"ArgumentName": name}
    if value is not None:
        fields["ArgumentValue"] = value
    return _err("InvalidArgument", 400, message, **fields)


def invalid_request(message: str) -> ServiceError:
    return _err("InvalidRequest", 400, message)


def malformed_xml() -> ServiceError:
    return _err(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )


def invalid_digest(content_md5: str) -> ServiceError:
    return _err(
        "InvalidDigest",
        400,
        "The Content-MD5 you specified is not valid.",
        **{"Content-MD5": content_md5},
    )


def bad_digest(expected: str, calculated: str) -> ServiceError:
    return _err(
        "BadDigest",
        400,
        "The Content-MD5 you specified did not match what we received.",
        ExpectedDigest=expected,
        CalculatedDigest=calculated,
    )


def precondition_failed(condition: str) -> ServiceError:
    return _err(
        "PreconditionFailed",
        412,
        "At least one of the pre-conditions you specified did not hold",
        Condition=condition,
    )


def not_modified(headers: dict[str, str]) -> ServiceError:
    # A 304 carries no body; the validators (ETag, Last-Modified) go in its headers.
    return ServiceError("Not Modified", code="NotModified", status=304, headers=headers)


def invalid_range(requested: str, size: int) -> ServiceError:
    return _err(
        "InvalidRange",
        416,
        "The requested range is not satisfiable",
        RangeRequested=requested,
        ActualObjectSize=size,
    )


def access_denied() -> ServiceError:
    return _err("AccessDenied", 403, "Access Denied")
