"""Routing one event to rule targets: the rule cache, input shaping, one delivery attempt, and
what a failed attempt becomes (a retry row, a dead letter, or a logged drop).

Invariants:
- Every attempt runs inside a savepoint of the caller's transaction: a target that refuses
  the delivery leaves nothing behind, and the failure's consequence (retry row, DLQ message)
  commits in the same transaction as the caller's own progress (the event marked delivered,
  the retry row deleted, the schedule cursor moved). A delivery is therefore never lost and,
  once committed, never repeated.
- Errors a retry can't fix (the target does not exist, no permission, a target type this
  platform doesn't deliver to) are not retried: the event goes straight to the DLQ, as AWS
  documents. Everything else is retried per the target's ``RetryPolicy`` with exponential
  backoff (1 s doubling to 5 minutes, jittered), the delays and the maximum age scaled by
  ``PlatformConfig.async_retry_scale`` (``LAMBDAMAKER_ASYNC_RETRY_SCALE``).
- The cache of compiled rules is keyed by bus and tagged with a generation number read before
  loading; any committed change to rules or targets bumps the generation, so a stale entry is
  used at most by an event being matched while the change commits.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.events.patterns import EventPattern, InvalidEventPattern
from lambdamaker.engines.events.transform import InputTransformer, JsonPath, input_path_body
from lambdamaker.errors import ServiceError
from lambdamaker.services.deliver import arn_service, deliver
from lambdamaker.services.events import tables as t

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger("lambdamaker.events")

DEFAULT_MAX_RETRIES = 185
DEFAULT_MAX_AGE = 86400.0
MAX_BACKOFF = 300.0
MAX_HOPS = 16
"""Bus-to-bus forwards an event may make; a longer chain is a loop, dropped and logged."""
_NOT_RETRIED = {
    "QueueDoesNotExist": "NO_RESOURCE",
    "AWS.SimpleQueueService.NonExistentQueue": "NO_RESOURCE",
    "NotFound": "NO_RESOURCE",
    "ResourceNotFoundException": "NO_RESOURCE",
    "AccessDenied": "NO_PERMISSIONS",
    "AccessDeniedException": "NO_PERMISSIONS",
    "AuthorizationError": "NO_PERMISSIONS",
    "InvalidParameterValue": "INVALID_PARAMETER",
    "InvalidParameter": "INVALID_PARAMETER",
    "UnsupportedTarget": "SDK_CLIENT_ERROR",
}


@dataclass(frozen=True)
class Route:
    rule_name: str
    rule_arn: str
    pattern: EventPattern | None
    targets: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Failure:
    code: str  # the ERROR_CODE a DLQ message carries
    message: str
    retriable: bool


class RuleCache:
    """Compiled ENABLED pattern rules (with their targets) per (account, region, bus)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._entries: dict[tuple[str, str, str], tuple[int, list[Route]]] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def routes(self, conn: Connection, account: str, region: str, bus: str) -> list[Route]:
        key = (account, region, bus)
        with self._lock:
            generation = self._generation
            entry = self._entries.get(key)
        if entry is not None and entry[0] == generation:
            return entry[1]
        routes = load_routes(conn, account, region, bus, patterns=True)
        with self._lock:
            if self._generation == generation:
                self._entries[key] = (generation, routes)
        return routes


def load_routes(
    conn: Connection, account: str, region: str, bus: str, *, patterns: bool, rule: str = ""
) -> list[Route]:
    """Enabled rules of ``bus`` with their targets: pattern rules, or one scheduled ``rule``."""
    query = sa.select(t.rules).where(
        t.rules.c.account == account,
        t.rules.c.region == region,
        t.rules.c.bus == bus,
        t.rules.c.state != "DISABLED",
    )
    if patterns:
        query = query.where(t.rules.c.event_pattern.is_not(None))
    else:
        query = query.where(t.rules.c.name == rule)
    targets: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(
        sa.select(t.targets.c.rule, t.targets.c.document)
        .where(t.targets.c.account == account, t.targets.c.region == region, t.targets.c.bus == bus)
        .order_by(t.targets.c.target_id)
    ):
        targets.setdefault(row.rule, []).append(json.loads(row.document))
    routes: list[Route] = []
    for row in conn.execute(query.order_by(t.rules.c.name)):
        pattern = None
        if patterns:
            try:
                pattern = EventPattern.compile(row.event_pattern)
            except InvalidEventPattern:  # validated on PutRule; never match rather than flood
                continue
        routes.append(Route(row.name, row.arn, pattern, tuple(targets.get(row.name, ()))))
    return routes


