"""Amazon Kinesis Data Streams: the ``kinesis`` service provider, streams, shards and records
durable in the store.

Invariants (details in each module): a 2xx put is committed (``record_ops``); the open shards of
a stream cover the 128-bit hash key space exactly once and a record goes to the one holding its
key (``hashing``); a shard's sequence numbers increase in commit order (``tables``); iterators are
opaque, carry the read position and expire after 5 minutes (``iterators``).
"""

from lambdamaker.services.kinesis.provider import KinesisProvider

__all__ = ["KinesisProvider"]
