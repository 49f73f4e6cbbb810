"""``SnsProvider``: the SNS operations of each concept module, combined, and the delivery
dispatcher's lifecycle (started after migrations, woken by every Publish). The gateway serves
``certificate_pem()`` at ``signing.CERT_PATH``, the ``SigningCertURL`` of every message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdamaker.services.sns.delivery import Delivery
from lambdamaker.services.sns.publish import PublishOperations
from lambdamaker.services.sns.subscriptions import SubscriptionOperations
from lambdamaker.services.sns.tables import MIGRATIONS
from lambdamaker.services.sns.tags import TagOperations
from lambdamaker.services.sns.topics import TopicOperations

if TYPE_CHECKING:
    from lambdamaker.platform import Platform


class SnsProvider(TopicOperations, SubscriptionOperations, TagOperations, PublishOperations):
    service = "sns"
    migrations = MIGRATIONS

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.delivery = Delivery(platform)

    def start(self) -> None:
        self.delivery.start()

    def close(self) -> None:
        self.delivery.close()

    def certificate_pem(self) -> bytes:
        """The PEM certificate that verifies this platform's SNS message signatures."""
        return self.delivery.signer.certificate_pem()
