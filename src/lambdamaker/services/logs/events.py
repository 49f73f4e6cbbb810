"""Log events: PutLogEvents, GetLogEvents, FilterLogEvents.

PutLogEvents commits before it answers (an acknowledged batch survives ``kill -9``) and follows
AWS's current rules: sequence tokens are accepted and ignored; events more than 2 hours in the
future, more than 14 days old, or older than the group's retention are rejected individually and
reported in ``rejectedLogEventsInfo`` while the others are stored; the batch must be in
chronological order, span at most 24 hours, and weigh at most 1,048,576 bytes (messages in
UTF-8 plus 26 bytes per event).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from lambdamaker.observability.filter_pattern import FilterPatternError, compile_pattern
from lambdamaker.observability.log_types import LogEvent, Position
from lambdamaker.services.base import Provider, RequestContext
from lambdamaker.services.logs.common import (
    InvalidParameterError,
    decode_pair,
    decode_position,
    encode_pair,
    encode_position,
    group_name_of,
    invalid_token,
)

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 1_048_576 - EVENT_OVERHEAD
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class EventOperations(Provider):
    def _rejections(
        self, timestamps: list[int], retention_days: int | None, now: int
    ) -> tuple[int, int, int]:
        """(too old end, expired end, too new start): indices splitting a sorted batch."""
        too_old = sum(1 for t in timestamps if t < now - 14 * DAY_MS)
        expired = 0
        if retention_days is not None:
            expired = sum(1 for t in timestamps if t < now - retention_days * DAY_MS)
        too_new = len(timestamps)
        while too_new > 0 and timestamps[too_new - 1] > now + 2 * HOUR_MS:
            too_new -= 1
        return too_old, expired, too_new

    def put_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group, stream = params["logGroupName"], params["logStreamName"]
        raw = params["logEvents"]
        events = [(int(e["timestamp"]), str(e["message"])) for e in raw]
        size = 0
        for _, message in events:
            n = len(message.encode("utf-8", "surrogatepass"))
            if n > MAX_EVENT_BYTES:
                raise InvalidParameterError(
                    f"Log event too large: {n} bytes exceeds limit of {MAX_EVENT_BYTES}"
                )
            size += n + EVENT_OVERHEAD
        if size > MAX_BATCH_BYTES:
            raise InvalidParameterError(
                f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
            )
        stamps = [t for t, _ in events]
        if any(b < a for a, b in itertools.pairwise(stamps)):
            raise InvalidParameterError(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        logs = self.platform.logs
        info = logs.get_group(group)  # ResourceNotFoundException before any other check
        now = logs.now_ms()
        too_old, expired, too_new = self._rejections(stamps, info.retention_days, now)
        first_ok = max(too_old, expired)
        accepted = events[first_ok:too_new] if first_ok < too_new else []
        if accepted and accepted[-1][0] - accepted[0][0] > DAY_MS:
            raise InvalidParameterError(
                "The batch of log events in a single PutLogEvents request cannot span more "
                "than 24 hours."
            )
        if accepted:
            logs.put_events(group, stream, accepted)
        else:
            logs.get_events(group, stream, limit=1)  # the stream must exist all the same
        out: dict[str, Any] = {"nextSequenceToken": f"{time.time_ns():056d}"}
        rejected: dict[str, int] = {}
        if too_old:
            rejected["tooOldLogEventEndIndex"] = too_old
        if expired:
            rejected["expiredLogEventEndIndex"] = expired
        if too_new < len(events):
            rejected["tooNewLogEventStartIndex"] = too_new
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out

    def get_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of(params, ctx.account_id)
        stream = params["logStreamName"]
        token: str | None = params.get("nextToken")
        limit = int(params.get("limit") or 10_000)
        start, end = params.get("startTime"), params.get("endTime")
        logs = self.platform.logs
        window: dict[str, Any] = {"start": start, "end": end, "limit": limit}
        if token is not None:
            direction, _, digits = token.partition("/")
            if direction not in ("f", "b"):
                raise invalid_token()
            pos = decode_position(digits)
            if direction == "f":
                events = logs.get_events(group, stream, after=pos, **window)
            else:
                events = logs.get_events(group, stream, before=pos, **window)
            if not events:
                # Nothing new that way: hand the same token back (the end-of-stream signal).
                other = ("b/" if direction == "f" else "f/") + digits
                forward, backward = (token, other) if direction == "f" else (other, token)
                return {"events": [], "nextForwardToken": forward, "nextBackwardToken": backward}
        else:
            from_tail = not params.get("startFromHead", False)
            events = logs.get_events(group, stream, from_tail=from_tail, **window)
            if not events:
                origin = encode_position((int(start or 0), 0))
                return {
                    "events": [],
                    "nextForwardToken": "f/" + origin,
                    "nextBackwardToken": "b/" + origin,
                }
        return {
            "events": [
                {"timestamp": e.timestamp_ms, "message": e.message, "ingestionTime": e.ingestion_ms}
                for e in events
            ],
            "nextForwardToken": "f/" + encode_position(events[-1].position),
            "nextBackwardToken": "b/" + encode_position(events[0].position),
        }

    def filter_log_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        group = group_name_of(params, ctx.account_id)
        names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise InvalidParameterError(
                "logStreamNames and logStreamNamePrefix are mutually exclusive"
            )
        try:
            pattern = compile_pattern(params.get("filterPattern"))
        except FilterPatternError as exc:
            raise InvalidParameterError("Invalid filter pattern") from exc
        descending = not params.get("startFromHead", True)
        position: Position | None = None
        token = params.get("nextToken")
        if token is not None:
            # The token's direction wins over startFromHead, as AWS documents.
            which, position = decode_pair("ad", token)
            descending = which == "d"
        start, end = params.get("startTime"), params.get("endTime")
        events: list[LogEvent]
        if start is not None and end is not None and start > end:
            events, following = [], None
        else:
            events, following = self.platform.logs.filter_events(
                group,
                pattern=pattern,
                stream_names=names,
                stream_prefix=prefix,
                start=start,
                end=end,
                position=position,
                descending=descending,
                limit=int(params.get("limit") or 10_000),
            )
        out: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": e.stream,
                    "timestamp": e.timestamp_ms,
                    "message": e.message,
                    "ingestionTime": e.ingestion_ms,
                    "eventId": str(e.id),
                }
                for e in events
            ],
            "searchedLogStreams": [],
        }
        if following is not None:
            out["nextToken"] = encode_pair("d" if descending else "a", following)
        return out
