"""Conditional requests and byte ranges, with S3's precedence rules.

Reads (GetObject, HeadObject) follow RFC 9110 section 13.2.2 as S3 documents it
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html): the 412 checks come first
(If-Match, else If-Unmodified-Since), then the 304 checks (If-None-Match, else If-Modified-Since).
So If-Match true + If-Unmodified-Since false serves the object, and If-None-Match false +
If-Modified-Since true answers 304. Copy sources use the same logic, but every failure is a 412.
Dates compare at one-second resolution, the resolution of ``Last-Modified``.

Ranges: one ``bytes=`` range (``a-b``, ``a-``, ``-n``). A header S3 cannot use (another unit,
several ranges, bad syntax) is ignored and the whole object served; a well-formed range that
starts past the end is ``InvalidRange`` (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from typing import Any

from lambdamaker.services.s3 import errors


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


def _etag_list(header: str) -> list[str]:
    out = []
    for item in header.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        out.append(item.strip('"'))
    return out


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match value (``*``, a list, quoted or not) names ``etag``."""
    tags = _etag_list(header)
    return "*" in tags or etag in tags


def _seconds(when: datetime) -> int:
    return int(when.timestamp())


def http_date(epoch_seconds: float) -> str:
    return formatdate(epoch_seconds, usegmt=True)


# (parameter, header) of If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since,
# in that order; the header is what S3's error message names.
_Conditions = tuple[tuple[str, str], tuple[str, str], tuple[str, str], tuple[str, str]]
_READ: _Conditions = (
    ("IfMatch", "If-Match"),
    ("IfUnmodifiedSince", "If-Unmodified-Since"),
    ("IfNoneMatch", "If-None-Match"),
    ("IfModifiedSince", "If-Modified-Since"),
)
_COPY_SOURCE: _Conditions = (
    ("CopySourceIfMatch", "x-amz-copy-source-If-Match"),
    ("CopySourceIfUnmodifiedSince", "x-amz-copy-source-If-Unmodified-Since"),
    ("CopySourceIfNoneMatch", "x-amz-copy-source-If-None-Match"),
    ("CopySourceIfModifiedSince", "x-amz-copy-source-If-Modified-Since"),
)


def _failed_condition(
    params: dict[str, Any], conditions: _Conditions, etag: str, modified: int
) -> str | None:
    """The header of the condition that fails, in RFC 9110's order; None when all hold."""
    match, unmodified, none_match, modified_since = conditions
    if_match = params.get(match[0])
    if if_match is not None:
        if not etag_matches(if_match, etag):
            return match[1]
    else:
        if_unmodified = params.get(unmodified[0])
        if if_unmodified is not None and modified > _seconds(if_unmodified):
            return unmodified[1]
    if_none_match = params.get(none_match[0])
    if if_none_match is not None:
        if etag_matches(if_none_match, etag):
            return none_match[1]
    else:
        if_modified = params.get(modified_since[0])
        if if_modified is not None and modified <= _seconds(if_modified):
            return modified_since[1]
    return None


def check_read_conditions(params: dict[str, Any], etag: str, last_modified_ms: int) -> None:
    """Raise 412 PreconditionFailed or 304 NotModified as S3 would for a GET or HEAD."""
    modified = last_modified_ms // 1000
    failed = _failed_condition(params, _READ, etag, modified)
    if failed is None:
        return
    if failed in ("If-None-Match", "If-Modified-Since"):
        raise errors.not_modified({"ETag": quote_etag(etag), "Last-Modified": http_date(modified)})
    raise errors.precondition_failed(failed)


def check_copy_source_conditions(params: dict[str, Any], etag: str, last_modified_ms: int) -> None:
    """The ``x-amz-copy-source-if-*`` checks of CopyObject and UploadPartCopy (all 412)."""
    failed = _failed_condition(params, _COPY_SOURCE, etag, last_modified_ms // 1000)
    if failed is not None:
        raise errors.precondition_failed(failed)


def validate_write_conditions(params: dict[str, Any]) -> None:
    """Conditional writes accept ``If-None-Match: *`` only (checked before any byte is kept)."""
    if_none_match = params.get("IfNoneMatch")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise errors.ServiceError(
            "A header you provided implies functionality that is not implemented",
            code="NotImplemented",
            status=501,
            Header="If-None-Match",
        )


def check_write_conditions(params: dict[str, Any], key: str, current_etag: str | None) -> None:
    """If-Match / If-None-Match of a conditional write, against the object being replaced.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
    """
    if params.get("IfNoneMatch") is not None and current_etag is not None:
        raise errors.precondition_failed("If-None-Match")
    if_match = params.get("IfMatch")
    if if_match is not None:
        if current_etag is None:
            raise errors.no_such_key(key)
        if not etag_matches(if_match, current_etag):
            raise errors.precondition_failed("If-Match")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive, as HTTP counts them."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(header: str, size: int) -> ByteRange | None:
    """The range to serve, None to serve everything, or ``InvalidRange`` if unsatisfiable."""
    m = _RANGE.match(header)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise errors.invalid_range(header, size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise errors.invalid_range(header, size)
    return ByteRange(start, min(end, size - 1))


_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def parse_copy_source_range(header: str, size: int) -> ByteRange:
    """``x-amz-copy-source-range`` of UploadPartCopy: strictly ``bytes=first-last``."""
    m = _COPY_RANGE.match(header.strip())
    if m is None:
        raise errors.invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first "
            "and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    start, end = int(m.group(1)), int(m.group(2))
    if start > end or end >= size:
        raise errors.invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return ByteRange(start, end)
