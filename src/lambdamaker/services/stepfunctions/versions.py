"""State machine versions: PublishStateMachineVersion, ListStateMachineVersions,
DeleteStateMachineVersion, and the publish step Create/UpdateStateMachine share.

Invariants:
- publishing is idempotent per revision: while a version of the current revision exists,
  publishing returns it instead of creating another;
- a ``revisionId`` that is not the current one (``INITIAL`` for a never-updated machine) is a
  ConflictException and publishes nothing;
- at most ``MAX_VERSIONS`` versions exist per state machine (ServiceQuotaExceededException);
- a version an alias routes to cannot be deleted (ConflictException naming the aliases).
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.stepfunctions import tables as t
from lambdamaker.services.stepfunctions.common import (
    conflict,
    decode_token,
    once_more_on_conflict,
    owned,
    page,
    page_size,
    parse_arn,
    sfn_error,
    state_machine_not_found,
    validation,
)
from lambdamaker.services.stepfunctions.machines import machine_row, timestamp

MAX_VERSIONS = 1000
INITIAL = "INITIAL"


def publish(
    conn: Connection, machine: Row[Any], description: str | None, now: float
) -> tuple[str, float]:
    """Publish the machine's current revision (or return its existing version):
    (version ARN, creation time)."""
    same_revision = (
        t.versions.c.revision_id.is_(None)
        if machine.revision_id is None
        else t.versions.c.revision_id == machine.revision_id
    )
    existing = conn.execute(
        sa.select(t.versions.c.arn, t.versions.c.created_at)
        .where(t.versions.c.state_machine_arn == machine.arn, same_revision)
        .order_by(t.versions.c.version.desc())
    ).first()
    if existing is not None:
        return existing.arn, existing.created_at
    count = conn.execute(
        sa.select(sa.func.count()).where(t.versions.c.state_machine_arn == machine.arn)
    ).scalar_one()
    if count >= MAX_VERSIONS:
        raise sfn_error(
            "ServiceQuotaExceededException",
            f"Maximum number of versions ({MAX_VERSIONS}) reached for state machine "
            f"'{machine.arn}'. Delete unused versions and try again.",
        )
    number = machine.next_version
    arn = f"{machine.arn}:{number}"
    conn.execute(
        sa.insert(t.versions).values(
            state_machine_arn=machine.arn,
            version=number,
            arn=arn,
            definition=machine.definition,
            role_arn=machine.role_arn,
            logging=machine.logging,
            tracing=machine.tracing,
            encryption=machine.encryption,
            revision_id=machine.revision_id,
            description=description,
            created_at=now,
        )
    )
    conn.execute(
        sa.update(t.state_machines)
        .where(t.state_machines.c.arn == machine.arn)
        .values(next_version=number + 1)
    )
    return arn, now


def unqualified_machine(ctx: RequestContext, conn: Connection, arn: str) -> Row[Any]:
    """The state machine an unqualified ARN names, or StateMachineDoesNotExist."""
    parsed = parse_arn(arn)
    if parsed.qualifier is not None:
        raise validation(
            f"Operation does not support a qualified state machine ARN: '{arn}'",
        )
    row = machine_row(conn, arn) if owned(ctx, parsed) else None
    if row is None:
        raise state_machine_not_found(arn)
    return row


def aliases_routing_to(conn: Connection, machine_arn: str, version_arn: str) -> list[str]:
    rows = conn.execute(
        sa.select(t.aliases.c.name, t.aliases.c.routing)
        .where(t.aliases.c.state_machine_arn == machine_arn)
        .order_by(t.aliases.c.name)
    )
    return [
        name
        for name, routing in rows
        if any(r["stateMachineVersionArn"] == version_arn for r in json.loads(routing))
    ]


class VersionOperations(Provider):
    def publish_state_machine_version(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            with self.platform.store.begin() as conn:
                machine = unqualified_machine(ctx, conn, params["stateMachineArn"])
                wanted = params.get("revisionId")
                current = machine.revision_id or INITIAL
                if wanted is not None and wanted != current:
                    raise conflict(
                        f"Failed to publish the State Machine version for revision {wanted}. "
                        f"The current State Machine revision is {current}."
                    )
                arn, created = publish(conn, machine, params.get("description"), time.time())
            return {"stateMachineVersionArn": arn, "creationDate": timestamp(created)}

        return once_more_on_conflict(attempt)

    def list_state_machine_versions(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        limit = page_size(params)
        before = decode_token(params)
        with self.platform.store.read() as conn:
            machine = unqualified_machine(ctx, conn, params["stateMachineArn"])
            query = (
                sa.select(t.versions.c.arn, t.versions.c.version, t.versions.c.created_at)
                .where(t.versions.c.state_machine_arn == machine.arn)
                .order_by(t.versions.c.version.desc())
                .limit(limit + 1)
            )
            if before is not None:
                if not isinstance(before, int):
                    raise sfn_error("InvalidToken", "Invalid Token: 'Invalid token'")
                query = query.where(t.versions.c.version < before)
            rows = conn.execute(query).all()
        return page(
            rows,
            limit,
            "stateMachineVersions",
            lambda r: {"stateMachineVersionArn": r.arn, "creationDate": timestamp(r.created_at)},
            lambda r: r.version,
        )

    def delete_state_machine_version(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        arn = params["stateMachineVersionArn"]
        parsed = parse_arn(arn)
        number = parsed.version
        if number is None:
            raise sfn_error("InvalidArn", f"Invalid Arn: '{arn}'")
        if not owned(ctx, parsed):
            return {}
        with self.platform.store.begin() as conn:
            routed_by = aliases_routing_to(conn, parsed.base, arn)
            if routed_by:
                raise conflict(
                    "Version to be deleted must not be referenced by an alias. Current list of "
                    f"aliases referencing this version: [{', '.join(routed_by)}]"
                )
            conn.execute(
                sa.delete(t.versions).where(
                    t.versions.c.state_machine_arn == parsed.base,
                    t.versions.c.version == number,
                )
            )
        return {}
