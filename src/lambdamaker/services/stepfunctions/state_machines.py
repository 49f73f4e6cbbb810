"""State machines: Create/Update/Delete/Describe/ListStateMachines and
ValidateStateMachineDefinition; versions, aliases and tags come in through their mixins.

Invariants:
- every input is checked (name, role ARN, logging, definition) before the transaction opens:
  a rejected request writes nothing;
- CreateStateMachine is idempotent on (name, definition, type, logging, tracing, encryption)
  of the current revision; the same name with anything else is StateMachineAlreadyExists.
  Role and tags of a repeated create are ignored, as AWS does;
- an update that changes nothing keeps the revision (so publishing it again returns the same
  version); any change gets a new ``revisionId``;
- DeleteStateMachine removes the machine, its versions, aliases and tags at once (executions
  keep what they copied when they started), and is a no-op for a machine that does not exist.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from lambdamaker.services.base import RequestContext
from lambdamaker.services.stepfunctions import tables as t
from lambdamaker.services.stepfunctions.aliases import AliasOperations
from lambdamaker.services.stepfunctions.common import (
    check_name,
    check_role_arn,
    dumps,
    name_after,
    once_more_on_conflict,
    owned,
    page,
    page_size,
    parse_arn,
    sfn_error,
    state_machine_arn,
    state_machine_not_found,
    validation,
)
from lambdamaker.services.stepfunctions.definitions import (
    check_definition,
    check_type,
    diagnostics,
)
from lambdamaker.services.stepfunctions.machines import (
    alias_row,
    machine_row,
    timestamp,
    version_row,
)
from lambdamaker.services.stepfunctions.tags import TagOperations, delete_tags, write_tags
from lambdamaker.services.stepfunctions.variable_refs import variable_references
from lambdamaker.services.stepfunctions.versions import (
    VersionOperations,
    publish,
    unqualified_machine,
)


def _logging(config: dict[str, Any] | None) -> dict[str, Any]:
    """The logging configuration as stored and described, with AWS's defaults."""
    config = config or {}
    level = config.get("level", "OFF")
    destinations = config.get("destinations") or []
    if len(destinations) > 1 or (level != "OFF" and not destinations):
        raise sfn_error(
            "InvalidLoggingConfiguration",
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
        )
    for destination in destinations:
        arn = (destination.get("cloudWatchLogsLogGroup") or {}).get("logGroupArn", "")
        if ":logs:" not in arn or ":log-group:" not in arn or not arn.endswith(":*"):
            raise sfn_error(
                "InvalidLoggingConfiguration",
                "Invalid Logging Configuration: The CloudWatch Logs Resource is not valid. "
                f"The log group ARN must be of the form "
                f"'arn:aws:logs:<region>:<account>:log-group:<name>:*'. Received: '{arn}'",
            )
    out: dict[str, Any] = {
        "level": level,
        "includeExecutionData": bool(config.get("includeExecutionData", False)),
    }
    if destinations:
        out["destinations"] = destinations
    return out


