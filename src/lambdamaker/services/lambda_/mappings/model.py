"""The settings of one event source mapping, and what a stream source must offer the poller.

``Mapping`` is immutable: an UpdateEventSourceMapping makes a new one, and the manager hands the
new value to the poller (which re-reads it between batches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol


@dataclass(frozen=True)
class Mapping:
    uuid: str
    account: str
    region: str
    function_arn: str
    """The function's ARN as given (qualified by version or alias, or not)."""
    source_arn: str
    kind: str
    """``sqs``, ``kinesis`` or ``dynamodb`` (a DynamoDB stream ARN)."""
    batch_size: int
    window_s: int = 0
    """MaximumBatchingWindowInSeconds."""
    starting_position: str | None = None
    """TRIM_HORIZON, LATEST or AT_TIMESTAMP (streams only)."""
    starting_timestamp_ms: int | None = None
    parallelization: int = 1
    report_item_failures: bool = False
    """FunctionResponseTypes contains ReportBatchItemFailures."""
    bisect: bool = False
    max_retries: int = -1
    """MaximumRetryAttempts; -1 is infinite (retries until the record expires)."""
    max_record_age_s: int = -1
    """MaximumRecordAgeInSeconds; -1 is infinite (the stream's retention)."""
    on_failure_arn: str | None = None
    tumbling_window_s: int = 0
    filters: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    """FilterCriteria patterns, parsed from their JSON."""
    max_concurrency: int | None = None
    """ScalingConfig.MaximumConcurrency (SQS)."""
    enabled: bool = True


@dataclass(frozen=True)
class ShardInfo:
    shard_id: str
    parent_ids: tuple[str, ...]
    """Shards that must be read to their end before this one starts (resharding)."""
    closed: bool
    """No record will be added (split/merged away, or the stream was disabled)."""


class StreamRecord(NamedTuple):
    """One record a stream source read. A named tuple, not a frozen dataclass: sources build
    one per record delivered, and a frozen dataclass's ``__init__`` cost ~1.3 us of it."""

    sequence_number: str
    """Orders records within a shard (compare with ``StreamSource.order``)."""
    arrival_ms: int
    record: dict[str, Any]
    """The record exactly as Lambda puts it in ``event["Records"]``."""
    partition_key: str
    """Kinesis partition key, or the DynamoDB item's key (ParallelizationFactor groups by it)."""
    size: int


class StreamSource(Protocol):
    """A stream the poller reads: Kinesis (``services/kinesis``) or DynamoDB Streams
    (``services/dynamodb``). Reads run in their own short read transactions."""

    def shards(self) -> list[ShardInfo]:
        """Every shard still within retention, parents before children."""
        ...

    def start_position(self, shard_id: str, position: str, timestamp_ms: int | None) -> str | None:
        """The checkpoint to start from when a mapping first reads a shard: the sequence number
        just before the first record to deliver (None: from the shard's first record)."""
        ...

    def read(self, shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
        """Up to ``limit`` records after sequence number ``after`` (None: from the start)."""
        ...

    def order(self, sequence_number: str) -> int:
        """A sort key for sequence numbers of one shard."""
        ...

    def exists(self) -> bool:
        """False once the stream was deleted (the mapping stops polling)."""
        ...
