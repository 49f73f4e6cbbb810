"""EventBridge targets (stored) and PutEvents (committed durably) over HTTP with boto3."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from lambdamaker.services.events.tables import events as events_table
from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:orders"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:score"


@pytest.fixture(scope="module")
def events(boto_client: Callable[..., Any]) -> Any:
    return boto_client("events")


@pytest.fixture()
def rule(events: Any) -> str:
    name = f"rule-{uuid.uuid4().hex[:10]}"
    events.put_rule(Name=name, EventPattern='{"source": ["app"]}')
    return name


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


# --- targets ----------------------------------------------------------------------------------


def test_put_list_and_remove_targets(events: Any, rule: str) -> None:
    out = events.put_targets(
        Rule=rule,
        Targets=[
            {"Id": "q", "Arn": QUEUE_ARN, "InputPath": "$.detail"},
            {
                "Id": "f",
                "Arn": FUNCTION_ARN,
                "Input": '{"k": 1}',
                "RetryPolicy": {"MaximumRetryAttempts": 3},
            },
        ],
    )
    assert out["FailedEntryCount"] == 0
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert [(t["Id"], t["Arn"]) for t in targets] == [("f", FUNCTION_ARN), ("q", QUEUE_ARN)]
    assert targets[0]["Input"] == '{"k": 1}'
    assert targets[0]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    assert targets[1]["InputPath"] == "$.detail"
    # Same Id again replaces the target.
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": FUNCTION_ARN}])
    targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert {t["Id"]: t["Arn"] for t in targets} == {"f": FUNCTION_ARN, "q": FUNCTION_ARN}
    page = events.list_targets_by_rule(Rule=rule, Limit=1)
    assert [t["Id"] for t in page["Targets"]] == ["f"]
    rest = events.list_targets_by_rule(Rule=rule, Limit=1, NextToken=page["NextToken"])
    assert [t["Id"] for t in rest["Targets"]] == ["q"]
    # A rule with targets can't be deleted.
    with pytest.raises(ClientError) as exc:
        events.delete_rule(Name=rule)
    assert error_of(exc) == (
        "ValidationException",
        400,
        "Rule can't be deleted since it has targets.",
    )
    assert events.remove_targets(Rule=rule, Ids=["f", "q"])["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []
    events.delete_rule(Name=rule)


def test_bad_targets_change_nothing(events: Any, rule: str) -> None:
    bad = [
        ([{"Id": "a", "Arn": "not-an-arn"}], "ValidationException"),
        ([{"Id": "a", "Arn": QUEUE_ARN, "Input": "{}", "InputPath": "$"}], "ValidationException"),
        ([{"Id": "a", "Arn": QUEUE_ARN, "Input": "{not json"}], "ValidationException"),
        ([{"Id": "bad id!", "Arn": QUEUE_ARN}], "ValidationException"),
        ([{"Id": f"t{i}", "Arn": QUEUE_ARN} for i in range(6)], "LimitExceededException"),
    ]
    for targets, code in bad:
        with pytest.raises(ClientError) as exc:
            events.put_targets(Rule=rule, Targets=targets)
        assert error_of(exc)[:2] == (code, 400)
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []


def test_targets_of_a_missing_rule(events: Any) -> None:
    for call, kwargs in (
        (events.put_targets, {"Targets": [{"Id": "a", "Arn": QUEUE_ARN}]}),
        (events.remove_targets, {"Ids": ["a"]}),
        (events.list_targets_by_rule, {}),
    ):
        with pytest.raises(ClientError) as exc:
            call(Rule="no-such-rule", **kwargs)
        assert error_of(exc) == (
            "ResourceNotFoundException", 400, "Rule no-such-rule does not exist on EventBus default."
        )  # fmt: skip


# --- PutEvents --------------------------------------------------------------------------------


def test_put_events_returns_an_id_per_accepted_entry(events: Any) -> None:
    bus = f"bus-{uuid.uuid4().hex[:10]}"
    events.create_event_bus(Name=bus)
    out = events.put_events(
        Entries=[
            {"Source": "app", "DetailType": "t", "Detail": '{"a": 1}'},
            {"Source": "app", "DetailType": "t", "Detail": '{"a": 2}', "EventBusName": bus},
            {"Source": "app", "DetailType": "t", "Detail": "[1]"},
            {"Source": "app", "DetailType": "t", "Detail": "{bad"},
            {"Source": "app", "DetailType": "t", "Detail": "{}", "EventBusName": "nope-bus"},
            {"DetailType": "t", "Detail": "{}"},
        ]
    )
    entries = out["Entries"]
    assert out["FailedEntryCount"] == 4
    assert all(uuid.UUID(e["EventId"]) for e in entries[:2])
    assert [e.get("ErrorCode") for e in entries[2:]] == [
        "MalformedDetail",
        "MalformedDetail",
        "ResourceNotFoundException",
        "InvalidArgument",
    ]
    assert entries[5]["ErrorMessage"] == (
        "Parameter Source is not valid. Reason: Source is a required argument."
    )


def test_put_events_refuses_requests_over_256_kib(events: Any) -> None:
    detail = json.dumps({"x": "y" * (130 * 1024)})
    entry = {"Source": "app", "DetailType": "t", "Detail": detail}
    with pytest.raises(ClientError) as exc:
        events.put_events(Entries=[entry, entry])
    assert error_of(exc) == (
        "ValidationException", 400, "Total size of the entries in the request is over the limit."
    )  # fmt: skip
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_accepted_events_survive_a_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        client = server.client("events")
        when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        ids = [
            client.put_events(
                Entries=[
                    {
                        "Source": "app",
                        "DetailType": "t",
                        "Detail": json.dumps({"i": i}),
                        "Time": when,
                        "Resources": ["arn:r"],
                    }
                ]
            )["Entries"][0]["EventId"]
            for i in range(5)
        ]
        server.kill()
    finally:
        server.stop()
    store = Store(f"sqlite:///{tmp_path / 'data' / 'lambdamaker.db'}")
    try:
        with store.read() as conn:
            rows = list(conn.execute(sa.select(events_table).order_by(events_table.c.seq)))
    finally:
        store.close()
    assert [r.event_id for r in rows] == ids
    first = json.loads(rows[0].event)
    assert first == {
        "version": "0", "id": ids[0], "detail-type": "t", "source": "app",
        "account": "000000000000", "time": "2026-01-02T03:04:05Z", "region": "us-east-1",
        "resources": ["arn:r"], "detail": {"i": 0},
    }  # fmt: skip
