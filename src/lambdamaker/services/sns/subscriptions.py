"""Subscriptions: Subscribe, ConfirmSubscription, Unsubscribe, the two listings, and
Get/SetSubscriptionAttributes with validated filter policies.

Invariants:
- Supported protocols are ``lambda``, ``sqs``, ``http`` and ``https``; an endpoint must be of
  its protocol's kind (a Lambda or SQS ARN, an http(s) URL).
- Subscribe is idempotent per (topic, protocol, endpoint): the same attributes return the same
  ARN; different ones are ``InvalidParameter``.
- http/https subscriptions start pending with a confirmation token (the SubscriptionConfirmation
  handshake sends it to the endpoint; delivery does that); Subscribe answers
  ``pending confirmation`` unless ``ReturnSubscriptionArn`` is set, and the listings show
  ``PendingConfirmation`` in place of their ARN.
- A stored FilterPolicy always parses under the stored FilterPolicyScope: both attributes are
  validated together on every change.
- A stored RedrivePolicy is a JSON object whose ``deadLetterTargetArn`` is an SQS queue ARN
  (the queue need not exist yet: delivery finds out); an empty value removes it.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from lambdamaker.engines.events.filter_policy import SCOPES, FilterPolicyError, parse_filter_policy
from lambdamaker.services.base import RequestContext
from lambdamaker.services.sns import tables as t
from lambdamaker.services.sns.common import (
    PAGE_SIZE,
    SnsBase,
    bool_text,
    check_topic_arn,
    dump_attributes,
    invalid,
    load_attributes,
    page_after,
)
from lambdamaker.services.sns.delivery import Delivery

PROTOCOLS = ("lambda", "sqs", "http", "https")
SUBSCRIPTION_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
    }
)
_LAMBDA_ARN = re.compile(r"^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$")
_SQS_ARN = re.compile(r"^arn:aws[\w-]*:sqs:[a-z0-9-]+:\d{12}:[\w.-]+$")


def _check_endpoint(protocol: str, endpoint: str) -> None:
    if protocol == "lambda" and not _LAMBDA_ARN.match(endpoint):
        raise invalid("Lambda endpoint ARN")
    if protocol == "sqs" and not _SQS_ARN.match(endpoint):
        raise invalid("SQS endpoint ARN")
    if protocol in ("http", "https") and not endpoint.lower().startswith(f"{protocol}://"):
        raise invalid("Endpoint must match the specified protocol")


def _check_redrive_policy(text: str, prefix: str) -> None:
    """SNS's checks (and words): JSON, then an ARN; SNS's dead-letter queues are SQS queues."""
    try:
        policy = json.loads(text)
    except ValueError:
        raise invalid(f"{prefix}RedrivePolicy: failed to parse JSON.") from None
    target = policy.get("deadLetterTargetArn") if isinstance(policy, dict) else None
    if not isinstance(target, str) or not _SQS_ARN.match(target):
        raise invalid(f"{prefix}RedrivePolicy: deadLetterTargetArn is an invalid arn")


def _checked(attributes: dict[str, str], prefix: str) -> dict[str, str]:
    """Validate subscription attributes as a whole; return them normalized for storage."""
    out = dict(attributes)
    raw = out.get("RawMessageDelivery")
    if raw is not None:
        flag = bool_text(raw)
        if flag is None:
            raise invalid(
                f"{prefix}RawMessageDelivery: Invalid value [{raw}]. Must be true or false."
            )
        out["RawMessageDelivery"] = flag
    scope = out.get("FilterPolicyScope")
    if scope is not None and scope not in SCOPES:
        raise invalid(
            f"{prefix}FilterPolicyScope: Invalid value [{scope}]. "
            "Please use either MessageBody or MessageAttributes"
        )
    policy = out.get("FilterPolicy")
    if policy:
        try:
            parse_filter_policy(policy, scope or "MessageAttributes")
        except FilterPolicyError as exc:
            raise invalid(f"{prefix}{exc}") from None
    elif policy == "":
        del out["FilterPolicy"]
    redrive = out.get("RedrivePolicy")
    if redrive:
        _check_redrive_policy(redrive, prefix)
    elif redrive == "":
        del out["RedrivePolicy"]
    return out


def _listed(row: Row[Any]) -> dict[str, str]:
    return {
        "SubscriptionArn": "PendingConfirmation" if row.pending else row.arn,
        "Owner": row.account_id,
        "Protocol": row.protocol,
        "Endpoint": row.endpoint,
        "TopicArn": row.topic_arn,
    }


class SubscriptionOperations(SnsBase):
    delivery: Delivery

    def subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = check_topic_arn(params["TopicArn"])
        protocol = str(params["Protocol"]).lower()
        endpoint = params.get("Endpoint") or ""
        if protocol not in PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {params['Protocol']}")
        _check_endpoint(protocol, endpoint)
        given: dict[str, str] = dict(params.get("Attributes") or {})
        for key in given:
            if key not in SUBSCRIPTION_ATTRIBUTES:
                raise invalid(f"Attributes Reason: Unknown attribute {key}")
        attributes = _checked(given, "Attributes Reason: ")
        pending = protocol in ("http", "https")
        with self.platform.store.begin() as conn:
            topic = self._topic(conn, ctx, arn)
            if topic.fifo and protocol != "sqs":
                raise invalid(f"Invalid protocol type: {protocol}")
            existing = conn.execute(
                sa.select(t.subscriptions).where(
                    t.subscriptions.c.topic_arn == arn,
                    t.subscriptions.c.protocol == protocol,
                    t.subscriptions.c.endpoint == endpoint,
                )
            ).first()
            if existing is not None:
                if load_attributes(existing) != attributes and attributes:
                    raise invalid(
                        "Attributes Reason: Subscription already exists with different attributes"
                    )
                sub_arn, pending = existing.arn, existing.pending
            else:
                sub_arn = f"{arn}:{uuid.uuid4()}"
                conn.execute(
                    sa.insert(t.subscriptions).values(
                        arn=sub_arn,
                        topic_arn=arn,
                        account_id=ctx.account_id,
                        region=ctx.region,
                        protocol=protocol,
                        endpoint=endpoint,
                        attributes=dump_attributes(attributes),
                        pending=pending,
                        token=secrets.token_hex(64) if pending else None,
                        created_at=time.time(),
                    )
                )
        if pending and existing is None:
            self.delivery.request_confirmation(sub_arn)
        if pending and not params.get("ReturnSubscriptionArn"):
            return {"SubscriptionArn": "pending confirmation"}
        return {"SubscriptionArn": sub_arn}

    def confirm_subscription(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = check_topic_arn(params["TopicArn"])
        token = params["Token"]
        with self.platform.store.begin() as conn:
            self._topic(conn, ctx, arn)
            row = conn.execute(
                sa.select(t.subscriptions).where(
                    t.subscriptions.c.topic_arn == arn, t.subscriptions.c.token == token
                )
            ).first()
            if row is None:
                raise invalid("Token")
            conn.execute(
                sa.update(t.subscriptions)
                .where(t.subscriptions.c.arn == row.arn)
                .values(pending=False, token=None)
            )
        return {"SubscriptionArn": row.arn}

    def unsubscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.platform.store.begin() as conn:
            row = self._subscription(conn, ctx, params["SubscriptionArn"])
            conn.execute(sa.delete(t.subscriptions).where(t.subscriptions.c.arn == row.arn))
        return {}

    def list_subscriptions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._list(ctx, params, None)

    def list_subscriptions_by_topic(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._list(ctx, params, check_topic_arn(params["TopicArn"]))

    def _list(
        self, ctx: RequestContext, params: dict[str, Any], topic: str | None
    ) -> dict[str, Any]:
        s = t.subscriptions
        query = (
            sa.select(s)
            .where(s.c.account_id == ctx.account_id, s.c.region == ctx.region)
            .where(s.c.arn > page_after(params))
            .order_by(s.c.arn)
            .limit(PAGE_SIZE + 1)
        )
        with self.platform.store.read() as conn:
            if topic is not None:
                self._topic(conn, ctx, topic)
                query = query.where(s.c.topic_arn == topic)
            rows = conn.execute(query).all()
        out: dict[str, Any] = {"Subscriptions": [_listed(r) for r in rows[:PAGE_SIZE]]}
        if len(rows) > PAGE_SIZE:
            out["NextToken"] = rows[PAGE_SIZE - 1].arn
        return out

    def get_subscription_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            row = self._subscription(conn, ctx, params["SubscriptionArn"])
        stored = load_attributes(row)
        attributes = {
            "SubscriptionArn": row.arn,
            "TopicArn": row.topic_arn,
            "Owner": row.account_id,
            "Protocol": row.protocol,
            "Endpoint": row.endpoint,
            "ConfirmationWasAuthenticated": "false" if row.pending else "true",
            "PendingConfirmation": "true" if row.pending else "false",
            "RawMessageDelivery": "false",
            "SubscriptionPrincipal": f"arn:aws:iam::{row.account_id}:root",
        }
        attributes.update(stored)
        if "FilterPolicy" in stored:
            attributes.setdefault("FilterPolicyScope", "MessageAttributes")
        else:
            attributes.pop("FilterPolicyScope", None)
        return {"Attributes": attributes}

    def set_subscription_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params["AttributeName"]
        value = params.get("AttributeValue")
        if name not in SUBSCRIPTION_ATTRIBUTES:
            raise invalid("AttributeName")
        with self.platform.store.begin() as conn:
            row = self._subscription(conn, ctx, params["SubscriptionArn"])
            attributes = load_attributes(row)
            attributes[name] = value or ""
            if name == "RawMessageDelivery" and row.protocol not in ("sqs", "http", "https"):
                raise invalid(
                    f"Delivery protocol [{row.protocol}] does not support raw message delivery."
                )
            attributes = _checked(attributes, "")
            conn.execute(
                sa.update(t.subscriptions)
                .where(t.subscriptions.c.arn == row.arn)
                .values(attributes=dump_attributes(attributes))
            )
        return {}
