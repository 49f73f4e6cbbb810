"""``SqsProvider``: Amazon SQS (json protocol, ``AmazonSQS``, query-compatible errors).

Queues and messages live in the store (``tables``), so every acknowledged send survives a
crash. The provider is stateless apart from its long-poll ``Waiters`` (in-memory hints).

Supported: CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, GetQueueAttributes,
SetQueueAttributes, PurgeQueue, SendMessage(Batch), ReceiveMessage (long polling),
DeleteMessage(Batch), ChangeMessageVisibility(Batch), TagQueue, UntagQueue, ListQueueTags,
dead-letter redrive, ListDeadLetterSourceQueues, Start/List/CancelMessageMoveTask (moves
complete at once, see ``redrive_ops``), FIFO groups and deduplication; ``enqueue`` for the
platform's own deliveries (SNS, S3 notifications, EventBridge). The query protocol of older
SDKs is the gateway's (``gateway/protocol/legacy_query``): the same operations, other wire names.
Sends, receives and deletes commit in groups across requests (``group_commit``). Not yet: AddPermission and
RemovePermission, ReceiveRequestAttemptId, KMS (attributes are stored and
echoed, nothing is encrypted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdamaker.services.sqs.queue_ops import QueueOperations
from lambdamaker.services.sqs.receive_ops import ReceiveOperations
from lambdamaker.services.sqs.redrive_ops import RedriveOperations
from lambdamaker.services.sqs.send_ops import SendOperations
from lambdamaker.services.sqs.tables import MIGRATIONS
from lambdamaker.services.sqs.tag_ops import TagOperations
from lambdamaker.services.sqs.visibility_ops import VisibilityOperations
from lambdamaker.services.sqs.waiters import Waiters
from lambdamaker.store.group_commit import GroupCommitter

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class SqsProvider(
    QueueOperations,
    SendOperations,
    ReceiveOperations,
    VisibilityOperations,
    TagOperations,
    RedriveOperations,
):
    service = "sqs"
    migrations = MIGRATIONS
    inline_operations = frozenset({"GetQueueUrl", "ListQueues"})

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.waiters = Waiters()
        self.committer: GroupCommitter = platform.committer
        self.backlogged = set()

    def close(self) -> None:
        self.waiters.close()
