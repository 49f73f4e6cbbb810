"""PutEvents: validate each entry, build the event as EventBridge delivers it, and commit every
accepted one to ``eb_events`` before answering; the dispatcher (``dispatch``) delivers it. An
entry's EventId is returned only for a committed row; a bad entry fails alone, as in AWS."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.base import RequestContext
from lambdamaker.services.events import tables as t
from lambdamaker.services.events.base import EventsBase
from lambdamaker.services.events.buses import bus_exists
from lambdamaker.services.events.common import (
    EventsNotFoundError,
    EventsValidationError,
    bus_name_of,
)

MAX_REQUEST_BYTES = 256 * 1024


def entry_size(entry: dict[str, Any]) -> int:
    """AWS's size rule: 14 bytes for Time, plus the UTF-8 bytes of the other fields."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len((entry.get(key) or "").encode())
    return size + sum(len(r.encode()) for r in entry.get("Resources") or [])


def _entry_error(entry: dict[str, Any]) -> tuple[str, str] | None:
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return (
                "InvalidArgument",
                f"Parameter {key} is not valid. Reason: {key} is a required argument.",
            )
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None


def _time_text(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PutEventsOperations(EventsBase):
    async def put_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries: list[dict[str, Any]] = params["Entries"]
        if sum(entry_size(e) for e in entries) > MAX_REQUEST_BYTES:
            raise EventsValidationError(
                "Total size of the entries in the request is over the limit."
            )
        results = await self.committer.run_async(lambda conn: self._put(conn, ctx, entries))
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    def _put(
        self, conn: Connection, ctx: RequestContext, entries: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Each entry's result; the accepted ones are inserted on ``conn`` (the group's
        transaction: the answer is sent only after it commits)."""
        results: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        now = time.time()
        for entry in entries:
            error = _entry_error(entry)
            bus = None
            if error is None:
                try:
                    bus = bus_name_of(ctx, entry.get("EventBusName"))
                except (EventsNotFoundError, EventsValidationError) as exc:
                    error = (exc.code, exc.message)
            if error is None and bus is not None and not bus_exists(conn, ctx, bus):
                error = ("ResourceNotFoundException", f"Event bus {bus} does not exist.")
            if error is not None or bus is None:
                code, message = error or ("InternalFailure", "")
                results.append({"ErrorCode": code, "ErrorMessage": message})
                continue
            event_id = str(uuid.uuid4())
            event = {
                "version": "0",
                "id": event_id,
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": ctx.account_id,
                "time": _time_text(entry.get("Time")),
                "region": ctx.region,
                "resources": list(entry.get("Resources") or []),
                "detail": json.loads(entry["Detail"]),
            }
            rows.append({
                "event_id": event_id, "account": ctx.account_id, "region": ctx.region,
                "bus": bus, "event": json.dumps(event), "created_at": now,
            })  # fmt: skip
            results.append({"EventId": event_id})
        if rows:
            conn.execute(sa.insert(t.events), rows)
            self.platform.store.after_commit(conn, self.dispatcher.notify)
        return results