def iso_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def shape_body(
    target: dict[str, Any], event_text: str, event: dict[str, Any], route: Route, ingested: float
) -> str:
    """What ``target`` receives for ``event``: Input, InputPath, InputTransformer or the event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath") is not None:
        return input_path_body(JsonPath.compile(target["InputPath"]), event)
    spec = target.get("InputTransformer")
    if spec is not None:
        transformer = InputTransformer.compile(spec.get("InputPathsMap"), spec["InputTemplate"])
        return transformer.render(
            event,
            rule_name=route.rule_name,
            rule_arn=route.rule_arn,
            ingestion_time=iso_time(ingested),
        )
    return event_text


@dataclass
class Job:
    """One delivery of one event to one target (fresh, or a retry row's)."""

    account: str
    region: str
    rule_arn: str
    target: dict[str, Any]
    event_text: str
    body: str
    hops: int
    created_at: float
    attempts: int = 0
    row_id: int | None = None


class Router:
    """Attempts deliveries and records their failures; used by the dispatcher and scheduler."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def scale(self) -> float:
        return float(self.platform.config.async_retry_scale)

    def _send(self, conn: Connection, job: Job) -> None:
        arn = str(job.target["Arn"])
        service = arn_service(arn)
        if service == "events":
            events = self.platform.providers["events"]
            events.forward(conn, arn, job.event_text, job.hops + 1)  # type: ignore[attr-defined]
            return
        if service == "states":
            log.warning("events: Step Functions targets are not supported yet (%s)", arn)
            raise ServiceError("Step Functions targets are not supported yet", code="NotSupported")
        if service not in ("sqs", "sns", "lambda"):
            raise ServiceError(
                f"Targets of type {service} are not supported", code="UnsupportedTarget"
            )
        group_id = dedup_id = None
        if arn.endswith(".fifo"):
            group_id = (job.target.get("SqsParameters") or {}).get("MessageGroupId")
            dedup_id = json.loads(job.event_text).get("id")
        deliver(self.platform, conn, arn, job.body, group_id=group_id, dedup_id=dedup_id)

    def attempt(self, conn: Connection, job: Job) -> Failure | None:
        """Deliver ``job`` inside a savepoint of ``conn``; the failure, if it failed."""
        savepoint = conn.begin_nested()
        try:
            self._send(conn, job)
        except ServiceError as exc:
            savepoint.rollback()
            mapped = _NOT_RETRIED.get(exc.code)
            if mapped is not None:
                return Failure(mapped, exc.message, retriable=False)
            code = "THROTTLING" if "hrottl" in exc.code else "SDK_CLIENT_ERROR"
            return Failure(code, exc.message, retriable=True)
        except Exception as exc:
            savepoint.rollback()
            log.exception("events: delivery to %s failed in the platform", job.target.get("Arn"))
            return Failure("INTERNAL_ERROR", str(exc), retriable=True)
        savepoint.commit()
        return None

    def run(self, conn: Connection, job: Job, now: float) -> bool:
        """Attempt ``job`` and handle its outcome on ``conn``; True if it was delivered."""
        failure = self.attempt(conn, job)
        if failure is None:
            if job.row_id is not None:
                conn.execute(sa.delete(t.deliveries).where(t.deliveries.c.id == job.row_id))
            return True
        self.failed(conn, job, failure, now)
        return False

    def failed(self, conn: Connection, job: Job, failure: Failure, now: float) -> None:
        policy = job.target.get("RetryPolicy") or {}
        max_retries = int(policy.get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE)) * self.scale
        retries = job.attempts  # retries made before this failed attempt
        delay = min(MAX_BACKOFF, 2.0**retries) * (0.5 + random.random() / 2) * self.scale
        condition: str | None = None
        if not failure.retriable:
            condition = ""
        elif retries >= max_retries:
            condition = "MaximumRetryAttempts"
        elif now + delay - job.created_at > max_age:
            condition = "MaximumEventAgeInSeconds"
        if condition is None:
            values = {
                "attempts": retries + 1, "next_attempt_at": now + delay,
                "error_code": failure.code, "error_message": failure.message[:4000],
            }  # fmt: skip
            if job.row_id is not None:
                conn.execute(
                    sa.update(t.deliveries).where(t.deliveries.c.id == job.row_id).values(values)
                )
            else:
                conn.execute(
                    sa.insert(t.deliveries).values(
                        account=job.account,
                        region=job.region,
                        rule_arn=job.rule_arn,
                        target=json.dumps(job.target),
                        event=job.event_text,
                        body=job.body,
                        hops=job.hops,
                        created_at=job.created_at,
                        **values,
                    )
                )
            return
        if job.row_id is not None:
            conn.execute(sa.delete(t.deliveries).where(t.deliveries.c.id == job.row_id))
        self._dead_letter(conn, job, failure, condition, retries)

    def _dead_letter(
        self, conn: Connection, job: Job, failure: Failure, condition: str, retries: int
    ) -> None:
        dlq = (job.target.get("DeadLetterConfig") or {}).get("Arn")
        target_arn = job.target.get("Arn")
        if not dlq:
            log.warning(
                "events: dropped an event for %s (%s: %s)",
                target_arn,
                failure.code,
                failure.message,
            )
            return
        attributes = {
            "RULE_ARN": job.rule_arn,
            "TARGET_ARN": str(target_arn),
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message[:4000] or failure.code,
            "RETRY_ATTEMPTS": str(retries),
        }
        if condition:
            attributes["EXHAUSTED_RETRY_CONDITION"] = condition
        shaped = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
        savepoint = conn.begin_nested()
        try:
            deliver(self.platform, conn, dlq, job.event_text, attributes=shaped)
        except Exception as exc:
            savepoint.rollback()
            log.warning(
                "events: dropped an event for %s: its DLQ %s failed: %s", target_arn, dlq, exc
            )
            return
        savepoint.commit()
