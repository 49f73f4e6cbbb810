"""Scheduled rules: rules with a ScheduleExpression fire ``Scheduled Event``s to their targets.

Each scheduled rule (on the default bus) has a row in ``eb_schedule_cursors``: the expression
and anchor it was planned for, and the cursor, the last tick fired or dropped. A pass plans each
rule with ``engines.events.schedule_cursor.ScheduleCursor`` (read its missed-tick policy: of
the ticks missed while the server was down only the latest fires, once) and, in ONE
transaction, delivers the tick's event to the rule's targets (``routing.Router``) and stores
the new cursor.

Invariants:
- A tick fires only if it is after the committed cursor, and the cursor moves past it in the
  transaction that delivers it: no tick fires twice, across restarts or ``kill -9``.
- A new rule's cursor and anchor are its creation time (``rate(5 minutes)`` first fires five
  minutes after PutRule; no tick before creation fires). A rule whose expression changed is
  re-anchored at the moment the change is seen. Ticks while a rule is DISABLED are consumed
  without firing, so enabling it does not fire a catch-up tick.
- Scheduled events go to the rule's own targets only (they are not matched against other
  rules), with ``resources`` naming the rule, as AWS sends them.

Clock: ``clock`` is injectable (tests drive ``run_once`` with a fake clock). The server's clock
is ``time.time()`` plus ``LAMBDAMAKER_EVENTS_CLOCK_OFFSET`` seconds (default 0), a test-only
setting that lets an end-to-end test put the next minute boundary a few seconds away.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.engines.events.schedule import ScheduleExpressionError
from lambdamaker.engines.events.schedule_cursor import ScheduleCursor
from lambdamaker.services.background import BackgroundLoop
from lambdamaker.services.events import tables as t
from lambdamaker.services.events.common import DEFAULT_BUS
from lambdamaker.services.events.routing import Job, Router, load_routes, shape_body
from lambdamaker.store import Store

log = logging.getLogger("lambdamaker.events")

MAX_WAIT = 60.0
CLOCK_OFFSET_ENV = "LAMBDAMAKER_EVENTS_CLOCK_OFFSET"


def clock_offset() -> float:
    return float(os.environ.get(CLOCK_OFFSET_ENV) or 0.0)


def _dt(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def scheduled_event(rule: Any, tick: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": rule.account,
        "time": tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": rule.region,
        "resources": [rule.arn],
        "detail": {},
    }


class RuleScheduler:
    def __init__(
        self,
        store: Store,
        router: Router,
        clock: Callable[[], float] | None = None,
        *,
        threaded: bool = True,
    ) -> None:
        self.store = store
        self.router = router
        # Rules record their creation in wall-clock time; the offset maps it onto our clock.
        self.offset = clock_offset() if clock is None else 0.0
        self.clock = clock or (lambda: time.time() + self.offset)
        self.threaded = threaded
        self.loop = BackgroundLoop("events-scheduler", self._pass, min_wait=0.01, max_wait=MAX_WAIT)

    def start(self) -> None:
        if self.threaded:
            self.loop.start()

    def notify(self) -> None:
        self.loop.notify()

    def close(self) -> None:
        self.loop.close()

    def _pass(self) -> float | None:
        wake_at = self.run_once()
        return None if wake_at is None else wake_at - self.clock()

    def run_once(self) -> float | None:
        """Fire every due tick; the earliest next tick (epoch seconds), if any."""
        with self.store.read() as conn:
            rules = conn.execute(
                sa.select(t.rules).where(
                    t.rules.c.schedule.is_not(None), t.rules.c.bus == DEFAULT_BUS
                )
            ).all()
        wake: float | None = None
        for rule in rules:
            with self.store.begin() as conn:
                nxt = self._tick(conn, rule)
            if nxt is not None and (wake is None or nxt < wake):
                wake = nxt
        self._forget_deleted(rules)
        return wake

    def _forget_deleted(self, rules: Sequence[Any]) -> None:
        live = {(r.account, r.region, r.name) for r in rules}
        with self.store.read() as conn:
            cursors = conn.execute(sa.select(t.schedule_cursors)).all()
        orphans = [c for c in cursors if (c.account, c.region, c.rule) not in live]
        if not orphans:
            return
        with self.store.begin() as conn:
            for row in orphans:
                conn.execute(sa.delete(t.schedule_cursors).where(_cursor_where(row)))

    def _tick(self, conn: Connection, rule: Any) -> float | None:
        now = self.clock()
        where = _cursor_where(rule, column="name")
        current = conn.execute(sa.select(t.schedule_cursors).where(where)).first()
        if current is None or current.expression != rule.schedule:
            anchor = float(rule.created_at) + self.offset if current is None else now
            values = {"expression": rule.schedule, "anchor": anchor, "cursor": anchor}
            if current is None:
                conn.execute(
                    sa.insert(t.schedule_cursors).values(
                        account=rule.account, region=rule.region, rule=rule.name, **values
                    )
                )
            else:
                conn.execute(sa.update(t.schedule_cursors).where(where).values(values))
            anchor_at, cursor_at = anchor, anchor
        else:
            anchor_at, cursor_at = float(current.anchor), float(current.cursor)
        try:
            timing = ScheduleCursor(rule.schedule, anchor=_dt(anchor_at))
            plan = timing.plan(_dt(cursor_at), _dt(now))
        except ScheduleExpressionError as exc:
            log.warning("events: rule %s has an unusable schedule: %s", rule.arn, exc)
            return None
        if plan.due is not None and rule.state != "DISABLED":
            self._fire(conn, rule, plan.due, now)
        if plan.cursor.timestamp() != cursor_at:
            conn.execute(
                sa.update(t.schedule_cursors).where(where).values(cursor=plan.cursor.timestamp())
            )
        return None if plan.wake_at is None else plan.wake_at.timestamp()

    def _fire(self, conn: Connection, rule: Any, tick: datetime, now: float) -> None:
        event = scheduled_event(rule, tick)
        text = json.dumps(event)
        routes = load_routes(conn, rule.account, rule.region, DEFAULT_BUS, patterns=False,
                             rule=rule.name)  # fmt: skip
        for route in routes:
            for target in route.targets:
                body = shape_body(target, text, event, route, now)
                job = Job(rule.account, rule.region, route.rule_arn, target, text, body, 0, now)
                self.router.run(conn, job, now)


def _cursor_where(row: Any, column: str = "rule") -> Any:
    return sa.and_(
        t.schedule_cursors.c.account == row.account,
        t.schedule_cursors.c.region == row.region,
        t.schedule_cursors.c.rule == getattr(row, column),
    )
