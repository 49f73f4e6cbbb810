"""SNS delivery: a dispatcher thread fans each published message out and retries what failed.

Invariants:
- A message is fanned out to every confirmed subscription of its topic whose filter policy
  matches (scope MessageAttributes or MessageBody), at least once.
- Fan-out is one transaction per group of consecutive messages (``GROUP_DELIVERIES``), however
  many subscribers each has: each SQS enqueue and Lambda Event invocation (``services.deliver``)
  is written in it, each failed or http/https delivery gets a pending row in ``sns_deliveries``
  (``attempts``), and the message is marked ``delivered`` (fanned out). A crash before the commit loses nothing (the fan-out runs
  again); after it, the pending rows carry the rest.
- A pending row holds the failed attempts so far and when the next is due, so a restart resumes
  each retry where it was on the schedule. A retry of an SQS/Lambda delivery commits the
  delivery and deletes its row in one transaction (at-least-once, never lost); an http/https
  row is deleted after the endpoint's 2xx (a crash in between repeats the POST).

Retry policies (SNS's defaults; ``PlatformConfig.sns_retry_scale`` (``LAMBDAMAKER_SNS_RETRY_SCALE``) scales every delay, e.g. 0.01
for tests, 1 as AWS):
- AWS-managed endpoints (SQS, Lambda): 3 immediate tries, 2 after 1 s, backoff from 1 s to 20 s
  over 10 tries, then every 20 s, 100,015 tries in all (about 23 days).
- http/https: 3 retries, 20 s apart.
- A delivery whose endpoint is gone (a deleted queue or function: SNS's client-side error) goes
  straight to the subscription's dead-letter queue when it has a RedrivePolicy; without one it
  is retried on the schedule above (so a queue created again under its name gets the message;
  SNS itself would discard it). When retries are exhausted the message goes to the dead-letter
  queue, or is dropped and logged without one. A dead-letter queue that refuses the message
  leaves a client-side failure pending (retried) and drops an exhausted one, logged.

- http/https: Subscribe asks for a SubscriptionConfirmation POST (``request_confirmation``);
  at start every pending subscription younger than 3 days gets one again (the request lived in
  memory). POSTs run on the dispatcher thread (at most ``http_delivery.TIMEOUT`` each), so a
  slow endpoint delays the deliveries queued behind it.
- FIFO topics: fan-out runs in ``seq`` order, so each subscriber gets a group's messages in
  publish order while deliveries succeed; a retried delivery does not hold later ones back.

Not yet: DeliveryPolicy overrides, throttling policies.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from lambdamaker.engines.events.filter_policy import FilterPolicyError, parse_filter_policy
from lambdamaker.services.background import BackgroundLoop
from lambdamaker.services.sns import http_delivery
from lambdamaker.services.sns import tables as t
from lambdamaker.services.sns.attempts import HTTP_PROTOCOLS, Attempts
from lambdamaker.services.sns.attempts import retry_delay as retry_delay  # re-exported
from lambdamaker.services.sns.endpoints import Endpoints
from lambdamaker.services.sns.envelopes import Published
from lambdamaker.services.sns.signing import Signer

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.sns")

BATCH = 100
GROUP_DELIVERIES = 64
"""Fan-out commits after about this many deliveries (each message counts one more): one fsync
for many messages, while the write lock is held for tens of milliseconds at most."""
IDLE_WAIT = 5.0
DELIVERED_PROTOCOLS = ("sqs", "lambda", "http", "https")
CONFIRMATION_VALID = 3 * 24 * 3600.0


def _published(row: Row[Any]) -> Published:
    topic_attributes: dict[str, str] = json.loads(row.topic_attributes or "{}")
    return Published(
        seq=row.seq,
        message_id=row.message_id,
        topic_arn=row.topic_arn,
        message=row.message,
        subject=row.subject,
        structure=row.structure,
        attributes=json.loads(row.attributes),
        group_id=row.group_id,
        dedup_id=row.dedup_id,
        published_at=row.published_at,
        fifo=bool(row.fifo),
        signature_version="2" if topic_attributes.get("SignatureVersion") == "2" else "1",
        trace=row.trace,
    )


def _matches(subscription: Row[Any], published: Published) -> bool:
    attributes: dict[str, str] = json.loads(subscription.attributes)
    text = attributes.get("FilterPolicy")
    if not text:
        return True
    try:
        policy = parse_filter_policy(
            text, attributes.get("FilterPolicyScope") or "MessageAttributes"
        )
    except FilterPolicyError:  # stored policies always parse; refuse rather than flood
        return False
    return policy.matches(published.message, published.attributes)


_MESSAGES = (
    sa.select(
        t.messages,
        t.topics.c.fifo,
        t.topics.c.attributes.label("topic_attributes"),
    )
    .join(t.topics, t.topics.c.arn == t.messages.c.topic_arn, isouter=True)
    .order_by(t.messages.c.seq)
)
_SUBSCRIBERS = sa.select(t.subscriptions).where(
    t.subscriptions.c.topic_arn == sa.bindparam("topic"),
    t.subscriptions.c.pending == sa.false(),
    t.subscriptions.c.protocol.in_(DELIVERED_PROTOCOLS),
)


class Delivery:
    """The dispatcher: ``start()`` drains and then waits for ``notify()`` after each Publish."""

    def __init__(
        self,
        platform: Platform,
        clock: Callable[[], float] = time.time,
        retry_scale: float | None = None,
    ) -> None:
        self.platform = platform
        self.store = platform.store
        self.clock = clock
        self.retry_scale = (
            retry_scale if retry_scale is not None else platform.config.sns_retry_scale
        )
        self.signer = Signer(platform.config.data_dir / "sns")
        self.endpoints = Endpoints(platform, self.signer)
        self.attempts = Attempts(self.endpoints, self.retry_scale)
        self.loop = BackgroundLoop("sns-delivery", self._pass, max_wait=IDLE_WAIT)
        self._confirmations: list[str] = []

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.signer.certificate_pem()  # generate the key pair now, not on the first delivery
        with self.store.read() as conn:
            pending = conn.execute(
                sa.select(t.subscriptions.c.arn).where(
                    t.subscriptions.c.pending == sa.true(),
                    t.subscriptions.c.protocol.in_(HTTP_PROTOCOLS),
                    t.subscriptions.c.created_at > self.clock() - CONFIRMATION_VALID,
                )
            ).scalars()
            self._confirmations.extend(pending)
        self.loop.start()

    def notify(self) -> None:
        self.loop.notify()

    def request_confirmation(self, subscription_arn: str) -> None:
        """Send ``subscription_arn`` its SubscriptionConfirmation (from the dispatcher thread)."""
        with self.loop.wake:
            self._confirmations.append(subscription_arn)
        self.loop.notify()

    def close(self) -> None:
        self.loop.close()

    def _stopped(self) -> bool:
        return self.loop.stopped()

    def _pass(self) -> float:
        self._send_confirmations()
        return self.drain()

    def _send_confirmations(self) -> None:
        with self.loop.wake:
            arns, self._confirmations = self._confirmations, []
        for arn in arns:
            with self.store.read() as conn:
                sub = conn.execute(
                    sa.select(t.subscriptions).where(t.subscriptions.c.arn == arn)
                ).first()
                topic = conn.execute(
                    sa.select(t.topics.c.attributes).where(
                        t.topics.c.arn == (sub.topic_arn if sub is not None else "")
                    )
                ).scalar()
            if sub is None or not sub.pending or sub.token is None:
                continue
            version = "2" if json.loads(topic or "{}").get("SignatureVersion") == "2" else "1"
            body, headers = http_delivery.confirmation(
                sub.topic_arn,
                sub.token,
                self.endpoints.endpoint_url(),
                self.clock(),
                self.signer,
                version,
            )
            try:
                http_delivery.post(sub.endpoint, body, headers)
            except http_delivery.HttpDeliveryError as exc:
                log.warning("sns: SubscriptionConfirmation to %s failed: %s", sub.endpoint, exc)

    # --- one pass -------------------------------------------------------------------------

    def drain(self) -> float:
        """Fan out every new message and retry every due delivery; return how long to sleep
        before the next retry is due (0: more is due now)."""
        self.fan_out()
        if self._stopped():
            return IDLE_WAIT
        return self.retry_due()

    def fan_out(self) -> None:
        after = 0
        while True:
            with self.store.read() as conn:
                rows = conn.execute(
                    _MESSAGES.where(
                        t.messages.c.delivered == sa.false(), t.messages.c.seq > after
                    ).limit(BATCH)
                ).all()
                subscribers: dict[str, list[Row[Any]]] = {}
                for topic in {r.topic_arn for r in rows}:
                    subscribers[topic] = list(conn.execute(_SUBSCRIBERS, {"topic": topic}))
            if not rows:
                return
            group: list[tuple[Published, list[Row[Any]]]] = []
            size = 0
            for row in rows:
                after = row.seq
                published = _published(row)
                matching = [s for s in subscribers[row.topic_arn] if _matches(s, published)]
                group.append((published, matching))
                size += len(matching) + 1
                if size >= GROUP_DELIVERIES:
                    self._fan_out_group(group)
                    group, size = [], 0
                    if self._stopped():
                        return
            if group:
                self._fan_out_group(group)
            if self._stopped():
                return

    def _fan_out_group(self, group: list[tuple[Published, list[Row[Any]]]]) -> None:
        """Fan out consecutive messages in one transaction (one commit, one fsync)."""
        now = self.clock()
        with self.store.begin() as conn:
            for published, matching in group:
                for sub in matching:
                    if sub.protocol in HTTP_PROTOCOLS:
                        self.attempts.schedule(conn, published, sub, 0, now, None, existing=False)
                    else:
                        self.attempts.attempt(conn, published, sub, 0, now, existing=False)
            conn.execute(
                sa.update(t.messages)
                .where(t.messages.c.seq.in_([published.seq for published, _ in group]))
                .values(delivered=True)
            )

    def retry_due(self) -> float:
        now = self.clock()
        d = t.deliveries
        with self.store.read() as conn:
            due = conn.execute(
                sa.select(d)
                .where(d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at)
                .limit(BATCH)
            ).all()
        for row in due:
            self._retry(row)
            if self._stopped():
                return IDLE_WAIT
        if len(due) == BATCH:
            return 0.0
        with self.store.read() as conn:
            following = conn.execute(sa.select(sa.func.min(d.c.next_attempt_at))).scalar()
        if following is None:
            return IDLE_WAIT
        return min(IDLE_WAIT, max(float(following) - self.clock(), 0.005))

    def _retry(self, pending: Row[Any]) -> None:
        with self.store.read() as conn:
            message = conn.execute(_MESSAGES.where(t.messages.c.seq == pending.message_seq)).first()
            sub = conn.execute(
                sa.select(t.subscriptions).where(t.subscriptions.c.arn == pending.subscription_arn)
            ).first()
        if message is None or sub is None:  # unsubscribed, or the topic deleted meanwhile
            with self.store.begin() as conn:
                self.attempts.done(conn, pending.message_seq, pending.subscription_arn)
            return
        published = _published(message)
        now = self.clock()
        if sub.protocol in HTTP_PROTOCOLS:
            error: BaseException | None = None
            try:
                self.endpoints.post(published, sub)
            except Exception as exc:
                error = exc
            with self.store.begin() as conn:
                if error is None:
                    self.attempts.done(conn, published.seq, sub.arn)
                else:
                    self.attempts.failed(
                        conn, published, sub, pending.attempts + 1, error, now, True
                    )
            return
        with self.store.begin() as conn:
            self.attempts.attempt(conn, published, sub, pending.attempts, now, existing=True)

    # --- one delivery, inside the caller's transaction -------------------------------------
