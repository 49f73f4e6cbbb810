"""Hash keys, shard ranges, shard ids and sequence numbers, as Kinesis shapes them.

Invariants:

- A record's hash key is its ``ExplicitHashKey`` or the MD5 of its partition key (UTF-8) read as
  a big-endian 128-bit integer; it lands in the one open shard whose range holds it.
- ``even_ranges(n)`` splits ``0..2**128-1`` as AWS does for CreateStream: shard ``i`` starts at
  ``i * (2**128 // n)``; the last one ends at ``2**128 - 1``.
- A sequence number is 56 decimal digits: ``49`` then the shard index (18 digits) then the
  shard's record counter (36 digits). Within a shard it increases with the counter, and it
  decodes back to ``(shard index, counter)`` so iterators can be checked against their shard.
"""

from __future__ import annotations

import hashlib

MAX_HASH_KEY = 2**128 - 1
_SEQ_BASE = 49 * 10**54
_SHARD_FACTOR = 10**36
_MAX_SHARD = 10**18


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def key_text(key: int) -> str:
    """The stored (sortable) form of a hash key."""
    return f"{key:039d}"


def even_ranges(n: int, start: int = 0, end: int = MAX_HASH_KEY) -> list[tuple[int, int]]:
    width = (end - start + 1) // n
    return [
        (start + i * width, end if i == n - 1 else start + (i + 1) * width - 1) for i in range(n)
    ]


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def parse_shard_id(text: str) -> int | None:
    prefix, _, digits = text.partition("-")
    if prefix != "shardId" or not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


def sequence_number(shard_index: int, counter: int) -> str:
    return str(_SEQ_BASE + shard_index * _SHARD_FACTOR + counter)


def parse_sequence_number(text: str) -> tuple[int, int] | None:
    """(shard index, counter) of a sequence number we issued, or None."""
    if not text.isdigit() or len(text) != 56:
        return None
    rest = int(text) - _SEQ_BASE
    if rest < 0:
        return None
    shard_index, counter = divmod(rest, _SHARD_FACTOR)
    if shard_index >= _MAX_SHARD:
        return None
    return shard_index, counter
