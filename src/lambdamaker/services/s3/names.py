"""Bucket names, object keys and owners, validated and derived as S3 does.

Bucket names follow the general-purpose bucket rules of
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html; they are checked
only when a bucket is created (every other operation on a bad name simply finds no bucket, as
on AWS). Keys are 1 to 1024 bytes of UTF-8
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from lambdamaker.services.s3 import errors

MAX_KEY_BYTES = 1024

_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid general-purpose bucket name, or None if it is."""
    if not 3 <= len(name) <= 63:
        return "Bucket name must be between 3 and 63 characters long"
    if not _BUCKET_CHARS.match(name):
        return (
            "Bucket name can consist only of lowercase letters, numbers, dots and hyphens, "
            "and must begin and end with a letter or number"
        )
    if ".." in name:
        return "Bucket name must not contain two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "Bucket name must not be formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES):
        return "Bucket name must not start with a reserved prefix"
    if name.endswith(_RESERVED_SUFFIXES):
        return "Bucket name must not end with a reserved suffix"
    return None


def validate_bucket_name(name: str) -> None:
    if bucket_name_problem(name) is not None:
        raise errors.invalid_bucket_name(name)


def validate_key(key: str) -> None:
    """Reject keys S3 would reject: empty, or longer than 1024 bytes of UTF-8."""
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise errors.key_too_long(size)
    if size == 0:
        raise errors.ServiceError(
            "A key must be specified", code="InvalidArgument", status=400, ArgumentName="key"
        )


def canonical_user_id(account_id: str) -> str:
    """The 64-hex-digit canonical user id S3 shows as an Owner ID, stable per account."""
    return hashlib.sha256(f"lambdamaker-canonical-user:{account_id}".encode()).hexdigest()


def owner(account_id: str) -> dict[str, str]:
    """The ``Owner`` structure of listings and ACL-ish responses."""
    return {"DisplayName": f"account-{account_id}", "ID": canonical_user_id(account_id)}
