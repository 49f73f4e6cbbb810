"""Functions: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction.

Every change follows one order: validate everything (configuration, layers, the package, which
is unpacked before anything refers to it), then one transaction that re-checks what it relies on
(existence, RevisionId, no update in progress) and writes, then after-commit work (schedule the
activation, stop environments running the old configuration, delete blobs nothing references).
A failure before the commit leaves at most an unreferenced blob and tree, which the start-up
sweep removes.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import InvalidParameterValueError, ResourceConflictError, ValidationError
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors, sources, validation
from lambdamaker.services.lambda_.arns import LATEST
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.code import CodeArtifact
from lambdamaker.services.lambda_.configuration import (
    check_total_size,
    new_config,
    resolve_layers,
    updated_config,
)
from lambdamaker.services.lambda_.event_config import configs_changed, delete_event_config
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import (
    VersionRecord,
    new_revision,
    now_ms,
    select_version,
    update_version,
    version_sort_key,
)
from lambdamaker.services.lambda_.tables import (
    aliases,
    event_configs,
    events,
    functions,
    provisioned,
    versions,
)

CREATING = ("The function is being created.", "Creating")


def list_key(record: VersionRecord) -> str:
    kind, number = version_sort_key(record.version)
    return f"{record.function_name}\x00{kind}{number:012d}"


def for_listing(config: dict[str, Any]) -> dict[str, Any]:
    """List operations leave out the state members (as Lambda does)."""
    for member in (
        "State",
        "StateReason",
        "StateReasonCode",
        "LastUpdateStatus",
        "LastUpdateStatusReason",
        "LastUpdateStatusReasonCode",
    ):
        config.pop(member, None)
    return config


class FunctionOperations(LambdaBase):
    # --- helpers ------------------------------------------------------------------------------

    def _new_version_from(
        self, latest: VersionRecord, number: int, description: str | None
    ) -> VersionRecord:
        config = dict(latest.config)
        if description is not None:
            config["Description"] = description
        return VersionRecord(
            function_name=latest.function_name,
            version=str(number),
            config=config,
            config_token=latest.config_token,
            code_sha256=latest.code_sha256,
            code_hex=latest.code_hex,
            code_size=latest.code_size,
            code_unzipped=latest.code_unzipped,
            code_blob=latest.code_blob,
            state="Pending",
            state_reason=CREATING[0],
            state_reason_code=CREATING[1],
            revision_id=new_revision(),
            last_modified_ms=now_ms(),
        )

    def publish_in(
        self, conn: Connection, name: str, latest: VersionRecord, description: str | None = None
    ) -> VersionRecord:
        """Publish ``latest`` as the next version, unless the newest version already is it."""
        newest = conn.execute(
            sa.select(versions)
            .where(versions.c.function_name == name, versions.c.version != LATEST)
            .order_by(sa.cast(versions.c.version, sa.Integer).desc())
            .limit(1)
        ).first()
        if newest is not None and newest.config_token == latest.config_token:
            return VersionRecord.from_row(newest)
        number = conn.execute(
            sa.select(functions.c.next_version).where(functions.c.name == name)
        ).scalar_one()
        record = self._new_version_from(latest, number, description)
        conn.execute(sa.insert(versions).values(**record.row_values()))
        conn.execute(
            sa.update(functions).where(functions.c.name == name).values(next_version=number + 1)
        )
        # Publishing is a change of the function: $LATEST gets a new revision too (and, if it is
        # still being created or updated, an activation job for that revision).
        latest.revision_id = new_revision()
        update_version(conn, latest)
        if not latest.settled:
            self.activate_after_commit(conn, latest)
        self.activate_after_commit(conn, record)
        return record

    def _discard_unreferenced(self, conn: Connection, blob_ids: set[str]) -> None:
        """Delete, after the commit, code blobs no version references any more."""
        if not blob_ids:
            return
        still = set(
            conn.execute(
                sa.select(versions.c.code_blob).where(versions.c.code_blob.in_(blob_ids))
            ).scalars()
        )
        orphans = blob_ids - still
        if orphans:
            self.store.after_commit(conn, lambda: self.code.discard(orphans))

    def _ingest(self, content: dict[str, Any], operation: str) -> CodeArtifact:
        return sources.ingest(self.platform, self.code, content, "code", operation)

    # --- CreateFunction -----------------------------------------------------------------------

    def create_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"])
        if qualifier is not None:
            raise ValidationError(
                f"1 validation error detected: Value '{params['FunctionName']}' at "
                "'functionName' failed to satisfy constraint: Member must satisfy regular "
                "expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|"
                r"(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
            )
        if len(name) > 64:
            raise InvalidParameterValueError(
                f"1 validation error detected: Value '{name}' at 'functionName' failed to "
                "satisfy constraint: Member must have length less than or equal to 64"
            )
        tags = validation.check_tags(params.get("Tags") or {})
        with self.store.read() as conn:
            if conn.execute(sa.select(functions.c.name).where(functions.c.name == name)).first():
                raise ResourceConflictError(f"Function already exist: {name}")
            layers = resolve_layers(conn, self.arns, params.get("Layers") or [])
        config = new_config(name, params, layers)
        content = params.get("Code") or {}
        if not sources.has_source(content):
            raise InvalidParameterValueError("Please provide a source for function code.")
        artifact = self._ingest(content, "CreateFunction")
        committed = False
        try:
            check_total_size(artifact.unzipped, layers)
            now = now_ms()
            latest = VersionRecord(
                function_name=name,
                version=LATEST,
                config=config,
                config_token=uuid.uuid4().hex,
                code_sha256=artifact.sha256,
                code_hex=artifact.hex,
                code_size=artifact.size,
                code_unzipped=artifact.unzipped,
                code_blob=artifact.blob_id,
                state="Pending",
                state_reason=CREATING[0],
                state_reason_code=CREATING[1],
                revision_id=new_revision(),
                last_modified_ms=now,
            )
            with self.store.begin() as conn:
                if conn.execute(
                    sa.select(functions.c.name).where(functions.c.name == name)
                ).first():
                    raise ResourceConflictError(f"Function already exist: {name}")
                conn.execute(
                    sa.insert(functions).values(
                        name=name,
                        created_ms=now,
                        next_version=1,
                        reserved_concurrency=None,
                        tags=orjson.dumps(tags).decode(),
                    )
                )
                conn.execute(sa.insert(versions).values(**latest.row_values()))
                self.activate_after_commit(conn, latest)
                result = latest
                if params.get("Publish"):
                    result = self.publish_in(conn, name, latest, None)
                self.changed(conn, name)
            committed = True
        finally:
            if not committed:
                self.code.discard([artifact.blob_id])
        return result.describe(self.arns)

    # --- reads --------------------------------------------------------------------------------

    def get_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        with self.store.read() as conn:
            row = self.function_row(conn, name, qualifier)
            record, alias = self.resolve(conn, name, qualifier)
        out: dict[str, Any] = {
            "Configuration": record.describe(
                self.arns, qualified=qualifier is not None, alias=alias.name if alias else None
            ),
            "Code": {
                "RepositoryType": "S3",
                "Location": self.code.blobs.path(record.code_blob).as_uri(),
            },
        }
        tags = orjson.loads(row.tags)
        if tags:
            out["Tags"] = tags
        if row.reserved_concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": row.reserved_concurrency}
        return out

    def get_function_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        with self.store.read() as conn:
            record, alias = self.resolve(conn, name, qualifier)
        return record.describe(
            self.arns, qualified=qualifier is not None, alias=alias.name if alias else None
        )

    def list_functions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        every_version = params.get("FunctionVersion") == "ALL"
        stmt = sa.select(versions)
        if not every_version:
            stmt = stmt.where(versions.c.version == LATEST)
        with self.store.read() as conn:
            records = [VersionRecord.from_row(r) for r in conn.execute(stmt)]
        records.sort(key=list_key)
        chunk, marker = page(records, params, list_key)
        out: dict[str, Any] = {
            "Functions": [
                for_listing(r.describe(self.arns, qualified=every_version)) for r in chunk
            ]
        }
        if marker:
            out["NextMarker"] = marker
        return out

    # --- updates ------------------------------------------------------------------------------

    def update_function_code(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        with self.store.read() as conn:
            current = self.version_record(conn, name, LATEST)
        if params.get("RevisionId") and params["RevisionId"] != current.revision_id:
            raise errors.revision_mismatch()
        if params.get("ImageUri"):
            raise InvalidParameterValueError(
                "Please don't provide ImageUri when updating a function with packageType Zip."
            )
        if not sources.has_source(params):
            raise InvalidParameterValueError("Please provide a source for function code.")
        architectures = (
            validation.check_architectures(params["Architectures"])
            if params.get("Architectures")
            else None
        )
        artifact = self._ingest(params, "UpdateFunctionCode")
        committed = False
        try:
            check_total_size(artifact.unzipped, current.layers)
            if params.get("DryRun"):
                preview = VersionRecord(**{**current.__dict__})
                preview.code_sha256, preview.code_size = artifact.sha256, artifact.size
                return preview.describe(self.arns)
            self.settled_version(name, LATEST)
            with self.store.begin() as conn:
                latest = self.version_record(conn, name, LATEST)
                self._check_mutable(latest, params)
                old_blob = latest.code_blob
                latest.code_sha256, latest.code_hex = artifact.sha256, artifact.hex
                latest.code_size, latest.code_unzipped = artifact.size, artifact.unzipped
                latest.code_blob = artifact.blob_id
                if architectures is not None:
                    latest.config = {**latest.config, "Architectures": architectures}
                self._mark_updating(latest)
                update_version(conn, latest)
                self.activate_after_commit(conn, latest)
                result = latest
                if params.get("Publish"):
                    result = self.publish_in(conn, name, latest)
                self._discard_unreferenced(conn, {old_blob})
                self.changed(conn, name)
                self.retire_after_commit(conn, name, LATEST)
            committed = True
        finally:
            if not committed:
                self.code.discard([artifact.blob_id])
        return result.describe(self.arns, qualified=result.version != LATEST)

    def update_function_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name, _ = self.arns.parse_function(params["FunctionName"])
        with self.store.read() as conn:
            current = self.version_record(conn, name, LATEST)
            layers = (
                resolve_layers(conn, self.arns, params["Layers"]) if "Layers" in params else None
            )
        if params.get("RevisionId") and params["RevisionId"] != current.revision_id:
            raise errors.revision_mismatch()
        config = updated_config(name, current.config, params, layers)
        if layers is not None:
            check_total_size(current.code_unzipped, layers)
        self.settled_version(name, LATEST)
        with self.store.begin() as conn:
            latest = self.version_record(conn, name, LATEST)
            self._check_mutable(latest, params)
            latest.config = config
            self._mark_updating(latest)
            update_version(conn, latest)
            self.activate_after_commit(conn, latest)
            self.changed(conn, name)
            self.retire_after_commit(conn, name, LATEST)
        return latest.describe(self.arns)

    def _check_mutable(self, latest: VersionRecord, params: dict[str, Any]) -> None:
        """Inside the write transaction: the precondition and no update in flight."""
        if params.get("RevisionId") and params["RevisionId"] != latest.revision_id:
            raise errors.revision_mismatch()
        if not latest.settled:
            raise errors.update_in_progress(self.arns.function(latest.function_name))

    @staticmethod
    def _mark_updating(latest: VersionRecord) -> None:
        latest.config_token = uuid.uuid4().hex
        latest.revision_id = new_revision()
        latest.last_modified_ms = now_ms()
        latest.update_status = "InProgress"
        latest.update_reason, latest.update_reason_code = CREATING

    # --- DeleteFunction -----------------------------------------------------------------------

    def delete_function(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        if qualifier == LATEST:
            raise InvalidParameterValueError(
                "$LATEST version cannot be deleted without deleting the function."
            )
        with self.store.begin() as conn:
            self.function_row(conn, name)
            if qualifier is None:
                self._delete_function(conn, name)
            else:
                self._delete_version(conn, name, qualifier)
            self.changed(conn, name)
        return {"StatusCode": 204}

    def _delete_function(self, conn: Connection, name: str) -> None:
        blobs = set(
            conn.execute(
                sa.select(versions.c.code_blob).where(versions.c.function_name == name)
            ).scalars()
        )
        for table in (versions, aliases, provisioned, event_configs):
            conn.execute(sa.delete(table).where(table.c.function_name == name))
        configs_changed(self.store, conn)
        conn.execute(sa.delete(events).where(events.c.function_name == name))
        conn.execute(sa.delete(functions).where(functions.c.name == name))
        self._discard_unreferenced(conn, blobs)
        self.retire_after_commit(conn, name, None)
        arn = self.arns.function(name)
        self.store.after_commit(conn, lambda: self.engine.set_reserved(arn, None))

    def _delete_version(self, conn: Connection, name: str, version: str) -> None:
        if not version.isdigit():
            raise InvalidParameterValueError(
                "Deletion of aliases is not supported by DeleteFunction. Use DeleteAlias instead."
            )
        record = select_version(conn, name, version)
        if record is None:
            raise errors.function_not_found(self.arns.function(name, version))
        users = []
        for alias in conn.execute(sa.select(aliases).where(aliases.c.function_name == name)):
            routing = orjson.loads(alias.routing) if alias.routing else {}
            if alias.function_version == version or version in routing:
                users.append(alias.name)
        if users:
            raise ResourceConflictError(
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(sorted(users))}]"
            )
        conn.execute(
            sa.delete(versions).where(
                versions.c.function_name == name, versions.c.version == version
            )
        )
        conn.execute(
            sa.delete(provisioned).where(
                provisioned.c.function_name == name, provisioned.c.qualifier == version
            )
        )
        delete_event_config(conn, name, version)
        self._discard_unreferenced(conn, {record.code_blob})
        self.retire_after_commit(conn, name, version)
