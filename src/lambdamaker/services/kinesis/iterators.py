"""Shard iterators: opaque tokens that say where a reader is in one shard.

Invariants:

- An iterator is ``base64url(JSON)`` of the stream's row id, the stream name, the shard index,
  the counter of the next record to return and the time it was issued. It holds no secret:
  like AWS's, it only has to be opaque and short-lived, not unforgeable.
- An iterator is valid for 5 minutes after it was issued (``ExpiredIteratorException`` after);
  every GetRecords issues a fresh ``NextShardIterator``.
- An iterator of a deleted (even if re-created) stream names a row id that no longer exists,
  so it reads nothing of another stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdamaker.errors import ServiceError
from lambdamaker.services.tokens import decode_token, encode_token

ITERATOR_TTL_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class Position:
    stream_id: int
    stream_name: str
    shard_index: int
    next_seq: int
    issued_ms: int


def encode(position: Position) -> str:
    return encode_token(
        position.stream_id,
        position.stream_name,
        position.shard_index,
        position.next_seq,
        position.issued_ms,
    )


def decode(token: str, now_ms: int) -> Position:
    fields = decode_token(token, 5)
    try:
        if fields is None:
            raise ValueError(token)
        stream_id, name, shard_index, next_seq, issued_ms = fields
        position = Position(
            int(stream_id), str(name), int(shard_index), int(next_seq), int(issued_ms)
        )
    except (ValueError, TypeError):
        raise ServiceError("Invalid ShardIterator.", code="InvalidArgumentException") from None
    if now_ms - position.issued_ms > ITERATOR_TTL_MS:
        raise ServiceError(
            f"Iterator expired. The iterator was created at time {_stamp(position.issued_ms)} "
            f"while right now it is {_stamp(now_ms)} which is further in the future than the "
            f"tolerated delay of {ITERATOR_TTL_MS} milliseconds.",
            code="ExpiredIteratorException",
        )
    return position


def _stamp(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
