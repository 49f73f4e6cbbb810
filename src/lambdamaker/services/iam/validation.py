"""Input checks IAM makes, with IAM's error codes and messages.

The gateway's protocol layer already enforces the botocore model (required members, lengths,
patterns, enums) on requests that arrive over HTTP. These checks repeat the ones a provider
cannot do without (names, paths, tags, document sizes) so that the provider is correct when it
is driven in-process too, and add the rules the model cannot express (tag keys unique regardless
of case, the ``aws:`` prefix, markers).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from typing import Any

from lambdamaker.services.iam.errors import IamValidationError, InvalidInputError

NAME_PATTERN = r"[\w+=,.@-]+"
_NAME = re.compile(NAME_PATTERN, re.ASCII)
PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
_PATH = re.compile(r"/|/[\x21-\x7e]+/")
PATH_PREFIX_PATTERN = r"\u002F[\u0021-\u007F]*"
_PATH_PREFIX = re.compile(r"/[\x21-\x7f]*")
POLICY_PATH_PATTERN = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/"
_POLICY_PATH = re.compile(r"((/[A-Za-z0-9.,+@=_-]+)*)/")
DESCRIPTION_PATTERN = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*"
_DESCRIPTION = re.compile(r"[\t\n\r\x20-\x7e\xa1-\xff]*")
ACCESS_KEY_STATUSES = ("Active", "Inactive")

MAX_TAGS = 50
DEFAULT_MAX_ITEMS = 100


def validation_error(value: Any, member: str, constraint: str) -> IamValidationError:
    """IAM's wording for a model constraint violation."""
    return IamValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _check_bounds(value: Any, size: int, member: str, low: int, high: int, what: str) -> None:
    """``what``: ``length`` or ``value``, the word IAM's message uses for ``size``."""
    if size < low:
        raise validation_error(
            value, member, f"Member must have {what} greater than or equal to {low}"
        )
    if size > high:
        raise validation_error(
            value, member, f"Member must have {what} less than or equal to {high}"
        )


def check_length(value: str, member: str, low: int, high: int) -> None:
    _check_bounds(value, len(value), member, low, high, "length")


def check_range(value: int, member: str, low: int, high: int) -> None:
    _check_bounds(value, value, member, low, high, "value")


def check_pattern(value: str, member: str, regex: re.Pattern[str], pattern: str) -> None:
    """``pattern``: the model's spelling of ``regex``, which is what IAM's message quotes."""
    if not regex.fullmatch(value):
        raise validation_error(
            value, member, f"Member must satisfy regular expression pattern: {pattern}"
        )


def check_name(value: str, member: str, max_len: int = 64) -> str:
    """Role, user and policy names: ``[\\w+=,.@-]+`` (ASCII word characters)."""
    check_length(value, member, 1, max_len)
    check_pattern(value, member, _NAME, NAME_PATTERN)
    return value


def _check_path(value: str | None, member: str, regex: re.Pattern[str], pattern: str) -> str:
    """A path or path prefix: ``/`` when absent, else 1 to 512 characters matching ``regex``."""
    if value is None:
        return "/"
    check_length(value, member, 1, 512)
    check_pattern(value, member, regex, pattern)
    return value


def check_path(value: str | None, member: str = "path") -> str:
    """A role or user path: ``/`` or ``/segments/``, at most 512 characters."""
    return _check_path(value, member, _PATH, PATH_PATTERN)


def check_policy_path(value: str | None, member: str = "path") -> str:
    return _check_path(value, member, _POLICY_PATH, POLICY_PATH_PATTERN)


def check_path_prefix(value: str | None, member: str = "pathPrefix") -> str:
    return _check_path(value, member, _PATH_PREFIX, PATH_PREFIX_PATTERN)


def check_description(value: str | None, member: str = "description") -> str | None:
    if value is None:
        return None
    check_length(value, member, 0, 1000)
    check_pattern(value, member, _DESCRIPTION, DESCRIPTION_PATTERN)
    return value


def _tag_char(ch: str) -> bool:
    # The model's [\p{L}\p{Z}\p{N}_.:/=+\-@]: letters, separators, numbers and a few symbols.
    return unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-@"


def check_tags(raw: Any, member: str = "tags") -> list[tuple[str, str]]:
    """Validate a ``Tags`` list; returns (key, value) pairs in the order given."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise validation_error(raw, member, "Member must be a list")
    if len(raw) > MAX_TAGS:
        raise validation_error(
            raw, member, f"Member must have length less than or equal to {MAX_TAGS}"
        )
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, tag in enumerate(raw, start=1):
        if not isinstance(tag, dict) or "Key" not in tag or "Value" not in tag:
            raise validation_error(tag, f"{member}.{i}.member", "Member must not be null")
        key, value = tag["Key"], tag["Value"]
        if not isinstance(key, str) or not isinstance(value, str):
            raise validation_error(tag, f"{member}.{i}.member", "Member must be a string")
        check_tag_key(key, f"{member}.{i}.member.key")
        check_length(value, f"{member}.{i}.member.value", 0, 256)
        if not all(_tag_char(ch) for ch in value):
            raise validation_error(
                value,
                f"{member}.{i}.member.value",
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*",
            )
        if key.lower() in seen:
            raise InvalidInputError(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        seen.add(key.lower())
        pairs.append((key, value))
    return pairs


def check_tag_key(key: str, member: str) -> None:
    check_length(key, member, 1, 128)
    if not all(_tag_char(ch) for ch in key):
        raise validation_error(
            key,
            member,
            r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
        )
    if key.lower().startswith("aws:"):
        raise InvalidInputError(f"Tag key {key} is invalid: the prefix 'aws:' is reserved for AWS.")


def check_tag_keys(raw: Any, member: str = "tagKeys") -> list[str]:
    if not isinstance(raw, list):
        raise validation_error(raw, member, "Member must be a list")
    if len(raw) > MAX_TAGS:
        raise validation_error(
            raw, member, f"Member must have length less than or equal to {MAX_TAGS}"
        )
    for i, key in enumerate(raw, start=1):
        if not isinstance(key, str):
            raise validation_error(key, f"{member}.{i}.member", "Member must be a string")
        check_length(key, f"{member}.{i}.member", 1, 128)
    return list(raw)


def max_items(params: dict[str, Any]) -> int:
    value = params.get("MaxItems")
    if value is None:
        return DEFAULT_MAX_ITEMS
    check_range(int(value), "maxItems", 1, 1000)
    return int(value)


def encode_marker(key: list[Any]) -> str:
    """An opaque continuation marker holding the sort key of the last item returned."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_marker(marker: str | None) -> list[Any] | None:
    if marker is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(marker.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidInputError("Invalid Marker.") from exc
    if not isinstance(key, list):
        raise InvalidInputError("Invalid Marker.")
    return key


def paginate(
    items: list[Any], params: dict[str, Any], sort_key: Any, member: str
) -> dict[str, Any]:
    """One page of an in-memory, already sorted list, as ``{member, IsTruncated, Marker}``."""
    limit = max_items(params)
    after = decode_marker(params.get("Marker"))
    if after is not None:
        try:
            items = [it for it in items if sort_key(it) > after]
        except TypeError as exc:  # a marker we did not issue, holding keys of another type
            raise InvalidInputError("Invalid Marker.") from exc
    page = items[:limit]
    out: dict[str, Any] = {member: page}
    out["IsTruncated"] = len(items) > limit
    if out["IsTruncated"]:
        out["Marker"] = encode_marker(sort_key(page[-1]))
    return out
