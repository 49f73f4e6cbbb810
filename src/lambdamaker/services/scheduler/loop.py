"""The scheduler loop: fires due schedules into their targets, retries failed deliveries, and
dead-letters what runs out of retries.

One thread per platform (``start()``/``close()``), woken by ``notify()`` after a schedule is
created, updated or deleted, and otherwise sleeping until the earliest ``next_due_us`` or retry
(at most a minute, so a clock that jumps is noticed). ``run_once()`` does one pass and is what
tests call with a fake ``clock``.

Invariants:
- A tick is fired in one write transaction that re-reads the schedule, delivers the target's
  payload with ``services.deliver`` and stores the new cursor. Write transactions are
  serialized, so two loops (or processes sharing PostgreSQL) never fire a tick twice, and a
  crash before the commit fires nothing: the tick is fired again after the restart, once.
- A delivery that fails is rolled back to a savepoint and recorded in ``sch_attempts`` in that
  same transaction; retries happen with exponential backoff (1 s doubling, at most 5 min) until
  the target's RetryPolicy (MaximumRetryAttempts, MaximumEventAgeInSeconds) is exhausted, then
  the payload goes to the DeadLetterConfig queue (or is dropped with a log line). A target the
  platform cannot deliver to (an unsupported service, such as Scheduler's universal
  ``aws-sdk`` targets) or a payload it can never take (non-JSON Input for an EventBridge bus)
  is dead-lettered without retries.
- A schedule whose last tick has passed is deleted in the transaction that finishes it when its
  ActionAfterCompletion is DELETE.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.services.background import BackgroundLoop
from lambdamaker.services.deliver import deliver
from lambdamaker.services.scheduler import tables as t
from lambdamaker.services.scheduler.common import DEFAULT_EVENT_AGE, DEFAULT_RETRY_ATTEMPTS
from lambdamaker.services.scheduler.timing import decide, timing_of

if TYPE_CHECKING:
    from lambdamaker.platform import Platform

log = logging.getLogger(__name__)

BATCH = 100
MAX_FIRINGS_PER_PASS = 10_000
MAX_BACKOFF_S = 300
IDLE_WAKE_S = 60.0

_PK = (
    t.schedules.c.account == sa.bindparam("k_account"),
    t.schedules.c.region == sa.bindparam("k_region"),
    t.schedules.c.group_name == sa.bindparam("k_group_name"),
    t.schedules.c.name == sa.bindparam("k_name"),
)
_KEY_NAMES = ("k_account", "k_region", "k_group_name", "k_name")
_SELECT_ONE = sa.select(t.schedules).where(*_PK)
_DUE = (
    sa.select(
        t.schedules.c.account, t.schedules.c.region, t.schedules.c.group_name, t.schedules.c.name
    )
    .where(
        t.schedules.c.state == "ENABLED",
        t.schedules.c.next_due_us.is_not(None),
        t.schedules.c.next_due_us <= sa.bindparam("now"),
    )
    .order_by(t.schedules.c.next_due_us)
    .limit(BATCH)
)
_DUE_ATTEMPTS = (
    sa.select(t.attempts.c.id)
    .where(t.attempts.c.not_before_us <= sa.bindparam("now"))
    .order_by(t.attempts.c.not_before_us)
    .limit(BATCH)
)


def backoff_us(attempts: int) -> int:
    return min(2 ** max(attempts - 1, 0), MAX_BACKOFF_S) * 1_000_000


class SchedulerLoop:
    def __init__(self, platform: Platform, clock: Callable[[], float] = time.time) -> None:
        self.platform = platform
        self.store = platform.store
        self.clock = clock
        self.loop = BackgroundLoop(
            "scheduler-loop", self.run_once, min_wait=0.001, max_wait=IDLE_WAKE_S
        )
        self.run_in_thread = True
        """False: ``start()`` starts no thread and the owner calls ``run_once()`` (tests on a
        fake clock set this, and ``clock``, before the platform starts)."""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self.run_in_thread:
            self.loop.start()

    def notify(self) -> None:
        self.loop.notify()

    def close(self) -> None:
        self.loop.close()

    def now_us(self) -> int:
        return round(self.clock() * 1_000_000)

    # --- one pass -------------------------------------------------------------------------

    def run_once(self) -> float:
        """Fire every due tick and retry every due delivery; seconds until the next work.

        A schedule or retry whose processing raises (a store error, a bug) is logged and left
        for the next pass, so it cannot stall the others.
        """
        now = self.now_us()
        fired = 0
        broken: set[tuple[Any, ...]] = set()
        while fired < MAX_FIRINGS_PER_PASS:
            with self.store.read() as conn:
                rows = [tuple(row) for row in conn.execute(_DUE, {"now": now})]
            keys = [row for row in rows if row not in broken]
            if not keys:
                break
            for row in keys:
                try:
                    self._fire(dict(zip(_KEY_NAMES, row, strict=True)), now)
                except Exception:
                    log.exception("scheduler: firing %s failed", "/".join(map(str, row)))
                    broken.add(row)
                fired += 1
        failed: set[int] = set()
        while True:
            with self.store.read() as conn:
                ids = [i for i in conn.execute(_DUE_ATTEMPTS, {"now": now}).scalars()]
            ids = [i for i in ids if i not in failed]
            if not ids:
                break
            for attempt_id in ids:
                try:
                    self._retry(attempt_id, now)
                except Exception:
                    log.exception("scheduler: retry %d failed", attempt_id)
                    failed.add(attempt_id)
        return self._seconds_to_next(now)

    def _seconds_to_next(self, now: int) -> float:
        with self.store.read() as conn:
            due = conn.execute(
                sa.select(sa.func.min(t.schedules.c.next_due_us)).where(
                    t.schedules.c.state == "ENABLED"
                )
            ).scalar()
            retry = conn.execute(sa.select(sa.func.min(t.attempts.c.not_before_us))).scalar()
        moments = [m for m in (due, retry) if m is not None]
        if not moments:
            return IDLE_WAKE_S
        return max(min(moments) - now, 0) / 1_000_000

    def _fire(self, key: dict[str, Any], now: int) -> None:
        with self.store.begin() as conn:
            row = conn.execute(_SELECT_ONE, key).first()
            if (
                row is None
                or row.state != "ENABLED"
                or row.next_due_us is None
                or row.next_due_us > now
            ):
                return  # changed since the read: someone else fired or edited it
            document = json.loads(row.document)
            decision = decide(timing_of(row.arn, document, row.anchor_us), row.cursor_us, now)
            if decision.skipped:
                log.info("scheduler: %s missed ticks; firing only the latest", row.arn)
            if decision.fire is not None:
                target = document["Target"]
                self._attempt(conn, row.arn, target, _body(target), decision.fire, now, attempts=0)
            if decision.next_due is None and document.get("ActionAfterCompletion") == "DELETE":
                conn.execute(sa.delete(t.schedules).where(*_PK), key)
                return
            conn.execute(
                sa.update(t.schedules)
                .where(*_PK)
                .values(cursor_us=decision.cursor, next_due_us=decision.next_due),
                key,
            )

    def _retry(self, attempt_id: int, now: int) -> None:
        with self.store.begin() as conn:
            row = conn.execute(sa.select(t.attempts).where(t.attempts.c.id == attempt_id)).first()
            if row is None or row.not_before_us > now:
                return
            conn.execute(sa.delete(t.attempts).where(t.attempts.c.id == attempt_id))
            self._attempt(
                conn,
                row.schedule_arn,
                json.loads(row.target),
                row.body,
                row.tick_us,
                now,
                attempts=row.attempts,
                fired_us=row.fired_us,
            )

    def _attempt(
        self,
        conn: Connection,
        schedule_arn: str,
        target: dict[str, Any],
        body: str,
        tick: int,
        now: int,
        *,
        attempts: int,
        fired_us: int | None = None,
    ) -> None:
        """Deliver once more; on failure record the next retry or dead-letter, on ``conn``."""
        fired_us = now if fired_us is None else fired_us
        attempts += 1
        try:
            with conn.begin_nested():
                self._deliver(conn, schedule_arn, target, body, tick)
            return
        except Exception as exc:
            code = str(getattr(exc, "code", type(exc).__name__))
            message = str(getattr(exc, "message", "") or exc)
            # No such kind of target (deliver's InvalidParameterValue), or an Input an
            # EventBridge target cannot take as its detail (not JSON): retrying cannot help.
            permanent = code == "InvalidParameterValue" or isinstance(exc, ValueError)
        policy = target.get("RetryPolicy") or {}
        max_retries = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        max_age_us = int(policy.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE)) * 1_000_000
        exhausted = attempts - 1 >= max_retries or now - fired_us >= max_age_us
        if permanent or exhausted:
            self._dead_letter(conn, schedule_arn, target, body, tick, attempts, code, message)
            return
        log.info("scheduler: delivering %s to %s failed (%s); retrying", schedule_arn,
                 target.get("Arn"), code)  # fmt: skip
        conn.execute(
            sa.insert(t.attempts).values(
                schedule_arn=schedule_arn,
                target=json.dumps(target),
                body=body,
                tick_us=tick,
                fired_us=fired_us,
                attempts=attempts,
                not_before_us=now + backoff_us(attempts),
                error_code=code,
                error_message=message[:2000],
            )
        )

    def _deliver(
        self, conn: Connection, schedule_arn: str, target: dict[str, Any], body: str, tick: int
    ) -> None:
        sqs = target.get("SqsParameters") or {}
        group_id = sqs.get("MessageGroupId")
        # FIFO: the same tick always has the same deduplication id.
        dedup = hashlib.sha256(f"{schedule_arn}|{tick}".encode()).hexdigest() if group_id else None
        events = target.get("EventBridgeParameters") or {}
        deliver(
            self.platform,
            conn,
            str(target["Arn"]),
            body,
            group_id=group_id,
            dedup_id=dedup,
            source=events.get("Source"),
            detail_type=events.get("DetailType"),
        )

    def _dead_letter(
        self,
        conn: Connection,
        schedule_arn: str,
        target: dict[str, Any],
        body: str,
        tick: int,
        attempts: int,
        code: str,
        message: str,
    ) -> None:
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not dlq:
            log.warning("scheduler: dropped %s tick %d after %d attempts: %s %s",
                        schedule_arn, tick, attempts, code, message)  # fmt: skip
            return
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in (
                ("ERROR_CODE", code),
                ("ERROR_MESSAGE", message or code),
                ("EXECUTION_ID", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{schedule_arn}|{tick}"))),
                ("RETRY_ATTEMPTS", str(attempts - 1)),
                ("SCHEDULE_ARN", schedule_arn),
                ("TARGET_ARN", str(target.get("Arn"))),
            )
        }
        try:
            with conn.begin_nested():
                deliver(self.platform, conn, dlq, body, attributes=attributes)
        except Exception as exc:
            log.warning("scheduler: dead-lettering %s to %s failed: %s", schedule_arn, dlq, exc)


def _body(target: dict[str, Any]) -> str:
    # Templated targets receive Input as given; without one, an empty JSON object.
    return str(target.get("Input") or "{}")
