"""Targets of rules: PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget.
A request is validated whole before anything is written (ARNs, Input JSON, InputPath and
InputTransformer compiled by ``engines.events.transform``, the DLQ an SQS queue, FIFO queues
and topics given a MessageGroupId), so a bad target changes nothing; a rule holds at most five targets, as in AWS. Delivery is the
dispatcher's (``dispatch``, ``routing``); changes reach it through ``rules_changed``."""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from lambdamaker.engines.events.transform import InputTransformer, JsonPath, TransformError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.events import tables as t
from lambdamaker.services.events.base import EventsBase
from lambdamaker.services.events.buses import bus_exists
from lambdamaker.services.events.common import (
    MAX_TARGETS_PER_RULE,
    EventsValidationError,
    LimitExceededError,
    bus_name_of,
    bus_not_found,
    decode_token,
    encode_token,
    is_valid_arn,
    page_limit,
)
from lambdamaker.services.events.rules import require_rule

_TARGET_ID = re.compile(r"[\w.\-]{1,64}")


def _check_target(target: dict[str, Any]) -> None:
    tid, arn = target["Id"], target["Arn"]
    if _TARGET_ID.fullmatch(tid) is None:
        raise EventsValidationError(
            f"1 validation error detected: Value '{tid}' at 'targets.1.member.id' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
        )
    if not is_valid_arn(arn):
        raise EventsValidationError(
            f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
        )
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        raise EventsValidationError(
            "Only one of Input, InputPath, or InputTransformer must be provided."
        )
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError as exc:
            raise EventsValidationError("Input is not valid JSON.") from exc
    try:
        if target.get("InputPath") is not None:
            JsonPath.compile(target["InputPath"])
        spec = target.get("InputTransformer")
        if spec is not None:
            InputTransformer.compile(spec.get("InputPathsMap"), spec["InputTemplate"])
    except TransformError as exc:
        raise EventsValidationError(f"Target {tid} is not valid: {exc}") from exc
    dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None and (not is_valid_arn(dlq) or dlq.split(":")[2] != "sqs"):
        raise EventsValidationError(
            f"Parameter {dlq} is not valid. Reason: DeadLetterConfig Arn must be an SQS queue."
        )
    fifo_queue = arn.split(":")[2] in ("sqs", "sns") and arn.endswith(".fifo")
    if fifo_queue and not (target.get("SqsParameters") or {}).get("MessageGroupId"):
        raise EventsValidationError(
            f"Parameter(s) SqsParameters must be specified for target: {tid}."
        )


class TargetOperations(EventsBase):
    def _targets_where(self, ctx: RequestContext, bus: str, rule: str) -> Any:
        return sa.and_(
            t.targets.c.account == ctx.account_id,
            t.targets.c.region == ctx.region,
            t.targets.c.bus == bus,
            t.targets.c.rule == rule,
        )

    def put_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        rule = params["Rule"]
        new = {target["Id"]: target for target in params["Targets"]}
        for target in new.values():
            _check_target(target)
        where = self._targets_where(ctx, bus, rule)
        with self.platform.store.begin() as conn:
            require_rule(conn, ctx, bus, rule)
            have = {
                r.target_id for r in conn.execute(sa.select(t.targets.c.target_id).where(where))
            }
            if len(have | set(new)) > MAX_TARGETS_PER_RULE:
                raise LimitExceededError(
                    "The requested resource exceeds the maximum number allowed."
                )
            conn.execute(sa.delete(t.targets).where(where, t.targets.c.target_id.in_(list(new))))
            conn.execute(
                sa.insert(t.targets),
                [
                    {
                        "account": ctx.account_id,
                        "region": ctx.region,
                        "bus": bus,
                        "rule": rule,
                        "target_id": tid,
                        "arn": target["Arn"],
                        "document": json.dumps(target, sort_keys=True),
                    }
                    for tid, target in new.items()
                ],
            )
            self.rules_changed(conn)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def remove_targets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        rule = params["Rule"]
        where = self._targets_where(ctx, bus, rule)
        with self.platform.store.begin() as conn:
            require_rule(conn, ctx, bus, rule)
            conn.execute(
                sa.delete(t.targets).where(where, t.targets.c.target_id.in_(params["Ids"]))
            )
            self.rules_changed(conn)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        rule = params["Rule"]
        limit = page_limit(params)
        query = sa.select(t.targets).where(self._targets_where(ctx, bus, rule))
        token = params.get("NextToken")
        if token:
            query = query.where(t.targets.c.target_id > decode_token(token))
        with self.platform.store.read() as conn:
            require_rule(conn, ctx, bus, rule)
            rows = list(conn.execute(query.order_by(t.targets.c.target_id).limit(limit + 1)))
        out: dict[str, Any] = {"Targets": [json.loads(r.document) for r in rows[:limit]]}
        if len(rows) > limit:
            out["NextToken"] = encode_token(rows[limit - 1].target_id)
        return out

    def list_rule_names_by_target(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        limit = page_limit(params)
        query = sa.select(sa.distinct(t.targets.c.rule)).where(
            t.targets.c.account == ctx.account_id,
            t.targets.c.region == ctx.region,
            t.targets.c.bus == bus,
            t.targets.c.arn == params["TargetArn"],
        )
        token = params.get("NextToken")
        if token:
            query = query.where(t.targets.c.rule > decode_token(token))
        with self.platform.store.read() as conn:
            if not bus_exists(conn, ctx, bus):
                raise bus_not_found(bus)
            names = list(conn.execute(query.order_by(t.targets.c.rule).limit(limit + 1)).scalars())
        out: dict[str, Any] = {"RuleNames": names[:limit]}
        if len(names) > limit:
            out["NextToken"] = encode_token(names[limit - 1])
        return out
