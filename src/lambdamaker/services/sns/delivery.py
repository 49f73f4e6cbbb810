"""SNS delivery: a dispatcher thread fans each published message out to its subscribers.

Invariants:
- A message is fanned out to every confirmed subscription of its topic whose filter policy
  matches (scope MessageAttributes or MessageBody), at least once.
- Each (message, subscription) delivery commits in one transaction together with its record in
  ``sns_deliveries``: the SQS enqueue (``SqsProvider.enqueue``) or the Lambda async event (a row
  in ``lambda_events``, the same row ``Invoke(InvocationType=Event)`` commits). A crash before
  the commit loses nothing (the delivery runs again), after it never repeats it.
- Once every matching subscription has its record, one transaction sets ``delivered`` and
  drops the records. At start the dispatcher drains whatever is undelivered, so a restart
  resumes where the last process stopped.
- One thread delivers in ``seq`` order, so a FIFO topic's messages reach each subscriber in
  publish order (a failing delivery holds back later messages of the same topic only through
  retries of its own message; later ones are not blocked).
- A delivery that fails (queue or function gone, queue refuses the message) is retried on
  SNS's schedule for AWS-managed endpoints (3 immediate, 2 after 1 s, backoff from 1 s to
  20 s over 10 tries, then every 20 s) and dropped, logged, after ``MAX_AGE`` (23 days, as SNS's
  100,015 tries take). Attempt counts live in memory: a restart starts the schedule again.

- http/https: Subscribe asks for a SubscriptionConfirmation POST (``request_confirmation``);
  at start every pending subscription younger than 3 days gets one again (the request lived in
  memory). A notification POST that answers 2xx is recorded as delivered (there is no shared
  transaction with a remote endpoint: at-least-once); failures follow SNS's default policy for
  http (3 retries, 20 s apart), then the delivery is dropped and logged. POSTs run on the
  dispatcher thread (at most ``http_delivery.TIMEOUT`` each), so a slow endpoint delays the
  deliveries queued behind it.

Not yet: DeliveryPolicy overrides, subscription RedrivePolicy (DLQs), throttling policies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.engines.events.filter_policy import FilterPolicyError, parse_filter_policy
from lambdamaker.errors import ServiceError
from lambdamaker.services.sns import http_delivery
from lambdamaker.services.sns import tables as t
from lambdamaker.services.sns.envelopes import (
    Published,
    lambda_event,
    message_for,
    notification,
    sqs_attributes,
)

if TYPE_CHECKING:
    from lambdamaker.platform import Platform
    from lambdamaker.services.lambda_.provider import LambdaProvider
    from lambdamaker.services.lambda_.targets import Target

log = logging.getLogger("lambdamaker.sns")

BATCH = 100
MAX_AGE = 23 * 24 * 3600.0
DELIVERED_PROTOCOLS = ("sqs", "lambda", "http", "https")
HTTP_PROTOCOLS = ("http", "https")
HTTP_RETRIES = 3
HTTP_RETRY_DELAY = 20.0
"""SNS's default healthy retry policy for http/https: 3 retries, 20 s apart."""
CONFIRMATION_VALID = 3 * 24 * 3600.0


def retry_delay(attempt: int) -> float:
    """Seconds before try ``attempt + 1`` after ``attempt`` failed tries (SNS's policy for
    AWS-managed endpoints)."""
    if attempt < 3:
        return 0.0
    if attempt < 5:
        return 1.0
    if attempt < 15:
        return min(20.0, float(2 ** (attempt - 5)))
    return 20.0


def _published(row: Row[Any]) -> Published:
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
    )


def _content_dedup_id(published: Published) -> str:
    """A FIFO topic's message without a deduplication id has content-based deduplication on
    (Publish refuses it otherwise): SHA-256 of the message, as SNS and SQS compute it. A FIFO
    queue then drops a repeat within its 5-minute window, so SNS's own deduplication holds."""
    if published.fifo:
        return hashlib.sha256(published.message.encode()).hexdigest()
    return published.message_id


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


