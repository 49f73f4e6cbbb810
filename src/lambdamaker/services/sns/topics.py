"""Topics: CreateTopic (standard and FIFO), DeleteTopic, ListTopics, Get/SetTopicAttributes.

CreateTopic is idempotent: the same name with the same attributes returns the existing ARN;
different attributes are ``InvalidParameter``. A FIFO topic's name ends in ``.fifo`` and it has
``FifoTopic=true``; either without the other is refused. DeleteTopic of a missing topic
succeeds, as in SNS, and removes the topic's subscriptions and tags with it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import sqlalchemy as sa

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
    topic_arn,
)
from lambdamaker.services.sns.tags import check_tags

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
CREATE_ATTRIBUTES = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "FifoTopic",
        "Policy",
        "SignatureVersion",
        "TracingConfig",
        "KmsMasterKeyId",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "FifoThroughputScope",
    }
)
SETTABLE_ATTRIBUTES = CREATE_ATTRIBUTES - {"FifoTopic"}
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope"})
DEFAULT_DELIVERY_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    }
}


def default_policy(arn: str, account_id: str) -> str:
    actions = [
        "SNS:GetTopicAttributes",
        "SNS:SetTopicAttributes",
        "SNS:AddPermission",
        "SNS:RemovePermission",
        "SNS:DeleteTopic",
        "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic",
        "SNS:Publish",
    ]
    statement = {
        "Sid": "__default_statement_ID",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": actions,
        "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": account_id}},
    }
    return json.dumps(
        {"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [statement]},
        separators=(",", ":"),
    )


def _check_attribute(name: str, value: str, fifo: bool, prefix: str) -> str:
    """Validate one topic attribute; return the value to store."""
    if name in FIFO_ONLY and not fifo:
        raise invalid(f"{prefix}{name}: only applies to FIFO topics")
    if name in ("FifoTopic", "ContentBasedDeduplication"):
        flag = bool_text(value)
        if flag is None:
            raise invalid(f"{prefix}{name}: Invalid value [{value}]. Must be true or false.")
        return flag
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy") and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise invalid(f"{prefix}{name}: failed to parse JSON.")
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid(f"{prefix}SignatureVersion: Invalid value [{value}]. Must be 1 or 2.")
    if name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid(f"{prefix}TracingConfig: Invalid value [{value}].")
    return value


class TopicOperations(SnsBase):
    def create_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        given: dict[str, str] = dict(params.get("Attributes") or {})
        for key in given:
            if key not in CREATE_ATTRIBUTES:
                raise invalid(f"Attributes Reason: Unknown attribute {key}")
        fifo_flag = bool_text(given.get("FifoTopic", "false"))
        if fifo_flag is None:
            raise invalid("Attributes Reason: FifoTopic: Invalid value. Must be true or false.")
        fifo = fifo_flag == "true"
        if fifo and not _FIFO_NAME.match(name):
            raise invalid(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
                "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between "
                "1 and 256 characters long."
            )
        if not fifo and not _NAME.match(name):
            raise invalid("Topic Name")
        attributes = {
            key: _check_attribute(key, value, fifo, "Attributes Reason: ")
            for key, value in given.items()
        }
        attributes["FifoTopic"] = fifo_flag
        if fifo:
            attributes.setdefault("ContentBasedDeduplication", "false")
        tags = check_tags(params.get("Tags") or [])
        arn = topic_arn(ctx, name)
        with self.platform.store.begin() as conn:
            row = conn.execute(sa.select(t.topics).where(t.topics.c.arn == arn)).first()
            if row is not None:
                stored = load_attributes(row)
                if any(stored.get(k) != v for k, v in attributes.items()):
                    raise invalid(
                        "Attributes Reason: Topic already exists with different attributes"
                    )
                have = {
                    r.key: r.value
                    for r in conn.execute(sa.select(t.tags).where(t.tags.c.resource_arn == arn))
                }
                if any(have.get(k) != v for k, v in tags):
                    raise invalid("Tags Reason: Topic already exists with different tags")
                return {"TopicArn": arn}
            conn.execute(
                sa.insert(t.topics).values(
                    arn=arn,
                    account_id=ctx.account_id,
                    region=ctx.region,
                    name=name,
                    fifo=fifo,
                    attributes=dump_attributes(attributes),
                    created_at=time.time(),
                )
            )
            for key, value in tags:
                conn.execute(sa.insert(t.tags).values(resource_arn=arn, key=key, value=value))
        return {"TopicArn": arn}

    def delete_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = check_topic_arn(params["TopicArn"])
        with self.platform.store.begin() as conn:
            row = conn.execute(sa.select(t.topics).where(t.topics.c.arn == arn)).first()
            if row is None or row.account_id != ctx.account_id or row.region != ctx.region:
                return {}
            conn.execute(sa.delete(t.subscriptions).where(t.subscriptions.c.topic_arn == arn))
            conn.execute(sa.delete(t.tags).where(t.tags.c.resource_arn == arn))
            conn.execute(sa.delete(t.topics).where(t.topics.c.arn == arn))
        return {}

    def list_topics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        after = page_after(params)
        with self.platform.store.read() as conn:
            arns = list(
                conn.execute(
                    sa.select(t.topics.c.arn)
                    .where(
                        t.topics.c.account_id == ctx.account_id,
                        t.topics.c.region == ctx.region,
                        t.topics.c.arn > after,
                    )
                    .order_by(t.topics.c.arn)
                    .limit(PAGE_SIZE + 1)
                ).scalars()
            )
        out: dict[str, Any] = {"Topics": [{"TopicArn": a} for a in arns[:PAGE_SIZE]]}
        if len(arns) > PAGE_SIZE:
            out["NextToken"] = arns[PAGE_SIZE - 1]
        return out

    def get_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = check_topic_arn(params["TopicArn"])
        with self.platform.store.read() as conn:
            row = self._topic(conn, ctx, arn)
            counts: dict[bool, int] = dict(
                conn.execute(
                    sa.select(t.subscriptions.c.pending, sa.func.count())
                    .where(t.subscriptions.c.topic_arn == arn)
                    .group_by(t.subscriptions.c.pending)
                ).all()
            )
        stored = load_attributes(row)
        attributes = {
            "TopicArn": arn,
            "Owner": row.account_id,
            "Policy": default_policy(arn, row.account_id),
            "DisplayName": "",
            "SubscriptionsConfirmed": str(counts.get(False, 0)),
            "SubscriptionsPending": str(counts.get(True, 0)),
            "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": json.dumps(DEFAULT_DELIVERY_POLICY),
        }
        attributes.update({k: v for k, v in stored.items() if v != "" or k == "DisplayName"})
        if stored.get("DeliveryPolicy"):
            attributes["EffectiveDeliveryPolicy"] = stored["DeliveryPolicy"]
        if not row.fifo:
            attributes.pop("FifoTopic", None)
        return {"Attributes": attributes}

    def set_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = check_topic_arn(params["TopicArn"])
        name = params["AttributeName"]
        value = params.get("AttributeValue") or ""
        if name not in SETTABLE_ATTRIBUTES:
            raise invalid("AttributeName")
        with self.platform.store.begin() as conn:
            row = self._topic(conn, ctx, arn)
            attributes = load_attributes(row)
            attributes[name] = _check_attribute(name, value, row.fifo, "")
            conn.execute(
                sa.update(t.topics)
                .where(t.topics.c.arn == arn)
                .values(attributes=dump_attributes(attributes))
            )
        return {}
