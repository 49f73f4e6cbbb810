"""What SNS's operation modules share: errors, ARNs, attribute encoding and paging.

SNS is a query service: errors are ``InvalidParameter`` (400), ``NotFound`` (404) and friends,
with messages beginning ``Invalid parameter: `` as SNS words them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.sns import tables as t

PAGE_SIZE = 100
_TOPIC_ARN = re.compile(r"^arn:aws[\w-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")


def invalid(message: str) -> ServiceError:
    return ServiceError(f"Invalid parameter: {message}", code="InvalidParameter", status=400)


def not_found(message: str) -> ServiceError:
    return ServiceError(message, code="NotFound", status=404)


def topic_arn(ctx: RequestContext, name: str) -> str:
    return f"arn:aws:sns:{ctx.region}:{ctx.account_id}:{name}"


def check_topic_arn(arn: Any, what: str = "TopicArn") -> str:
    if not isinstance(arn, str) or not _TOPIC_ARN.match(arn):
        raise invalid(what)
    return arn


def load_attributes(row: Row[Any]) -> dict[str, str]:
    attributes: dict[str, str] = json.loads(row.attributes)
    return attributes


def dump_attributes(attributes: dict[str, str]) -> str:
    return json.dumps(attributes, sort_keys=True)


def bool_text(value: str) -> str | None:
    """SNS's boolean attribute values: ``true``/``false`` in any case, else ``None``."""
    lowered = value.strip().lower()
    return lowered if lowered in ("true", "false") else None


def page_after(params: dict[str, Any]) -> str:
    token = params.get("NextToken")
    return token if isinstance(token, str) else ""


class SnsBase(Provider):
    """Lookups shared by the operation mixins."""

    def _topic(self, conn: Connection, ctx: RequestContext, arn: str) -> Row[Any]:
        row = conn.execute(sa.select(t.topics).where(t.topics.c.arn == arn)).first()
        if row is None or row.account_id != ctx.account_id or row.region != ctx.region:
            raise not_found("Topic does not exist")
        return row

    def _subscription(self, conn: Connection, ctx: RequestContext, arn: Any) -> Row[Any]:
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise invalid("SubscriptionArn")
        row = conn.execute(sa.select(t.subscriptions).where(t.subscriptions.c.arn == arn)).first()
        if row is None or row.account_id != ctx.account_id or row.region != ctx.region:
            raise not_found("Subscription does not exist")
        return row