class Delivery:
    """The dispatcher: ``start()`` drains and then waits for ``notify()`` after each Publish."""

    def __init__(self, platform: Platform, clock: Callable[[], float] = time.time) -> None:
        self.platform = platform
        self.store = platform.store
        self.clock = clock
        self._wake = threading.Condition()
        self._dirty = True
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._attempts: dict[tuple[int, str], int] = {}
        self._not_before: dict[int, float] = {}
        self._confirmations: list[str] = []

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        with self.store.read() as conn:
            pending = conn.execute(
                sa.select(t.subscriptions.c.arn).where(
                    t.subscriptions.c.pending == sa.true(),
                    t.subscriptions.c.protocol.in_(HTTP_PROTOCOLS),
                    t.subscriptions.c.created_at > self.clock() - CONFIRMATION_VALID,
                )
            ).scalars()
            self._confirmations.extend(pending)
        self._thread = threading.Thread(target=self._run, name="sns-delivery", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        with self._wake:
            self._dirty = True
            self._wake.notify_all()

    def request_confirmation(self, subscription_arn: str) -> None:
        """Send ``subscription_arn`` its SubscriptionConfirmation (from the dispatcher thread)."""
        with self._wake:
            self._confirmations.append(subscription_arn)
            self._dirty = True
            self._wake.notify_all()

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                self._dirty = False
            try:
                self._send_confirmations()
                wait = self.drain()
            except Exception:
                log.exception("sns: delivery pass failed")
                wait = 1.0
            with self._wake:
                if self._stopping:
                    return
                if not self._dirty:
                    self._wake.wait(wait)

    def _send_confirmations(self) -> None:
        with self._wake:
            arns, self._confirmations = self._confirmations, []
        for arn in arns:
            with self.store.read() as conn:
                sub = conn.execute(
                    sa.select(t.subscriptions).where(t.subscriptions.c.arn == arn)
                ).first()
            if sub is None or not sub.pending or sub.token is None:
                continue
            body, headers = http_delivery.confirmation(
                sub.topic_arn, sub.token, self._endpoint(), self.clock()
            )
            try:
                http_delivery.post(sub.endpoint, body, headers)
            except http_delivery.HttpDeliveryError as exc:
                log.warning("sns: SubscriptionConfirmation to %s failed: %s", sub.endpoint, exc)

    # --- one pass -------------------------------------------------------------------------

    def drain(self) -> float:
        """Deliver every due undelivered message; return how long to sleep before a retry."""
        after = 0
        wait = 5.0
        while True:
            with self.store.read() as conn:
                rows = conn.execute(
                    sa.select(t.messages, t.topics.c.fifo)
                    .join(t.topics, t.topics.c.arn == t.messages.c.topic_arn, isouter=True)
                    .where(t.messages.c.delivered == sa.false(), t.messages.c.seq > after)
                    .order_by(t.messages.c.seq)
                    .limit(BATCH)
                ).all()
            if not rows:
                return wait
            now = self.clock()
            for row in rows:
                after = row.seq
                due = self._not_before.get(row.seq, 0.0)
                if due > now:
                    wait = min(wait, due - now)
                    continue
                retry_in = self._deliver_message(_published(row), now)
                if retry_in is not None:
                    wait = min(wait, max(retry_in, 0.005))
                with self._wake:
                    if self._stopping:
                        return wait

    def _deliver_message(self, published: Published, now: float) -> float | None:
        """Deliver to every matching subscription not yet served; ``None`` once complete, else
        seconds until the next retry."""
        with self.store.read() as conn:
            subscriptions = conn.execute(
                sa.select(t.subscriptions).where(
                    t.subscriptions.c.topic_arn == published.topic_arn,
                    t.subscriptions.c.pending == sa.false(),
                    t.subscriptions.c.protocol.in_(DELIVERED_PROTOCOLS),
                )
            ).all()
            done = set(
                conn.execute(
                    sa.select(t.deliveries.c.subscription_arn).where(
                        t.deliveries.c.message_seq == published.seq
                    )
                ).scalars()
            )
        expired = now - published.published_at > MAX_AGE
        retry: float | None = None
        for sub in subscriptions:
            if sub.arn in done or not _matches(sub, published):
                continue
            key = (published.seq, sub.arn)
            try:
                self._deliver_one(published, sub)
            except Exception as exc:
                attempts = self._attempts.get(key, 0) + 1
                self._attempts[key] = attempts
                if sub.protocol in HTTP_PROTOCOLS and attempts > HTTP_RETRIES:
                    log.warning("sns: dropped %s for %s: %s", published.message_id, sub.arn, exc)
                    self._record(published.seq, sub.arn)
                    self._attempts.pop(key, None)
                    continue
                if expired:
                    log.warning("sns: dropped %s for %s: %s", published.message_id, sub.arn, exc)
                    continue
                log.info("sns: delivering %s to %s failed: %s", published.message_id, sub.arn, exc)
                delay = (
                    HTTP_RETRY_DELAY if sub.protocol in HTTP_PROTOCOLS else retry_delay(attempts)
                )
                retry = delay if retry is None else min(retry, delay)
                continue
            self._attempts.pop(key, None)
        if retry is not None:
            self._not_before[published.seq] = now + retry
            return retry
        with self.store.begin() as conn:
            conn.execute(
                sa.update(t.messages)
                .where(t.messages.c.seq == published.seq)
                .values(delivered=True)
            )
            conn.execute(sa.delete(t.deliveries).where(t.deliveries.c.message_seq == published.seq))
        self._not_before.pop(published.seq, None)
        return None

    def _record(self, seq: int, subscription_arn: str) -> None:
        with self.store.begin() as conn:
            conn.execute(
                sa.insert(t.deliveries).values(message_seq=seq, subscription_arn=subscription_arn)
            )

    def _deliver_one(self, published: Published, sub: Row[Any]) -> None:
        if sub.protocol in HTTP_PROTOCOLS:
            self._to_http(published, sub)
            self._record(published.seq, sub.arn)
            return
        lambda_target = self._lambda_target(sub) if sub.protocol == "lambda" else None
        with self.store.begin() as conn:
            if lambda_target is None:
                self._to_sqs(conn, published, sub)
            else:
                self._to_lambda(conn, published, sub, lambda_target)
            conn.execute(
                sa.insert(t.deliveries).values(message_seq=published.seq, subscription_arn=sub.arn)
            )
        if lambda_target is not None:
            lambda_target[0].dispatcher.notify()

    # --- protocols ------------------------------------------------------------------------

    def _endpoint(self) -> str:
        endpoint = str(getattr(self.platform, "endpoint_url", ""))
        return endpoint.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:")

    def _to_http(self, published: Published, sub: Row[Any]) -> None:
        raw = json.loads(sub.attributes).get("RawMessageDelivery") == "true"
        if raw:
            body = message_for(published, sub.protocol)
        else:
            body = json.dumps(notification(published, sub.protocol, sub.arn, self._endpoint()))
        headers = http_delivery.notification_headers(
            published.message_id, published.topic_arn, sub.arn
        )
        if raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        http_delivery.post(sub.endpoint, body, headers)

    def _to_sqs(self, conn: Connection, published: Published, sub: Row[Any]) -> None:
        from lambdamaker.services.sqs.provider import SqsProvider

        sqs = self.platform.providers.get("sqs")
        if not isinstance(sqs, SqsProvider):
            raise ServiceError("SQS is not running", code="InternalError", status=500)
        raw = json.loads(sub.attributes).get("RawMessageDelivery") == "true"
        if raw:
            body = message_for(published, "sqs")
            attributes = sqs_attributes(published)
        else:
            body = json.dumps(notification(published, "sqs", sub.arn, self._endpoint()))
            attributes = {}
        group_id = dedup_id = None
        if sub.endpoint.endswith(".fifo"):
            group_id = published.group_id or published.topic_arn.rsplit(":", 1)[-1]
            dedup_id = published.dedup_id or _content_dedup_id(published)
        sqs.enqueue(
            conn,
            sub.endpoint,
            body,
            message_attributes=attributes,
            group_id=group_id,
            dedup_id=dedup_id,
        )

    def _lambda_target(self, sub: Row[Any]) -> tuple[LambdaProvider, Target]:
        """The subscribed function (resolved before the delivery's transaction: the lookup
        reads the store). Raises if the function is gone, so the delivery is retried."""
        from lambdamaker.services.lambda_.provider import LambdaProvider

        lam = self.platform.providers.get("lambda")
        if not isinstance(lam, LambdaProvider):
            raise ServiceError("Lambda is not running", code="InternalError", status=500)
        name, qualifier = lam.arns.parse_function(sub.endpoint)
        return lam, lam.targets.get(name, qualifier)

    def _to_lambda(
        self,
        conn: Connection,
        published: Published,
        sub: Row[Any],
        lambda_target: tuple[LambdaProvider, Target],
    ) -> None:
        from lambdamaker.services.lambda_.tables import events

        target = lambda_target[1]
        payload = json.dumps(lambda_event(published, sub.arn, self._endpoint())).encode()
        now_ms = int(time.time() * 1000)
        conn.execute(
            sa.insert(events).values(
                request_id=str(uuid.uuid4()),
                function_name=target.name,
                qualifier=target.qualifier,
                invoked_arn=target.invoked_arn,
                payload=payload,
                created_ms=now_ms,
                attempts=0,
                next_attempt_ms=now_ms,
                lease_until_ms=0,
            )
        )
