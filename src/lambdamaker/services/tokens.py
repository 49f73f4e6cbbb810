"""Opaque tokens for positions that clients hand back (shard iterators, paging markers):
``base64url(JSON list)``. They hold no secret and are not signed: like AWS's, they only have to
be opaque; whoever decodes one checks what it names (the row it points at, its age)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def encode_token(*fields: Any) -> str:
    raw = json.dumps(list(fields), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(token: str, count: int) -> list[Any] | None:
    """The ``count`` fields of a token, or None when it is not one."""
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, list) or len(fields) != count:
        return None
    return fields
