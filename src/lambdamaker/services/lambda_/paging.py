"""Marker/MaxItems pagination as Lambda's List* operations do it.

The marker is opaque to clients: the sort key of the last item returned, base64-encoded. The
next page starts after that key, so items created or deleted between pages neither repeat nor
shift the rest.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lambdamaker.errors import InvalidParameterValueError

T = TypeVar("T")


def encode_marker(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_marker(marker: str) -> str:
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterValueError("Invalid marker.") from exc


def page(
    items: Sequence[T],
    params: dict[str, Any],
    key: Callable[[T], str],
    default_max: int = 50,
) -> tuple[list[T], str | None]:
    """(this page's items, the NextMarker or None). ``items`` must be sorted by ``key``."""
    marker = params.get("Marker")
    limit = int(params.get("MaxItems") or default_max)
    start = 0
    if marker:
        after = decode_marker(marker)
        while start < len(items) and key(items[start]) <= after:
            start += 1
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return chunk, (encode_marker(key(chunk[-1])) if more and chunk else None)
