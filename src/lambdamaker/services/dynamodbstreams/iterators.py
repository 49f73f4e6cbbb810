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

from dataclasses import dataclass

from lambdamaker.errors import ServiceError
from lambdamaker.services.tokens import decode_token, encode_token

ITERATOR_TTL_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class Position:
    stream_id: int
    arn: str
    next_seq: int
    issued_ms: int


def encode(position: Position) -> str:
    return encode_token(position.stream_id, position.arn, position.next_seq, position.issued_ms)


def decode(token: str, now_ms: int) -> Position:
    fields = decode_token(token, 4)
    try:
        if fields is None:
            raise ValueError(token)
        stream_id, arn, next_seq, issued_ms = fields
        position = Position(int(stream_id), str(arn), int(next_seq), int(issued_ms))
    except (ValueError, TypeError):
        raise ServiceError("Invalid ShardIterator", code="ValidationException") from None
    if now_ms - position.issued_ms > ITERATOR_TTL_MS:
        raise ServiceError(
            "Iterator expired. The iterator was created more than 15 minutes ago.",
            code="ExpiredIteratorException",
        )
    return position
