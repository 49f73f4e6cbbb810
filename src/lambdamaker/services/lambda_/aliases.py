"""Aliases: CreateAlias, UpdateAlias, GetAlias, ListAliases, DeleteAlias.

An alias points at one version and, optionally, routes a share of invocations to one more
published version (``RoutingConfig.AdditionalVersionWeights``, weight 0..1); Invoke draws the
version per invocation (``targets.Target.pick``) and reports it in ``X-Amz-Executed-Version``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ResourceConflictError, ValidationError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors
from lambdamaker.services.lambda_.arns import LATEST
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.event_config import delete_event_config
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import (
    AliasRecord,
    new_revision,
    select_alias,
    select_version,
)
from lambdamaker.services.lambda_.tables import aliases, provisioned


class AliasOperations(LambdaBase):
    def _check_version(self, conn: Connection, name: str, version: str) -> None:
        if select_version(conn, name, version) is None:
            raise errors.function_not_found(self.arns.function(name, version))

    def _routing(
        self, conn: Connection, name: str, primary: str, config: dict[str, Any] | None
    ) -> dict[str, float]:
        weights: dict[str, float] = dict((config or {}).get("AdditionalVersionWeights") or {})
        if not weights:
            return {}
        if len(weights) > 1:
            raise InvalidParameterValueError(
                "Number of items in AdditionalVersionWeights cannot be greater than 1"
            )
        (version, weight), *_ = weights.items()
        if not 0.0 <= float(weight) <= 1.0:
            raise ValidationError(
                f"1 validation error detected: Value '{{{version}={weight}}}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "value must satisfy constraint: [Member must have value less than or equal to "
                "1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
            )
        if version == primary:
            raise InvalidParameterValueError(
                f"Invalid function version {primary}. Function version {primary} is already "
                "included in routing configuration."
            )
        if primary == LATEST:
            raise InvalidParameterValueError(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        if not version.isdigit():
            raise ValidationError(
                f"1 validation error detected: Value '{{{version}={weight}}}' at "
                "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map "
                "keys must satisfy constraint: [Member must satisfy regular expression pattern: "
                "[0-9]+]"
            )
        self._check_version(conn, name, version)
        return {version: float(weight)}

    def create_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        alias_name, version = params["Name"], params["FunctionVersion"]
        with self.store.begin() as conn:
            self.function_row(conn, name)
            self._check_version(conn, name, version)
            if select_alias(conn, name, alias_name) is not None:
                raise ResourceConflictError(
                    f"Alias already exists: {self.arns.function(name, alias_name)}"
                )
            record = AliasRecord(
                function_name=name,
                name=alias_name,
                function_version=version,
                description=params.get("Description") or "",
                revision_id=new_revision(),
                routing=self._routing(conn, name, version, params.get("RoutingConfig")),
            )
            conn.execute(sa.insert(aliases).values(**record.row_values()))
            self.changed(conn, name)
        return record.describe(self.arns)

    def update_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        with self.store.begin() as conn:
            self.function_row(conn, name)
            record = self.alias_record(conn, name, params["Name"])
            if params.get("RevisionId") and params["RevisionId"] != record.revision_id:
                raise errors.revision_mismatch()
            previous = record.function_version
            if params.get("FunctionVersion") is not None:
                self._check_version(conn, name, params["FunctionVersion"])
                record.function_version = params["FunctionVersion"]
            if params.get("Description") is not None:
                record.description = params["Description"]
            if params.get("RoutingConfig") is not None:
                record.routing = self._routing(
                    conn, name, record.function_version, params["RoutingConfig"]
                )
            elif record.routing:
                record.routing = self._routing(
                    conn,
                    name,
                    record.function_version,
                    {"AdditionalVersionWeights": record.routing},
                )
            record.revision_id = new_revision()
            conn.execute(
                sa.update(aliases)
                .where(aliases.c.function_name == name, aliases.c.name == record.name)
                .values(**record.row_values())
            )
            self.changed(conn, name)
            if previous != record.function_version:
                self._repoint_provisioned(conn, name, record.name, previous)
        return record.describe(self.arns)

    def _repoint_provisioned(self, conn: Connection, name: str, alias: str, previous: str) -> None:
        row = conn.execute(
            sa.select(provisioned).where(
                provisioned.c.function_name == name, provisioned.c.qualifier == alias
            )
        ).first()
        if row is not None:
            self.store.after_commit(conn, lambda: self.push_provisioned(name, previous, 0))
            self.store.after_commit(conn, lambda: self.push_provisioned(name, alias, row.requested))

    def get_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        with self.store.read() as conn:
            self.function_row(conn, name)
            return self.alias_record(conn, name, params["Name"]).describe(self.arns)

    def list_aliases(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        stmt = sa.select(aliases).where(aliases.c.function_name == name).order_by(aliases.c.name)
        if params.get("FunctionVersion"):
            stmt = stmt.where(aliases.c.function_version == params["FunctionVersion"])
        with self.store.read() as conn:
            self.function_row(conn, name)
            records = [AliasRecord.from_row(r) for r in conn.execute(stmt)]
        chunk, marker = page(records, params, lambda a: a.name)
        out: dict[str, Any] = {"Aliases": [a.describe(self.arns) for a in chunk]}
        if marker:
            out["NextMarker"] = marker
        return out

    def delete_alias(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        alias = params["Name"]
        with self.store.begin() as conn:
            self.function_row(conn, name)
            record = self.alias_record(conn, name, alias)
            had_provisioned = conn.execute(
                sa.delete(provisioned).where(
                    provisioned.c.function_name == name, provisioned.c.qualifier == alias
                )
            ).rowcount
            conn.execute(
                sa.delete(aliases).where(aliases.c.function_name == name, aliases.c.name == alias)
            )
            delete_event_config(conn, name, alias)
            if had_provisioned:
                version = record.function_version
                self.store.after_commit(conn, lambda: self.push_provisioned(name, version, 0))
            self.changed(conn, name)
        return {}