def _encryption(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config:
        return {"type": "AWS_OWNED_KEY"}
    if config["type"] == "CUSTOMER_MANAGED_KMS_KEY" and not config.get("kmsKeyId"):
        raise sfn_error(
            "InvalidEncryptionConfiguration",
            "Invalid Encryption Configuration: kmsKeyId must be set for CUSTOMER_MANAGED_KMS_KEY.",
        )
    return dict(config)


def _describe(
    machine: Row[Any], source: Row[Any], arn: str, description: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "stateMachineArn": arn,
        "name": machine.name,
        "status": machine.status,
        "definition": source.definition,
        "roleArn": source.role_arn,
        "type": machine.type,
        "creationDate": timestamp(source.created_at),
        "loggingConfiguration": json.loads(source.logging),
        "tracingConfiguration": json.loads(source.tracing),
        "encryptionConfiguration": json.loads(source.encryption),
    }
    if source.revision_id is not None:
        out["revisionId"] = source.revision_id
    references = variable_references(json.loads(source.definition))
    if references:
        out["variableReferences"] = references
    if description is not None:
        out["description"] = description
    return out


class StateMachineOperations(VersionOperations, AliasOperations, TagOperations):
    def create_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        check_name(name)
        check_role_arn(params["roleArn"])
        publishing = bool(params.get("publish"))
        if params.get("versionDescription") is not None and not publishing:
            raise validation("Version description can only be set when publish is true")
        kind = params.get("type") or "STANDARD"
        logging = dumps(_logging(params.get("loggingConfiguration")))
        tracing = dumps(
            {"enabled": bool((params.get("tracingConfiguration") or {}).get("enabled"))}
        )
        encryption = dumps(_encryption(params.get("encryptionConfiguration")))
        definition = params["definition"]
        check_type(check_definition(definition), kind)
        arn = state_machine_arn(ctx, name)
        now = time.time()

        def attempt() -> dict[str, Any]:
            out: dict[str, Any] = {"stateMachineArn": arn}
            with self.platform.store.begin() as conn:
                row = machine_row(conn, arn)
                if row is not None:
                    same = (row.definition, row.type, row.logging, row.tracing, row.encryption) == (
                        definition,
                        kind,
                        logging,
                        tracing,
                        encryption,
                    )
                    if not same:
                        raise sfn_error(
                            "StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'"
                        )
                    out["creationDate"] = timestamp(row.created_at)
                else:
                    conn.execute(
                        sa.insert(t.state_machines).values(
                            arn=arn,
                            account=ctx.account_id,
                            region=ctx.region,
                            name=name,
                            type=kind,
                            status="ACTIVE",
                            definition=definition,
                            role_arn=params["roleArn"],
                            logging=logging,
                            tracing=tracing,
                            encryption=encryption,
                            revision_id=None,
                            next_version=1,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    write_tags(conn, arn, params.get("tags"))
                    out["creationDate"] = timestamp(now)
                    row = machine_row(conn, arn)
                    assert row is not None
                if publishing:
                    version_arn, _ = publish(conn, row, params.get("versionDescription"), now)
                    out["stateMachineVersionArn"] = version_arn
            return out

        return once_more_on_conflict(attempt)

    def update_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        given = {
            key: params[key]
            for key in ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
            if params.get(key) is not None
        }
        if not given and params.get("encryptionConfiguration") is None:
            raise sfn_error(
                "MissingRequiredParameter",
                "Either the definition, the role ARN, the LoggingConfiguration, the "
                "EncryptionConfiguration or the TracingConfiguration must be specified",
            )
        publishing = bool(params.get("publish"))
        if params.get("versionDescription") is not None and not publishing:
            raise validation("Version description can only be set when publish is true")
        values: dict[str, Any] = {}
        doc = None
        if "definition" in given:
            doc = check_definition(given["definition"])
            values["definition"] = given["definition"]
        if "roleArn" in given:
            check_role_arn(given["roleArn"])
            values["role_arn"] = given["roleArn"]
        if "loggingConfiguration" in given:
            values["logging"] = dumps(_logging(given["loggingConfiguration"]))
        if "tracingConfiguration" in given:
            values["tracing"] = dumps(
                {"enabled": bool(given["tracingConfiguration"].get("enabled"))}
            )
        if params.get("encryptionConfiguration") is not None:
            values["encryption"] = dumps(_encryption(params["encryptionConfiguration"]))
        now = time.time()

        def attempt() -> dict[str, Any]:
            out: dict[str, Any] = {"updateDate": timestamp(now)}
            with self.platform.store.begin() as conn:
                row = unqualified_machine(ctx, conn, params["stateMachineArn"])
                if doc is not None:
                    check_type(doc, row.type)
                changed = {k: v for k, v in values.items() if getattr(row, k) != v}
                if changed:
                    changed.update(revision_id=str(uuid.uuid4()), updated_at=now)
                    conn.execute(
                        sa.update(t.state_machines)
                        .where(t.state_machines.c.arn == row.arn)
                        .values(**changed)
                    )
                    updated = machine_row(conn, row.arn)
                    assert updated is not None
                    row = updated
                if row.revision_id is not None:
                    out["revisionId"] = row.revision_id
                if publishing:
                    version_arn, _ = publish(conn, row, params.get("versionDescription"), now)
                    out["stateMachineVersionArn"] = version_arn
            return out

        return once_more_on_conflict(attempt)

    def delete_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        parsed = parse_arn(arn)
        if parsed.qualifier is not None:
            raise validation(f"Operation does not support a qualified state machine ARN: '{arn}'")
        if not owned(ctx, parsed):
            return {}
        with self.platform.store.begin() as conn:
            for table, column in (
                (t.aliases, t.aliases.c.state_machine_arn),
                (t.versions, t.versions.c.state_machine_arn),
                (t.state_machines, t.state_machines.c.arn),
            ):
                conn.execute(sa.delete(table).where(column == arn))
            delete_tags(conn, arn)
        return {}

    def describe_state_machine(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["stateMachineArn"]
        parsed = parse_arn(arn)
        with self.platform.store.read() as conn:
            machine = machine_row(conn, parsed.base) if owned(ctx, parsed) else None
            if machine is None:
                raise state_machine_not_found(arn)
            if parsed.qualifier is None:
                return _describe(machine, machine, arn, None)
            number = parsed.version
            if number is None:
                # An alias describes the version most of its traffic goes to.
                alias = alias_row(conn, machine.arn, parsed.qualifier)
                if alias is None:
                    raise state_machine_not_found(arn)
                routing = json.loads(alias.routing)
                top = max(routing, key=lambda r: r["weight"])
                number = int(top["stateMachineVersionArn"].rpartition(":")[2])
            version = version_row(conn, machine.arn, number)
            if version is None:
                raise state_machine_not_found(arn)
            return _describe(machine, version, version.arn, version.description)

    def list_state_machines(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = page_size(params)
        after = name_after(params)
        sm = t.state_machines
        query = (
            sa.select(sm.c.arn, sm.c.name, sm.c.type, sm.c.created_at)
            .where(sm.c.account == ctx.account_id, sm.c.region == ctx.region)
            .order_by(sm.c.name)
            .limit(limit + 1)
        )
        if after is not None:
            query = query.where(sm.c.name > after)
        with self.platform.store.read() as conn:
            rows = conn.execute(query).all()
        return page(
            rows,
            limit,
            "stateMachines",
            lambda r: {
                "stateMachineArn": r.arn,
                "name": r.name,
                "type": r.type,
                "creationDate": timestamp(r.created_at),
            },
            lambda r: r.name,
        )

    def validate_state_machine_definition(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        found = diagnostics(params["definition"], params.get("type") or "STANDARD")
        if params.get("severity", "ERROR") == "ERROR":
            shown = [d for d in found if d["severity"] == "ERROR"]
        else:
            shown = found
        limit = int(params.get("maxResults") or 100)
        failed = any(d["severity"] == "ERROR" for d in found)
        return {
            "result": "FAIL" if failed else "OK",
            "diagnostics": shown[:limit],
            "truncated": len(shown) > limit,
        }
