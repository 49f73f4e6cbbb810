"""EventBridge durability with a real server: events accepted before ``kill -9`` are delivered
after the restart, exactly once into SQS; undelivered rows left by a crash are routed at start;
a scheduled rule's tick fires once, even when the server is killed right after it."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from eb_support import bodies, new_queue, receive

from lambdamaker.services.events.scheduler import CLOCK_OFFSET_ENV
from lambdamaker.services.events.tables import events as events_table
from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess


def _undelivered(data_dir: Path) -> int:
    store = Store(f"sqlite:///{data_dir / 'lambdamaker.db'}")
    try:
        with store.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(events_table)
                    .where(events_table.c.delivered == sa.false())
                ).scalar_one()
            )
    finally:
        store.close()


@pytest.mark.slow
def test_events_accepted_before_kill_9_are_delivered_once_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        events, sqs = server.client("events"), server.client("sqs")
        url, arn = new_queue(sqs)
        events.put_rule(Name="all", EventPattern='{"source": ["crash.test"]}')
        events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
        ids: list[str] = []
        for batch in range(20):
            out = events.put_events(
                Entries=[
                    {"Source": "crash.test", "DetailType": "t", "Detail": json.dumps({"i": i})}
                    for i in range(batch * 10, batch * 10 + 10)
                ]
            )
            ids += [e["EventId"] for e in out["Entries"]]
        server.kill()
        print(f"undelivered at the kill: {_undelivered(data)} of {len(ids)}")

        # A crash between PutEvents' commit and routing, made certain: a committed row that the
        # dispatcher never saw.
        store = Store(f"sqlite:///{data / 'lambdamaker.db'}")
        late_id = str(uuid.uuid4())
        event = {
            "version": "0", "id": late_id, "detail-type": "t", "source": "crash.test",
            "account": "000000000000", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {"late": True},
        }  # fmt: skip
        try:
            with store.begin() as conn:
                conn.execute(
                    sa.insert(events_table).values(
                        event_id=late_id,
                        account="000000000000",
                        region="us-east-1",
                        bus="default",
                        event=json.dumps(event),
                        created_at=time.time(),
                    )
                )
        finally:
            store.close()

        server.start()
        sqs = server.client("sqs")
        got = bodies(receive(sqs, url, len(ids) + 1, timeout=60))
        got += bodies(receive(sqs, url, 1, timeout=2))  # nothing more may come
        assert sorted(e["id"] for e in got) == sorted([*ids, late_id]), server.log()
        assert _undelivered(data) == 0
    finally:
        server.stop()


@pytest.mark.slow
def test_scheduled_rule_fires_on_time_and_not_again_after_kill_9(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shift the server's scheduler clock so that a minute boundary falls ~12 s from now (on a
    # slow start the next one, a minute later, still passes within the timeout).
    offset = (-(time.time() + 12)) % 60
    monkeypatch.setenv(CLOCK_OFFSET_ENV, str(offset))
    server = ServerProcess(tmp_path / "data").start()
    try:
        events, sqs = server.client("events"), server.client("sqs")
        url, arn = new_queue(sqs)
        rule_arn = events.put_rule(Name="minutely", ScheduleExpression="cron(* * * * ? *)")[
            "RuleArn"
        ]
        events.put_targets(Rule="minutely", Targets=[{"Id": "q", "Arn": arn}])
        [event] = bodies(receive(sqs, url, 1, timeout=75))
        assert event["detail-type"] == "Scheduled Event"
        assert event["resources"] == [rule_arn]
        assert event["time"].endswith(":00Z")
        server.kill()
        server.start()
        sqs = server.client("sqs")
        assert receive(sqs, url, 1, timeout=3) == [], "the tick fired again after the restart"
    finally:
        server.stop()
