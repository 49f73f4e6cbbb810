"""``KinesisProvider``: Amazon Kinesis Data Streams (json protocol, ``Kinesis_20131202``).

Supported: CreateStream (provisioned, or on-demand with 4 shards), DeleteStream, DescribeStream,
DescribeStreamSummary, ListStreams, ListShards, Increase/DecreaseStreamRetentionPeriod,
UpdateShardCount (UNIFORM_SCALING), PutRecord, PutRecords, GetShardIterator, GetRecords,
AddTagsToStream, RemoveTagsFromStream, ListTagsForStream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdamaker.services.kinesis.record_ops import RecordOperations
from lambdamaker.services.kinesis.stream_ops import StreamOperations
from lambdamaker.services.kinesis.tables import MIGRATIONS
from lambdamaker.services.kinesis.tag_ops import TagOperations
from lambdamaker.store.group_commit import GroupCommitter

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class KinesisProvider(StreamOperations, RecordOperations, TagOperations):
    service = "kinesis"
    migrations = MIGRATIONS

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.committer: GroupCommitter = platform.committer
