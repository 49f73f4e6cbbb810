"""``lambdamaker logs FN``: print a function's log events, and follow new ones.

It calls FilterLogEvents on ``/aws/lambda/FN`` (or on any group, given as ``/group/name``) over
the public API. ``--follow`` polls until Ctrl-C. Events become readable shortly after they are
written and a slow environment may deliver a line stamped a little in the past, so each poll
looks back ``LOOKBACK_MS`` before the newest event seen and skips event ids already printed.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from lambdamaker.cli.connection import (
    DataDirOption,
    EndpointOption,
    aws_errors,
    connect,
    error_code,
    fail,
)

LOOKBACK_MS = 10_000
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_since(text: str, now_ms: int) -> int:
    """``10m``, ``1h30m``, ``2d`` (ago), or an ISO 8601 time, as epoch milliseconds."""
    spec = text.strip().lower()
    if spec and _DURATION.sub("", spec).strip() == "":
        total = sum(float(n) * _UNIT_MS[u] for n, u in _DURATION.findall(spec))
        return now_ms - int(total)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a duration (30s, 10m, 2h, 1d) nor an ISO 8601 time"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is local time, as a user typing it means
    return int(when.timestamp() * 1000)


def log_group_of(function: str) -> str:
    """``/aws/lambda/NAME`` for a function name or ARN; a ``/...`` name is a log group as is."""
    if function.startswith("/"):
        return function
    if function.startswith("arn:"):
        parts = function.split(":")
        function = parts[6] if len(parts) > 6 else function
    return f"/aws/lambda/{function}"


def format_event(event: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
    stamp = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"
    stream = str(event.get("logStreamName", ""))
    short = stream.rsplit("]", 1)[-1][:8] if "]" in stream else stream[-8:]
    message = str(event.get("message", "")).rstrip()  # Lambda's REPORT line ends in "\t\n"
    return f"{stamp} {short} {message}"


def fetch(client: Any, group: str, start_ms: int, pattern: str | None) -> list[dict[str, Any]]:
    """Every event of ``group`` from ``start_ms`` on (all pages), oldest first."""
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": max(0, start_ms)}
    if pattern:
        kwargs["filterPattern"] = pattern
    events: list[dict[str, Any]] = []
    while True:
        page = client.filter_log_events(**kwargs)
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token:
            return events
        kwargs["nextToken"] = token


def logs(
    function: Annotated[str, typer.Argument(help="Function name or ARN (or a /log/group).")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    since: Annotated[
        str, typer.Option(help="Start this long ago (30s, 10m, 2h, 1d) or at an ISO time.")
    ] = "10m",
    filter_pattern: Annotated[
        str | None,
        typer.Option("--filter", help="A CloudWatch Logs filter pattern: ERROR, '{ $.x = 1 }'."),
    ] = None,
    endpoint_url: EndpointOption = None,
    data_dir: DataDirOption = None,
    poll_interval: Annotated[float, typer.Option(hidden=True)] = 1.0,
) -> None:
    """Print a function's logs (log group /aws/lambda/FUNCTION); times are UTC."""
    conn = connect(endpoint_url, data_dir)
    group = log_group_of(function)
    cursor = parse_since(since, int(time.time() * 1000))
    with aws_errors(conn):
        client = conn.client("logs")
        try:
            _print_logs(client, group, cursor, filter_pattern, follow, poll_interval)
        except KeyboardInterrupt:
            raise typer.Exit(0) from None


def _print_logs(
    client: Any,
    group: str,
    cursor: int,
    pattern: str | None,
    follow: bool,
    poll_interval: float,
) -> None:
    seen: dict[str, int] = {}  # event id -> timestamp, within the lookback window
    waiting_said = False
    while True:
        try:
            events = fetch(client, group, cursor, pattern)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            if not follow:
                raise fail(
                    f"No log group {group}: the function has not logged anything yet "
                    "(or does not exist)."
                ) from None
            if not waiting_said:
                typer.secho(f"Waiting for {group} to appear...", err=True, dim=True)
                waiting_said = True
            events = []
        events.sort(key=lambda e: (e["timestamp"], int(e.get("eventId") or 0)))
        for event in events:
            event_id = str(event.get("eventId", ""))
            if event_id in seen:
                continue
            seen[event_id] = event["timestamp"]
            typer.echo(format_event(event))
        if not follow:
            return
        if seen:
            cursor = max(cursor, max(seen.values()) - LOOKBACK_MS)
            seen = {k: t for k, t in seen.items() if t >= cursor}
        time.sleep(poll_interval)
