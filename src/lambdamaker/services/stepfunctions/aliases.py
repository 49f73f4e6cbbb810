"""State machine aliases: Create/Update/Delete/Describe/ListStateMachineAliases.

Invariants:
- an alias routes to one or two distinct, existing versions of one state machine, with integer
  weights summing to 100 (checked on every write, before anything is written);
- its ARN is ``<state machine ARN>:<alias name>``; creating it again with the same routing and
  description is idempotent, with anything else a ConflictException;
- at most ``MAX_ALIASES`` aliases per state machine (ServiceQuotaExceededException);
- deleting an alias that does not exist succeeds; updating or describing one is
  ResourceNotFound.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.errors import ServiceError
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.stepfunctions import tables as t
from lambdamaker.services.stepfunctions.common import (
    conflict,
    dumps,
    name_after,
    once_more_on_conflict,
    owned,
    page,
    page_size,
    parse_arn,
    resource_not_found,
    sfn_error,
    state_machine_not_found,
    validation,
)
from lambdamaker.services.stepfunctions.machines import (
    alias_row,
    machine_row,
    timestamp,
    version_row,
)

MAX_ALIASES = 100
_ROUTING = "INVALID_ROUTING_CONFIGURATION"


def _routing(ctx: RequestContext, conn: Connection, routing: list[dict[str, Any]]) -> str:
    """Check a routing configuration; returns its state machine's ARN."""
    arns = [r["stateMachineVersionArn"] for r in routing]
    listed = f"[{', '.join(arns)}]"
    if len(set(arns)) != len(arns):
        raise validation(
            "Routing configuration must contain distinct state machine version ARNs. "
            f"Received: {listed}",
            _ROUTING,
        )
    weights = [r["weight"] for r in routing]
    if sum(weights) != 100:
        raise validation(
            f"Sum of routing configuration weights must equal 100. Received: {json.dumps(weights)}",
            _ROUTING,
        )
    parsed = []
    for arn in arns:
        try:
            p = parse_arn(arn)
        except ServiceError:
            p = None
        if p is None or p.version is None:
            raise validation(
                f"Routing configuration must contain state machine version ARNs. Received: {listed}",
                _ROUTING,
            )
        parsed.append(p)
    if len({p.base for p in parsed}) != 1:
        raise validation(
            "Routing configuration must contain state machine version ARNs of the same state "
            f"machine. Received: {listed}",
            _ROUTING,
        )
    for arn, p in zip(arns, parsed, strict=True):
        if not owned(ctx, p) or version_row(conn, p.base, p.version or 0) is None:
            raise resource_not_found(arn)
    return parsed[0].base


def _alias_of_arn(ctx: RequestContext, conn: Connection, arn: str) -> Row[Any]:
    parsed = parse_arn(arn)
    if parsed.alias is None:
        raise sfn_error("InvalidArn", f"Invalid Arn: '{arn}'")
    row = alias_row(conn, parsed.base, parsed.alias) if owned(ctx, parsed) else None
    if row is None:
        raise sfn_error(
            "ResourceNotFound",
            "Request references a resource that does not exist.",
            resourceName=arn,
        )
    return row


def _shape(row: Row[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stateMachineAliasArn": row.arn,
        "name": row.name,
        "routingConfiguration": json.loads(row.routing),
        "creationDate": timestamp(row.created_at),
        "updateDate": timestamp(row.updated_at),
    }
    if row.description is not None:
        out["description"] = row.description
    return out


def _canonical(routing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"stateMachineVersionArn": r["stateMachineVersionArn"], "weight": int(r["weight"])}
        for r in routing
    ]


