"""Reads of state machines, versions and aliases shared by the operations, and the one read the
executions side needs: ``resolve_for_execution``.

``resolve_for_execution(conn_or_store, arn)`` accepts a state machine ARN, a version ARN
(``...:sm:3``) or an alias ARN (``...:sm:prod``) and returns the ``ResolvedMachine`` an
execution runs: for an alias, one of its versions picked by the routing weights. It raises
``StateMachineDoesNotExist`` when nothing of that ARN exists (and ``InvalidArn`` for an ARN that
is not a state machine's).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import tables as t
from lambdamaker.services.stepfunctions.common import (
    StatesArn,
    owned,
    parse_arn,
    state_machine_not_found,
)
from lambdamaker.store import Store


@dataclass(frozen=True)
class ResolvedMachine:
    """What an execution of a state machine, version or alias runs."""

    state_machine_arn: str  # always the unqualified ARN
    name: str
    type: str  # STANDARD | EXPRESS
    definition: str
    role_arn: str
    logging_configuration: dict[str, Any]
    tracing_configuration: dict[str, Any]
    version_arn: str | None  # the version run (also when reached through an alias)
    alias_arn: str | None
    revision_id: str | None


def timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def machine_row(conn: Connection, arn: str) -> Row[Any] | None:
    return conn.execute(sa.select(t.state_machines).where(t.state_machines.c.arn == arn)).first()


def version_row(conn: Connection, machine_arn: str, version: int) -> Row[Any] | None:
    return conn.execute(
        sa.select(t.versions).where(
            t.versions.c.state_machine_arn == machine_arn, t.versions.c.version == version
        )
    ).first()


def alias_row(conn: Connection, machine_arn: str, name: str) -> Row[Any] | None:
    return conn.execute(
        sa.select(t.aliases).where(
            t.aliases.c.state_machine_arn == machine_arn, t.aliases.c.name == name
        )
    ).first()


def pick_version(routing: list[dict[str, Any]], draw: Callable[[], float]) -> str:
    """The version ARN a start through an alias runs: ``draw()`` in [0, 1) against the
    cumulative weights (in percent)."""
    point = draw() * 100
    total = 0.0
    for route in routing:
        total += route["weight"]
        if point < total:
            return str(route["stateMachineVersionArn"])
    # Only reachable with a zero-weight tail; the last positive weight wins.
    return str(next(r for r in reversed(routing) if r["weight"] > 0)["stateMachineVersionArn"])


def _resolved(
    machine: Row[Any], source: Row[Any], version_arn: str | None, alias_arn: str | None
) -> ResolvedMachine:
    return ResolvedMachine(
        state_machine_arn=machine.arn,
        name=machine.name,
        type=machine.type,
        definition=source.definition,
        role_arn=source.role_arn,
        logging_configuration=json.loads(source.logging),
        tracing_configuration=json.loads(source.tracing),
        version_arn=version_arn,
        alias_arn=alias_arn,
        revision_id=source.revision_id,
    )


def _resolve(
    conn: Connection, arn: str, draw: Callable[[], float], ctx: RequestContext | None
) -> ResolvedMachine:
    parsed: StatesArn = parse_arn(arn)
    machine = machine_row(conn, parsed.base) if ctx is None or owned(ctx, parsed) else None
    if machine is None:
        raise state_machine_not_found(arn)
    if parsed.qualifier is None:
        return _resolved(machine, machine, None, None)
    version = parsed.version
    alias_arn = None
    if version is None:
        alias = alias_row(conn, machine.arn, parsed.qualifier)
        if alias is None:
            raise state_machine_not_found(arn)
        alias_arn = alias.arn
        chosen = pick_version(json.loads(alias.routing), draw)
        version = int(chosen.rpartition(":")[2])
    row = version_row(conn, machine.arn, version)
    if row is None:
        raise state_machine_not_found(arn)
    return _resolved(machine, row, row.arn, alias_arn)


def resolve_for_execution(
    conn_or_store: Connection | Store,
    arn: str,
    draw: Callable[[], float] = random.random,
    *,
    ctx: RequestContext | None = None,
) -> ResolvedMachine:
    """The state machine (or version, or alias's routed version) an execution of ``arn`` runs.

    With ``ctx``, an ARN of another account or region does not exist (as for every operation);
    ``draw`` is the uniform [0, 1) source an alias's routing uses (fixed in tests)."""
    if isinstance(conn_or_store, Store):
        with conn_or_store.read() as conn:
            return _resolve(conn, arn, draw, ctx)
    return _resolve(conn_or_store, arn, draw, ctx)
