"""The delivery dispatcher: a thread that routes committed events to their rules' targets.

Invariants:
- Events are taken from ``eb_events`` in ``seq`` order. A batch of them is matched against the
  ENABLED pattern rules of its bus outside any write transaction (matching is the costly part
  and must not hold up writers), then delivered to every matching rule's targets and marked
  ``delivered`` in one transaction: a crash before the commit routes the
  batch again (nothing was delivered), after it never again. Delivery is at-least-once only
  towards targets outside the store (none today), exactly-once into queues, topics, functions
  and buses of this platform.
- A target delivery that fails in that transaction becomes a row of ``eb_deliveries`` in the
  same transaction (or a DLQ message, see ``routing``); due rows are retried, each retry in one
  transaction that also deletes, updates or dead-letters the row.
- At start the dispatcher drains whatever is undelivered or due, so a restart (even after
  ``kill -9``) resumes where the last process stopped.
- An event forwarded bus to bus more than ``routing.MAX_HOPS`` times is dropped and logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lambdamaker.services.background import BackgroundLoop
from lambdamaker.services.events import tables as t
from lambdamaker.services.events.routing import MAX_HOPS, Job, Router, RuleCache, shape_body

if TYPE_CHECKING:
    from lambdamaker.store import Store

log = logging.getLogger("lambdamaker.events")

BATCH = 100
IDLE_WAIT = 5.0


class Dispatcher:
    def __init__(
        self, store: Store, router: Router, cache: RuleCache, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.router = router
        self.cache = cache
        self.clock = clock
        self.loop = BackgroundLoop(
            "events-delivery", self.drain, min_wait=0.005, max_wait=IDLE_WAIT
        )

    def start(self) -> None:
        self.loop.start()

    def notify(self) -> None:
        self.loop.notify()

    def close(self) -> None:
        self.loop.close()

    def _stopped(self) -> bool:
        return self.loop.stopped()

    # --- one pass -------------------------------------------------------------------------

    def drain(self) -> float:
        """Route every undelivered event, retry every due delivery; seconds until the next."""
        while self.route_batch() and not self._stopped():
            pass
        while self.retry_batch() and not self._stopped():
            pass
        with self.store.read() as conn:
            due = conn.execute(sa.select(sa.func.min(t.deliveries.c.next_attempt_at))).scalar()
        if due is None:
            return IDLE_WAIT
        return min(IDLE_WAIT, float(due) - self.clock())

    def route_batch(self) -> int:
        """Route up to ``BATCH`` undelivered events; how many.

        Matching (the CPU-heavy part: events x rules) runs on a read connection, outside the
        write transaction, so PutEvents and every other writer are not held up by it; the
        deliveries and the ``delivered`` marks then commit together. Only this thread marks
        events delivered, so the batch read cannot be routed twice."""
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(t.events, t.event_hops.c.hops)
                .join(t.event_hops, t.event_hops.c.seq == t.events.c.seq, isouter=True)
                .where(t.events.c.delivered == sa.false())
                .order_by(t.events.c.seq)
                .limit(BATCH)
            ).all()
            if not rows:
                return 0
            jobs: list[Job] = []
            for row in rows:
                hops = int(row.hops or 0)
                if hops > MAX_HOPS:
                    log.warning("events: dropped event %s: forwarded %d times", row.event_id, hops)
                    continue
                jobs.extend(self._plan(conn, row, hops))
        now = self.clock()
        with self.store.begin() as conn:
            for job in jobs:
                self.router.run(conn, job, now)
            conn.execute(
                sa.update(t.events)
                .where(t.events.c.seq.in_([r.seq for r in rows]))
                .values(delivered=True)
            )
        return len(rows)

    def _plan(self, conn: Any, row: Any, hops: int) -> list[Job]:
        """The deliveries one event makes: a job per target of every matching rule."""
        event: dict[str, Any] = json.loads(row.event)
        jobs: list[Job] = []
        for route in self.cache.routes(conn, row.account, row.region, row.bus):
            if route.pattern is None or not route.pattern.matches(event):
                continue
            for target in route.targets:
                try:
                    body = shape_body(target, row.event, event, route, row.created_at)
                except Exception:
                    log.exception("events: shaping input for %s failed", target.get("Arn"))
                    continue
                jobs.append(
                    Job(
                        account=row.account,
                        region=row.region,
                        rule_arn=route.rule_arn,
                        target=target,
                        event_text=row.event,
                        body=body,
                        hops=hops,
                        created_at=row.created_at,
                    )
                )
        return jobs

    def retry_batch(self) -> int:
        """Retry up to ``BATCH`` due deliveries, one transaction each; how many."""
        now = self.clock()
        with self.store.read() as conn:
            ids = list(
                conn.execute(
                    sa.select(t.deliveries.c.id)
                    .where(t.deliveries.c.next_attempt_at <= now)
                    .order_by(t.deliveries.c.next_attempt_at, t.deliveries.c.id)
                    .limit(BATCH)
                ).scalars()
            )
        for row_id in ids:
            with self.store.begin() as conn:
                row = conn.execute(
                    sa.select(t.deliveries).where(t.deliveries.c.id == row_id)
                ).first()
                if row is None:
                    continue
                job = Job(
                    account=row.account,
                    region=row.region,
                    rule_arn=row.rule_arn,
                    target=json.loads(row.target),
                    event_text=row.event,
                    body=row.body,
                    hops=row.hops,
                    created_at=row.created_at,
                    attempts=row.attempts,
                    row_id=row.id,
                )
                self.router.run(conn, job, self.clock())
            if self._stopped():
                break
        return len(ids)
