"""What every group of Lambda operations shares: the store, ARNs, lookups that raise Lambda's
errors, and the bookkeeping every change does (drop cached targets, schedule activation)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from lambdamaker.errors import ResourceNotFoundError
from lambdamaker.services.base import Provider
from lambdamaker.services.lambda_ import errors
from lambdamaker.services.lambda_.arns import LATEST, Arns, is_alias
from lambdamaker.services.lambda_.code import CodeStore
from lambdamaker.services.lambda_.event_policy import configs_changed
from lambdamaker.services.lambda_.lifecycle import Activator
from lambdamaker.services.lambda_.records import (
    AliasRecord,
    VersionRecord,
    select_alias,
    select_function,
    select_version,
)
from lambdamaker.store import Store

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.dispatcher import EventDispatcher
    from lambdamaker.services.lambda_.engine_link import EngineLink
    from lambdamaker.services.lambda_.targets import TargetCache

log = logging.getLogger("lambdamaker.lambda")

SETTLE_TIMEOUT = 10.0
"""How long an operation waits for a Pending or updating function before AWS's conflict error."""


class LambdaBase(Provider):
    service = "lambda"

    # Set up by LambdaProvider.__init__ / start().
    arns: Arns
    code: CodeStore
    activator: Activator
    targets: TargetCache
    engine: EngineLink
    dispatcher: EventDispatcher

    @property
    def store(self) -> Store:
        return self.platform.store

    # --- lookups ------------------------------------------------------------------------------

    def function_row(self, conn: Connection, name: str, qualifier: str | None = None) -> Any:
        row = select_function(conn, name)
        if row is None:
            raise errors.function_not_found(self.arns.function(name, qualifier))
        return row

    def version_record(self, conn: Connection, name: str, version: str) -> VersionRecord:
        record = select_version(conn, name, version)
        if record is None:
            qualifier = None if version == LATEST else version
            raise errors.function_not_found(self.arns.function(name, qualifier))
        return record

    def alias_record(self, conn: Connection, name: str, alias: str) -> AliasRecord:
        record = select_alias(conn, name, alias)
        if record is None:
            raise errors.alias_not_found(self.arns.function(name, alias))
        return record

    def resolve(
        self, conn: Connection, name: str, qualifier: str | None
    ) -> tuple[VersionRecord, AliasRecord | None]:
        """The version a (function, qualifier) names, and the alias it was reached through."""
        if qualifier is not None and is_alias(qualifier):
            if select_function(conn, name) is None:
                raise errors.function_not_found(self.arns.function(name, qualifier))
            alias = select_alias(conn, name, qualifier)
            if alias is None:
                raise errors.function_not_found(self.arns.function(name, qualifier))
            return self.version_record(conn, name, alias.function_version), alias
        version = qualifier or LATEST
        record = select_version(conn, name, version)
        if record is None:
            raise errors.function_not_found(self.arns.function(name, qualifier))
        return record, None

    def require_function(self, conn: Connection, name: str) -> Any:
        row = select_function(conn, name)
        if row is None:
            raise ResourceNotFoundError(f"Function not found: {self.arns.function(name)}")
        return row

    # --- change bookkeeping -------------------------------------------------------------------

    def changed(self, conn: Connection, name: str) -> None:
        """A change to function ``name`` is being committed on ``conn``: drop cached targets
        now (so nothing caches the old state meanwhile) and again once it is visible."""
        self.targets.invalidate(name)
        self.store.after_commit(conn, lambda: self.targets.invalidate(name))
        configs_changed(self.store, conn)  # a deleted version or alias drops its config

    def retire_after_commit(self, conn: Connection, name: str, version: str | None) -> None:
        """Stop the environments of a version (or all of a function) once the change commits."""
        arn = self.arns.function(name)
        self.store.after_commit(conn, lambda: self.engine.retire(arn, version))

    def activate_after_commit(self, conn: Connection, record: VersionRecord) -> None:
        name, version, revision = record.function_name, record.version, record.revision_id
        self.store.after_commit(conn, lambda: self.activator.schedule(name, version, revision))

    def push_provisioned(self, name: str, qualifier: str, count: int) -> None:
        """Tell the engine to keep ``count`` environments of what ``qualifier`` names ready
        (implemented by the concurrency operations)."""
        raise NotImplementedError

    def settled_version(self, name: str, version: str) -> VersionRecord:
        """The version once it is neither Pending nor updating (waits briefly), else Lambda's
        conflict error."""

        def read() -> VersionRecord | None:
            with self.store.read() as conn:
                return select_version(conn, name, version)

        record = self.activator.wait_settled(read, SETTLE_TIMEOUT)
        if record is None:
            qualifier = None if version == LATEST else version
            raise errors.function_not_found(self.arns.function(name, qualifier))
        if record.update_status == "InProgress":
            raise errors.update_in_progress(self.arns.function(name))
        if record.state == "Pending":
            raise errors.not_invocable(record.state)
        return record
