"""Create/Update/Delete/Get/ListEventSourceMappings.

Invariants:

- A (function ARN, source ARN) pair has at most one mapping (``ResourceConflictException``).
- Create answers ``Creating`` and Update ``Updating``; right after the commit the manager
  settles the row to ``Enabled`` or ``Disabled`` and (re)starts or stops the poller, so the next
  Get shows the settled state. Delete answers ``Deleting`` and removes the row (its checkpoints
  with it) after stopping the poller.
- Deleting a function leaves its mappings (as on AWS); their invokes fail and say so in
  ``LastProcessingResult``.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.errors import (
    InvalidParameterValueError,
    ResourceConflictError,
    ResourceNotFoundError,
)
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_.base import LambdaBase
from lambdamaker.services.lambda_.mappings import config as cfg
from lambdamaker.services.lambda_.mappings.sources import source_exists
from lambdamaker.services.lambda_.mappings.tables import esm_checkpoints, esm_mappings
from lambdamaker.services.lambda_.paging import page
from lambdamaker.services.lambda_.records import now_ms

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.mappings.manager import MappingManager

log = logging.getLogger("lambdamaker.lambda")

_BY_UUID = sa.select(esm_mappings).where(esm_mappings.c.uuid == sa.bindparam("uuid"))
_BUSY = ("Creating", "Updating", "Deleting")


def _not_found() -> ResourceNotFoundError:
    return ResourceNotFoundError("The resource you requested does not exist.")


class EventSourceMappingOperations(LambdaBase):
    esm_manager: MappingManager

    def _region(self) -> str:
        return self.platform.config.region

    def _settle(self, mapping_uuid: str) -> None:
        """Start, update or stop the mapping's poller. The change is committed already: a
        poller that cannot start is logged (and retried at the next start), not an API error."""
        try:
            self.esm_manager.sync(mapping_uuid)
        except Exception:
            log.exception("lambda: event source mapping %s did not start", mapping_uuid)

    def _mapping_row(self, conn: Connection, mapping_uuid: str) -> Any:
        row = conn.execute(_BY_UUID, {"uuid": mapping_uuid}).first()
        if row is None:
            raise _not_found()
        return row

    def _mapped_function_arn(self, conn: Connection, function_name: str) -> str:
        name, qualifier = self.arns.parse_function(function_name)
        self.resolve(conn, name, qualifier)  # ResourceNotFoundException when missing
        return self.arns.function(name, qualifier)

    def _check_unique(
        self, conn: Connection, function_arn: str, source_arn: str, own: str | None = None
    ) -> None:
        existing = conn.execute(
            sa.select(esm_mappings.c.uuid).where(
                esm_mappings.c.function_arn == function_arn,
                esm_mappings.c.source_arn == source_arn,
            )
        ).scalar()
        if existing is not None and existing != own:
            function = self.arns.parse_function(function_arn)[0]
            if source_arn.split(":")[2] == "sqs":
                # Lambda words the SQS case differently from the streams'.
                message = (
                    f'An event source mapping with SQS arn (" {source_arn} ") and function '
                    f'(" {function} ") already exists.'
                )
            else:
                message = (
                    f'The event source arn (" {source_arn} ") and function (" {function} ") '
                    "provided mapping already exists."
                )
            raise ResourceConflictError(
                f"{message} Please update or delete the existing mapping with UUID {existing}"
            )

    # --- operations ---------------------------------------------------------------------------

    def create_event_source_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        source_arn = params.get("EventSourceArn")
        if not source_arn:
            raise InvalidParameterValueError(
                "Unrecognized event source, must be kinesis, dynamodb stream or sqs."
            )
        kind = cfg.source_kind(source_arn)
        settings = cfg.validate(kind, source_arn, params)
        settings["Kind"] = kind
        settings["Enabled"] = params.get("Enabled", True) is not False
        if not source_exists(self.platform, kind, source_arn):
            raise InvalidParameterValueError(_missing_source(kind, source_arn))
        mapping_uuid = str(uuid.uuid4())
        with self.store.begin() as conn:
            function_arn = self._mapped_function_arn(conn, params["FunctionName"])
            self._check_unique(conn, function_arn, source_arn)
            conn.execute(
                sa.insert(esm_mappings).values(
                    uuid=mapping_uuid,
                    account=ctx.account_id,
                    function_arn=function_arn,
                    source_arn=source_arn,
                    config=orjson.dumps(settings).decode(),
                    state="Creating",
                    state_reason="USER_INITIATED",
                    # AWS reports it for streams from the start, for SQS once polled.
                    last_result="" if kind == "sqs" else "No records processed",
                    modified_ms=now_ms(),
                )
            )
            row = self._mapping_row(conn, mapping_uuid)
        self._settle(mapping_uuid)
        return cfg.describe(row, self._region())

    def update_event_source_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        mapping_uuid = params["UUID"]
        with self.store.begin() as conn:
            row = self._mapping_row(conn, mapping_uuid)
            if row.state in _BUSY:
                raise ResourceConflictError(
                    "The operation cannot be performed at this time. The event source mapping "
                    f"is currently in {row.state} state."
                )
            current = orjson.loads(row.config)
            kind = current["Kind"]
            settings = cfg.validate(kind, row.source_arn, params, current)
            if params.get("Enabled") is not None:
                settings["Enabled"] = bool(params["Enabled"])
            function_arn = row.function_arn
            if params.get("FunctionName"):
                function_arn = self._mapped_function_arn(conn, params["FunctionName"])
                self._check_unique(conn, function_arn, row.source_arn, own=mapping_uuid)
            conn.execute(
                sa.update(esm_mappings)
                .where(esm_mappings.c.uuid == mapping_uuid)
                .values(
                    function_arn=function_arn,
                    config=orjson.dumps(settings).decode(),
                    state="Updating",
                    state_reason="USER_INITIATED",
                    modified_ms=now_ms(),
                )
            )
            row = self._mapping_row(conn, mapping_uuid)
        self._settle(mapping_uuid)
        return cfg.describe(row, self._region())

    def delete_event_source_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        mapping_uuid = params["UUID"]
        with self.store.begin() as conn:
            row = self._mapping_row(conn, mapping_uuid)
            if row.state in ("Creating", "Deleting"):
                raise ResourceConflictError(
                    "The operation cannot be performed at this time. The event source mapping "
                    f"is currently in {row.state} state."
                )
            conn.execute(
                sa.update(esm_mappings)
                .where(esm_mappings.c.uuid == mapping_uuid)
                .values(state="Deleting", state_reason="USER_INITIATED")
            )
            row = self._mapping_row(conn, mapping_uuid)
        out = cfg.describe(row, self._region())

        def forget() -> None:
            with self.store.begin() as conn:
                conn.execute(
                    sa.delete(esm_checkpoints).where(esm_checkpoints.c.uuid == mapping_uuid)
                )
                conn.execute(sa.delete(esm_mappings).where(esm_mappings.c.uuid == mapping_uuid))

        # The row goes once the poller has stopped (its batch in flight committed): usually at
        # once; a long invocation finishes in the background while the mapping shows Deleting.
        self.esm_manager.stop(mapping_uuid, then=forget)
        return out

    def get_event_source_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.store.read() as conn:
            row = self._mapping_row(conn, params["UUID"])
        return cfg.describe(row, self._region())

    def list_event_source_mappings(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        query = sa.select(esm_mappings).where(esm_mappings.c.account == ctx.account_id)
        source_arn = params.get("EventSourceArn")
        if source_arn:
            query = query.where(esm_mappings.c.source_arn == source_arn)
        function_name = params.get("FunctionName")
        if function_name:
            name, qualifier = self.arns.parse_function(function_name)
            arn = self.arns.function(name, qualifier)
            if qualifier is None:  # the function's mappings, whatever their qualifier
                query = query.where(
                    sa.or_(
                        esm_mappings.c.function_arn == arn,
                        esm_mappings.c.function_arn.like(f"{arn}:%"),
                    )
                )
            else:
                query = query.where(esm_mappings.c.function_arn == arn)
        with self.store.read() as conn:
            rows = conn.execute(query.order_by(esm_mappings.c.uuid)).all()
        chunk, marker = page(rows, params, key=lambda r: str(r.uuid), default_max=100)
        out: dict[str, Any] = {
            "EventSourceMappings": [cfg.describe(r, self._region()) for r in chunk]
        }
        if marker:
            out["NextMarker"] = marker
        return out


def _missing_source(kind: str, arn: str) -> str:
    if kind == "sqs":
        return (
            "Error occurred while ReceiveMessage. SQS Error Code: "
            "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue "
            "does not exist or you do not have access to it."
        )
    if kind == "kinesis":
        return f"Stream not found: {arn}"
    return f"Stream not found: {arn}"
