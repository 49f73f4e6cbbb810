"""Shard iterators of DynamoDB Streams: opaque tokens saying where a reader is in one shard.

Invariants:

- An iterator is ``base64url(JSON)`` of the stream's row id, its ARN, the counter of the next
  record to return and the time it was issued. It holds no secret: like AWS's it only has to be
  opaque and short-lived.
- An iterator is valid for 15 minutes after it was issued (``ExpiredIteratorException``); every
  GetRecords issues a fresh ``NextShardIterator``.
- The ARN is checked against the row on use, so a token never reads another stream.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from lambdamaker.errors import ServiceError

ITERATOR_TTL_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class Position:
    stream_id: int
    arn: str
    next_seq: int
    issued_ms: int


def encode(position: Position) -> str:
    raw = json.dumps(
        [position.stream_id, position.arn, position.next_seq, position.issued_ms],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode(token: str, now_ms: int) -> Position:
    try:
        stream_id, arn, next_seq, issued_ms = json.loads(base64.urlsafe_b64decode(token.encode()))
        position = Position(int(stream_id), str(arn), int(next_seq), int(issued_ms))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise ServiceError("Invalid ShardIterator", code="ValidationException") from None
    if now_ms - position.issued_ms > ITERATOR_TTL_MS:
        raise ServiceError(
            "Iterator expired. The iterator was created more than 15 minutes ago.",
            code="ExpiredIteratorException",
        )
    return position