class AliasOperations(Provider):
    def create_state_machine_alias(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params["name"]
        routing = _canonical(params["routingConfiguration"])
        description = params.get("description")
        now = time.time()

        def attempt() -> dict[str, Any]:
            with self.platform.store.begin() as conn:
                machine_arn = _routing(ctx, conn, routing)
                arn = f"{machine_arn}:{name}"
                existing = alias_row(conn, machine_arn, name)
                if existing is not None:
                    if (
                        json.loads(existing.routing) == routing
                        and existing.description == description
                    ):
                        return {
                            "stateMachineAliasArn": arn,
                            "creationDate": timestamp(existing.created_at),
                        }
                    raise conflict(
                        "Failed to create alias because an alias with the same name and a "
                        "different routing configuration already exists."
                    )
                count = conn.execute(
                    sa.select(sa.func.count()).where(t.aliases.c.state_machine_arn == machine_arn)
                ).scalar_one()
                if count >= MAX_ALIASES:
                    raise sfn_error(
                        "ServiceQuotaExceededException",
                        f"Maximum number of aliases ({MAX_ALIASES}) reached for state machine "
                        f"'{machine_arn}'.",
                    )
                conn.execute(
                    sa.insert(t.aliases).values(
                        state_machine_arn=machine_arn,
                        name=name,
                        arn=arn,
                        description=description,
                        routing=dumps(routing),
                        created_at=now,
                        updated_at=now,
                    )
                )
            return {"stateMachineAliasArn": arn, "creationDate": timestamp(now)}

        return once_more_on_conflict(attempt)

    def update_state_machine_alias(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        description = params.get("description")
        routing = params.get("routingConfiguration")
        if description is None and routing is None:
            raise validation(
                "Either the description or the RoutingConfiguration must be specified",
                "MISSING_REQUIRED_PARAMETER",
            )
        now = time.time()
        with self.platform.store.begin() as conn:
            row = _alias_of_arn(ctx, conn, params["stateMachineAliasArn"])
            values: dict[str, Any] = {"updated_at": now}
            if routing is not None:
                routing = _canonical(routing)
                if _routing(ctx, conn, routing) != row.state_machine_arn:
                    raise validation(
                        "Routing configuration must contain versions of the alias's state machine.",
                        _ROUTING,
                    )
                values["routing"] = dumps(routing)
            if description is not None:
                values["description"] = description
            conn.execute(sa.update(t.aliases).where(t.aliases.c.arn == row.arn).values(**values))
        return {"updateDate": timestamp(now)}

    def delete_state_machine_alias(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        # Deleting an alias that does not exist succeeds, as on AWS.
        arn = params["stateMachineAliasArn"]
        parsed = parse_arn(arn)
        if parsed.alias is None:
            raise sfn_error("InvalidArn", f"Invalid Arn: '{arn}'")
        if owned(ctx, parsed):
            with self.platform.store.begin() as conn:
                conn.execute(sa.delete(t.aliases).where(t.aliases.c.arn == arn))
        return {}

    def describe_state_machine_alias(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.platform.store.read() as conn:
            return _shape(_alias_of_arn(ctx, conn, params["stateMachineAliasArn"]))

    def list_state_machine_aliases(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        parsed = parse_arn(arn)
        if parsed.alias is not None:
            raise sfn_error("InvalidArn", f"Invalid Arn: '{arn}'")
        limit = page_size(params)
        after = name_after(params)
        with self.platform.store.read() as conn:
            if not owned(ctx, parsed) or machine_row(conn, parsed.base) is None:
                raise state_machine_not_found(arn)
            if (
                parsed.version is not None
                and version_row(conn, parsed.base, parsed.version) is None
            ):
                raise resource_not_found(arn)
            query = (
                sa.select(t.aliases)
                .where(t.aliases.c.state_machine_arn == parsed.base)
                .order_by(t.aliases.c.name)
            )
            if after is not None:
                query = query.where(t.aliases.c.name > after)
            rows = [
                row
                for row in conn.execute(query)
                if parsed.version is None
                or any(r["stateMachineVersionArn"] == arn for r in json.loads(row.routing))
            ]
        return page(
            rows,
            limit,
            "stateMachineAliases",
            lambda r: {"stateMachineAliasArn": r.arn, "creationDate": timestamp(r.created_at)},
            lambda r: r.name,
        )
