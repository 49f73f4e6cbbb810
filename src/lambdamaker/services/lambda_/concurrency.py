"""Concurrency: reserved (per function) and provisioned (per version or alias), and
GetAccountSettings.

The account has ``PlatformConfig.account_concurrency`` concurrent executions (1,000 by default).
Reserving concurrency for functions must leave at least 100 unreserved (AWS's rule and message).
Provisioned concurrency applies to a published version or an alias only, and fits inside the
function's reservation when it has one. Settings are pushed to the engine after their commit and
again at start-up; GetProvisionedConcurrencyConfig reports IN_PROGRESS until the engine has as
many environments ready as requested, then READY.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ResourceConflictError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors, limits
from lambdamaker.services.lambda_.arns import LATEST, is_alias
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.errors import ProvisionedConfigNotFoundError
from lambdamaker.services.lambda_.records import (
    lambda_date,
    now_ms,
    select_alias,
    select_version,
)
from lambdamaker.services.lambda_.tables import (
    aliases,
    functions,
    layer_versions,
    provisioned,
    versions,
)

log = logging.getLogger("lambdamaker.lambda")


class ConcurrencyOperations(LambdaBase):
    # --- reserved -----------------------------------------------------------------------------

    def put_function_concurrency(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"], allow_qualifier=False)
        value = int(params["ReservedConcurrentExecutions"])
        limit = self.platform.config.account_concurrency
        with self.store.begin() as conn:
            self.require_function(conn, name)
            others = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(functions.c.reserved_concurrency), 0)).where(
                    functions.c.name != name
                )
            ).scalar_one()
            if limit - int(others) - value < limits.MINIMUM_UNRESERVED_CONCURRENCY:
                raise InvalidParameterValueError(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    "UnreservedConcurrentExecution below its minimum value of "
                    f"[{limits.MINIMUM_UNRESERVED_CONCURRENCY}]."
                )
            total_provisioned = self._provisioned_sum(conn, name)
            if total_provisioned > value:
                raise InvalidParameterValueError(
                    f" ReservedConcurrentExecutions  {value} should not be lower than function's "
                    f"total provisioned concurrency [{total_provisioned}]."
                )
            conn.execute(
                sa.update(functions)
                .where(functions.c.name == name)
                .values(reserved_concurrency=value)
            )
            arn = self.arns.function(name)
            self.store.after_commit(conn, lambda: self.engine.set_reserved(arn, value))
        return {"ReservedConcurrentExecutions": value}

    def get_function_concurrency(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"], allow_qualifier=False)
        with self.store.read() as conn:
            row = self.require_function(conn, name)
        if row.reserved_concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": row.reserved_concurrency}

    def delete_function_concurrency(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"], allow_qualifier=False)
        with self.store.begin() as conn:
            self.require_function(conn, name)
            conn.execute(
                sa.update(functions)
                .where(functions.c.name == name)
                .values(reserved_concurrency=None)
            )
            arn = self.arns.function(name)
            self.store.after_commit(conn, lambda: self.engine.set_reserved(arn, None))
        return {}

    @staticmethod
    def _provisioned_sum(conn: Connection, name: str, excluding: str | None = None) -> int:
        stmt = sa.select(sa.func.coalesce(sa.func.sum(provisioned.c.requested), 0)).where(
            provisioned.c.function_name == name
        )
        if excluding is not None:
            stmt = stmt.where(provisioned.c.qualifier != excluding)
        return int(conn.execute(stmt).scalar_one())

    # --- provisioned --------------------------------------------------------------------------

    def _qualified(self, params: dict[str, Any], message: str) -> tuple[str, str]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        if qualifier is None or qualifier == LATEST:
            raise InvalidParameterValueError(message)
        return name, qualifier

    def _check_target(self, conn: Connection, name: str, qualifier: str) -> str:
        """The version ``qualifier`` names (raises Lambda's not-found errors)."""
        if is_alias(qualifier):
            alias = select_alias(conn, name, qualifier)
            if alias is None:
                raise errors.alias_not_found(self.arns.function(name, qualifier))
            return alias.function_version
        if select_version(conn, name, qualifier) is None:
            raise errors.function_not_found(self.arns.function(name, qualifier))
        return qualifier

    def put_provisioned_concurrency_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._qualified(
            params,
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        )
        count = int(params["ProvisionedConcurrentExecutions"])
        limit = self.platform.config.account_concurrency
        now = now_ms()
        with self.store.begin() as conn:
            row = self.require_function(conn, name)
            version = self._check_target(conn, name, qualifier)
            self._check_overlap(conn, name, qualifier, version)
            others = self._provisioned_sum(conn, name, excluding=qualifier)
            if row.reserved_concurrency is not None and others + count > row.reserved_concurrency:
                raise InvalidParameterValueError(
                    "Requested Provisioned Concurrency should not be greater than the "
                    "reservedConcurrentExecution for function"
                )
            if count > limit:
                raise InvalidParameterValueError(
                    "Specified ConcurrentExecutions for function is greater than account's "
                    f"unreserved concurrency [{limit}]."
                )
            if row.reserved_concurrency is None and (
                self._unreserved(conn, limit, excluding=(name, qualifier)) - count
                < limits.MINIMUM_UNRESERVED_CONCURRENCY
            ):
                raise InvalidParameterValueError(
                    "Specified ConcurrentExecutions for function decreases account's "
                    "UnreservedConcurrentExecution below its minimum value of "
                    f"[{limits.MINIMUM_UNRESERVED_CONCURRENCY}]."
                )
            conn.execute(
                sa.delete(provisioned).where(
                    provisioned.c.function_name == name, provisioned.c.qualifier == qualifier
                )
            )
            conn.execute(
                sa.insert(provisioned).values(
                    function_name=name, qualifier=qualifier, requested=count, last_modified_ms=now
                )
            )
            self.store.after_commit(conn, lambda: self.push_provisioned(name, qualifier, count))
        return {
            "RequestedProvisionedConcurrentExecutions": count,
            "AvailableProvisionedConcurrentExecutions": 0,
            "AllocatedProvisionedConcurrentExecutions": 0,
            "Status": "IN_PROGRESS",
            "LastModified": lambda_date(now),
        }

    def _check_overlap(self, conn: Connection, name: str, qualifier: str, version: str) -> None:
        configs = {
            r.qualifier: r
            for r in conn.execute(sa.select(provisioned).where(provisioned.c.function_name == name))
        }
        if is_alias(qualifier):
            if version in configs:
                raise ResourceConflictError(
                    "Alias can't be used for Provisioned Concurrency configuration on an already "
                    "Provisioned version"
                )
            return
        for alias in conn.execute(
            sa.select(aliases.c.name).where(
                aliases.c.function_name == name, aliases.c.function_version == qualifier
            )
        ):
            if alias.name in configs:
                raise ResourceConflictError("Version is pointed by a Provisioned Concurrency alias")

    @staticmethod
    def _unreserved(conn: Connection, limit: int, excluding: tuple[str, str] | None = None) -> int:
        """The account's unreserved concurrency: the limit minus reservations and the
        provisioned concurrency of functions without a reservation."""
        reserved = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(functions.c.reserved_concurrency), 0))
        ).scalar_one()
        stmt = (
            sa.select(provisioned.c.function_name, provisioned.c.qualifier, provisioned.c.requested)
            .select_from(
                provisioned.join(functions, functions.c.name == provisioned.c.function_name)
            )
            .where(functions.c.reserved_concurrency.is_(None))
        )
        extra = sum(
            r.requested
            for r in conn.execute(stmt)
            if excluding is None or (r.function_name, r.qualifier) != excluding
        )
        return limit - int(reserved) - extra

    def get_provisioned_concurrency_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._qualified(
            params, "The function resource provided must be an alias or a published version."
        )
        with self.store.read() as conn:
            self.require_function(conn, name)
            version = self._check_target(conn, name, qualifier)
            row = conn.execute(
                sa.select(provisioned).where(
                    provisioned.c.function_name == name, provisioned.c.qualifier == qualifier
                )
            ).first()
            record = select_version(conn, name, version)
        if row is None or record is None:
            raise ProvisionedConfigNotFoundError(
                "No Provisioned Concurrency Config found for this function"
            )
        allocated, available = self.engine.provisioned_status(
            self.targets.build_spec(record), row.requested
        )
        ready = available >= row.requested
        return {
            "RequestedProvisionedConcurrentExecutions": row.requested,
            "AvailableProvisionedConcurrentExecutions": min(available, row.requested),
            "AllocatedProvisionedConcurrentExecutions": min(allocated, row.requested),
            "Status": "READY" if ready else "IN_PROGRESS",
            "LastModified": lambda_date(row.last_modified_ms),
        }

    def delete_provisioned_concurrency_config(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self._qualified(
            params, "The function resource provided must be an alias or a published version."
        )
        with self.store.begin() as conn:
            self.require_function(conn, name)
            version = self._check_target(conn, name, qualifier)
            deleted = conn.execute(
                sa.delete(provisioned).where(
                    provisioned.c.function_name == name, provisioned.c.qualifier == qualifier
                )
            ).rowcount
            if deleted:
                self.store.after_commit(conn, lambda: self.push_provisioned(name, version, 0))
        return {}

    def push_provisioned(self, name: str, qualifier: str, count: int) -> None:
        try:
            with self.store.read() as conn:
                version = self._check_target(conn, name, qualifier)
                record = select_version(conn, name, version)
            if record is None:
                return
            self.engine.set_provisioned(self.targets.build_spec(record), count)
        except Exception:
            log.warning(
                "provisioned concurrency of %s:%s not applied", name, qualifier, exc_info=True
            )

    def restore_concurrency(self) -> None:
        """At start-up: push every reservation and provisioned config to the engine."""
        with self.store.read() as conn:
            reserved = conn.execute(
                sa.select(functions.c.name, functions.c.reserved_concurrency).where(
                    functions.c.reserved_concurrency.is_not(None)
                )
            ).all()
            configs = conn.execute(sa.select(provisioned)).all()
        for row in reserved:
            self.engine.set_reserved(self.arns.function(row.name), row.reserved_concurrency)
        for config in configs:
            self.push_provisioned(config.function_name, config.qualifier, config.requested)

    # --- account ------------------------------------------------------------------------------

    def get_account_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = self.platform.config.account_concurrency
        with self.store.read() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(functions)).scalar_one()
            code = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(versions.c.code_size), 0))
            ).scalar_one()
            layer_code = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(layer_versions.c.code_size), 0))
            ).scalar_one()
            unreserved = self._unreserved(conn, limit)
        return {
            "AccountLimit": {
                "TotalCodeSize": limits.TOTAL_CODE_LIMIT,
                "CodeSizeUnzipped": limits.UNZIPPED_CODE_LIMIT,
                "CodeSizeZipped": limits.ZIPPED_CODE_LIMIT,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": unreserved,
            },
            "AccountUsage": {
                "TotalCodeSize": int(code) + int(layer_code),
                "FunctionCount": int(count),
            },
        }
