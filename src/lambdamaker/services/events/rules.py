"""Rules: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule, and
TestEventPattern. A pattern is validated (compiled) before any row is written; a schedule is
accepted only on the default bus; a rule with targets can't be deleted."""

from __future__ import annotations

import re
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.events.patterns import loads
from lambdamaker.services.base import RequestContext
from lambdamaker.services.events import tables as t
from lambdamaker.services.events.base import EventsBase
from lambdamaker.services.events.buses import bus_exists
from lambdamaker.services.events.common import (
    DEFAULT_BUS,
    EventsValidationError,
    InvalidPatternError,
    bus_name_of,
    bus_not_found,
    check_schedule,
    compile_pattern,
    decode_token,
    encode_token,
    page_limit,
    rule_arn,
    rule_not_found,
)

_RULE_NAME = re.compile(r"[\w.\-]{1,64}")
_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def rule_where(ctx: RequestContext, bus: str, name: str) -> Any:
    return sa.and_(
        t.rules.c.account == ctx.account_id,
        t.rules.c.region == ctx.region,
        t.rules.c.bus == bus,
        t.rules.c.name == name,
    )


def require_rule(conn: Connection, ctx: RequestContext, bus: str, name: str) -> Any:
    row = conn.execute(sa.select(t.rules).where(rule_where(ctx, bus, name))).first()
    if row is None:
        raise rule_not_found(name, bus)
    return row._mapping


def _rule_shape(row: Any, *, brief: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": row["name"], "Arn": row["arn"]}
    if row["event_pattern"] is not None:
        out["EventPattern"] = row["event_pattern"]
    if row["schedule"] is not None:
        out["ScheduleExpression"] = row["schedule"]
    out["State"] = row["state"]
    if row["description"] is not None:
        out["Description"] = row["description"]
    if row["role_arn"] is not None:
        out["RoleArn"] = row["role_arn"]
    out["EventBusName"] = row["bus"]
    if not brief:
        out["CreatedBy"] = row["account"]
    return out


class RuleOperations(EventsBase):
    def put_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if _RULE_NAME.fullmatch(name) is None:
            raise EventsValidationError(
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
            )
        bus = bus_name_of(ctx, params.get("EventBusName"))
        pattern, schedule = params.get("EventPattern"), params.get("ScheduleExpression")
        if not pattern and not schedule:
            raise EventsValidationError(
                "Parameter(s) EventPattern or ScheduleExpression must be specified."
            )
        if pattern:
            compile_pattern(pattern)
        if schedule:
            if bus != DEFAULT_BUS:
                raise EventsValidationError(
                    "ScheduleExpression is supported only on the default event bus."
                )
            check_schedule(schedule)
        state = params.get("State") or "ENABLED"
        if state not in _STATES:
            raise EventsValidationError(f"Parameter State is not valid: {state}")
        arn = rule_arn(ctx, bus, name)
        values = {
            "event_pattern": pattern or None, "schedule": schedule or None, "state": state,
            "description": params.get("Description"), "role_arn": params.get("RoleArn"),
        }  # fmt: skip
        with self.platform.store.begin() as conn:
            if not bus_exists(conn, ctx, bus):
                raise bus_not_found(bus)
            done = conn.execute(sa.update(t.rules).where(rule_where(ctx, bus, name)).values(values))
            if done.rowcount == 0:
                conn.execute(
                    sa.insert(t.rules).values(
                        account=ctx.account_id,
                        region=ctx.region,
                        bus=bus,
                        name=name,
                        arn=arn,
                        created_at=time.time(),
                        **values,
                    )
                )
            self.rules_changed(conn)
        return {"RuleArn": arn}

    def describe_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        with self.platform.store.read() as conn:
            return _rule_shape(require_rule(conn, ctx, bus, params["Name"]))

    def list_rules(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        prefix = params.get("NamePrefix") or ""
        limit = page_limit(params)
        token = params.get("NextToken")
        query = sa.select(t.rules).where(
            t.rules.c.account == ctx.account_id,
            t.rules.c.region == ctx.region,
            t.rules.c.bus == bus,
        )
        if prefix:
            query = query.where(t.rules.c.name.startswith(prefix, autoescape=True))
        if token:
            query = query.where(t.rules.c.name > decode_token(token))
        with self.platform.store.read() as conn:
            if not bus_exists(conn, ctx, bus):
                raise bus_not_found(bus)
            rows = [
                r._mapping for r in conn.execute(query.order_by(t.rules.c.name).limit(limit + 1))
            ]
        out: dict[str, Any] = {"Rules": [_rule_shape(r, brief=True) for r in rows[:limit]]}
        if len(rows) > limit:
            out["NextToken"] = encode_token(rows[limit - 1]["name"])
        return out

    def delete_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        name = params["Name"]
        with self.platform.store.begin() as conn:
            has_targets = conn.execute(
                sa.select(t.targets.c.target_id)
                .where(
                    t.targets.c.account == ctx.account_id,
                    t.targets.c.region == ctx.region,
                    t.targets.c.bus == bus,
                    t.targets.c.rule == name,
                )
                .limit(1)
            ).first()
            if has_targets is not None:
                raise EventsValidationError("Rule can't be deleted since it has targets.")
            # AWS answers 200 for a rule that doesn't exist.
            conn.execute(sa.delete(t.rules).where(rule_where(ctx, bus, name)))
            self.rules_changed(conn)
        return {}

    def enable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_state(ctx, params, "ENABLED")

    def disable_rule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._set_state(ctx, params, "DISABLED")

    def _set_state(self, ctx: RequestContext, params: dict[str, Any], state: str) -> dict[str, Any]:
        bus = bus_name_of(ctx, params.get("EventBusName"))
        name = params["Name"]
        with self.platform.store.begin() as conn:
            require_rule(conn, ctx, bus, name)
            conn.execute(sa.update(t.rules).where(rule_where(ctx, bus, name)).values(state=state))
            self.rules_changed(conn)
        return {}

    def test_event_pattern(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pattern = compile_pattern(params["EventPattern"])
        try:
            event = loads(params["Event"])
        except ValueError as exc:
            raise InvalidPatternError(f"Event is not valid. Reason: {exc}") from exc
        if not isinstance(event, dict) or any(f not in event for f in REQUIRED_EVENT_FIELDS):
            raise InvalidPatternError(
                "Event is not valid. Reason: Provided JSON must contain the following fields: "
                + ", ".join(REQUIRED_EVENT_FIELDS)
            )
        return {"Result": pattern.matches(event)}
