"""``SnsProvider``: the SNS operations of each concept module, combined."""

from __future__ import annotations

from lambdamaker.services.sns.publish import PublishOperations
from lambdamaker.services.sns.subscriptions import SubscriptionOperations
from lambdamaker.services.sns.tables import MIGRATIONS
from lambdamaker.services.sns.tags import TagOperations
from lambdamaker.services.sns.topics import TopicOperations


class SnsProvider(TopicOperations, SubscriptionOperations, TagOperations, PublishOperations):
    service = "sns"
    migrations = MIGRATIONS
