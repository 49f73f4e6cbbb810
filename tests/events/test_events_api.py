"""EventBridge buses, rules and TestEventPattern over HTTP with boto3, against the session server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
EVENT = {
    "id": "1", "account": ACCOUNT, "source": "app.orders", "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1", "resources": [], "detail-type": "OrderPlaced",
    "detail": {"amount": 42, "customer": {"tier": "gold"}},
}  # fmt: skip


@pytest.fixture(scope="module")
def events(boto_client: Callable[..., Any]) -> Any:
    return boto_client("events")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


# --- buses ------------------------------------------------------------------------------------


def test_the_default_bus_always_exists(events: Any) -> None:
    bus = events.describe_event_bus()
    assert bus["Name"] == "default"
    assert bus["Arn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names
    with pytest.raises(ClientError) as exc:
        events.delete_event_bus(Name="default")
    assert error_of(exc)[:2] == ("ValidationException", 400)


def test_create_describe_list_and_delete_a_bus(events: Any) -> None:
    name = unique("bus")
    arn = events.create_event_bus(Name=name, Description="orders")["EventBusArn"]
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/{name}"
    bus = events.describe_event_bus(Name=name)
    assert (bus["Name"], bus["Arn"], bus["Description"]) == (name, arn, "orders")
    assert "CreationTime" in bus
    assert events.describe_event_bus(Name=arn)["Name"] == name
    listed = events.list_event_buses(NamePrefix=name)["EventBuses"]
    assert [b["Name"] for b in listed] == [name]
    with pytest.raises(ClientError) as exc:
        events.create_event_bus(Name=name)
    assert error_of(exc) == (
        "ResourceAlreadyExistsException",
        400,
        f"Event bus {name} already exists.",
    )
    events.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as exc:
        events.describe_event_bus(Name=name)
    assert error_of(exc) == ("ResourceNotFoundException", 400, f"Event bus {name} does not exist.")
    events.delete_event_bus(Name=name)  # AWS: deleting a missing bus succeeds


def test_list_event_buses_pages(events: Any) -> None:
    prefix = unique("page")
    for i in range(3):
        events.create_event_bus(Name=f"{prefix}-{i}")
    first = events.list_event_buses(NamePrefix=prefix, Limit=2)
    assert [b["Name"] for b in first["EventBuses"]] == [f"{prefix}-0", f"{prefix}-1"]
    rest = events.list_event_buses(NamePrefix=prefix, Limit=2, NextToken=first["NextToken"])
    assert [b["Name"] for b in rest["EventBuses"]] == [f"{prefix}-2"]
    assert "NextToken" not in rest


def test_bad_bus_names_are_rejected(events: Any) -> None:
    with pytest.raises(ClientError) as exc:
        events.create_event_bus(Name="bad name!")
    assert error_of(exc)[:2] == ("ValidationException", 400)


# --- rules ------------------------------------------------------------------------------------


def test_put_describe_and_list_rules(events: Any) -> None:
    name = unique("rule")
    pattern = json.dumps({"source": ["app.orders"]})
    arn = events.put_rule(Name=name, EventPattern=pattern, Description="d")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{name}"
    rule = events.describe_rule(Name=name)
    assert rule["EventPattern"] == pattern
    assert (rule["State"], rule["EventBusName"], rule["Description"]) == ("ENABLED", "default", "d")
    listed = events.list_rules(NamePrefix=name)["Rules"]
    assert [r["Name"] for r in listed] == [name]
    # PutRule again updates in place.
    events.put_rule(Name=name, EventPattern=pattern, State="DISABLED")
    assert events.describe_rule(Name=name)["State"] == "DISABLED"


def test_rules_on_a_custom_bus(events: Any) -> None:
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    name = unique("rule")
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern='{"source": ["x"]}')["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{bus}/{name}"
    assert events.describe_rule(Name=name, EventBusName=bus)["EventBusName"] == bus
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [name]
    assert events.list_rules(NamePrefix=name)["Rules"] == []
    with pytest.raises(ClientError) as exc:
        events.put_rule(Name=name, EventBusName=bus, ScheduleExpression="rate(5 minutes)")
    assert error_of(exc) == (
        "ValidationException", 400, "ScheduleExpression is supported only on the default event bus."
    )  # fmt: skip
    with pytest.raises(ClientError) as exc:
        events.put_rule(Name=name, EventBusName=unique("nobus"), EventPattern='{"a": ["x"]}')
    assert error_of(exc)[:2] == ("ResourceNotFoundException", 400)


def test_schedule_rules(events: Any) -> None:
    name = unique("sched")
    events.put_rule(Name=name, ScheduleExpression="cron(0 12 * * ? *)")
    assert events.describe_rule(Name=name)["ScheduleExpression"] == "cron(0 12 * * ? *)"
    for bad in ("rate(0 minutes)", "rate(5 minute)", "rate(1 minutes)", "cron(* * * * *)", "daily"):
        with pytest.raises(ClientError) as exc:
            events.put_rule(Name=name, ScheduleExpression=bad)
        assert error_of(exc) == (
            "ValidationException",
            400,
            "Parameter ScheduleExpression is not valid.",
        )
    with pytest.raises(ClientError) as exc:
        events.put_rule(Name=name)
    assert error_of(exc)[:2] == ("ValidationException", 400)


def test_an_invalid_pattern_changes_nothing(events: Any) -> None:
    name = unique("rule")
    with pytest.raises(ClientError) as exc:
        events.put_rule(Name=name, EventPattern='{"a": [{"prefix": 1}]}')
    assert error_of(exc) == (
        "InvalidEventPatternException", 400,
        "Event pattern is not valid. Reason: prefix match pattern must be a string",
    )  # fmt: skip
    assert events.list_rules(NamePrefix=name)["Rules"] == []


def test_enable_disable_and_delete_rules(events: Any) -> None:
    name = unique("rule")
    events.put_rule(Name=name, EventPattern='{"source": ["x"]}')
    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    events.enable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "ENABLED"
    events.delete_rule(Name=name)
    for call in (events.describe_rule, events.enable_rule, events.disable_rule):
        with pytest.raises(ClientError) as exc:
            call(Name=name)
        assert error_of(exc) == (
            "ResourceNotFoundException", 400, f"Rule {name} does not exist on EventBus default."
        )  # fmt: skip
    events.delete_rule(Name=name)  # AWS: deleting a missing rule succeeds


def test_list_rules_pages(events: Any) -> None:
    prefix = unique("pr")
    for i in range(3):
        events.put_rule(Name=f"{prefix}-{i}", EventPattern='{"source": ["x"]}')
    first = events.list_rules(NamePrefix=prefix, Limit=2)
    assert [r["Name"] for r in first["Rules"]] == [f"{prefix}-0", f"{prefix}-1"]
    rest = events.list_rules(NamePrefix=prefix, Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in rest["Rules"]] == [f"{prefix}-2"]


def test_deleting_a_bus_deletes_its_rules(events: Any) -> None:
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    events.put_rule(Name="r", EventBusName=bus, EventPattern='{"source": ["x"]}')
    events.delete_event_bus(Name=bus)
    events.create_event_bus(Name=bus)
    assert events.list_rules(EventBusName=bus)["Rules"] == []


# --- TestEventPattern -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["app.orders"]}, True),
        ({"source": ["other"]}, False),
        ({"detail": {"amount": [{"numeric": [">", 40, "<=", 42]}]}}, True),
        ({"detail": {"customer": {"tier": [{"anything-but": "gold"}]}}}, False),
        ({"detail-type": [{"prefix": "Order"}], "detail": {"missing": [{"exists": False}]}}, True),
        ({"$or": [{"source": ["x"]}, {"detail": {"amount": [42]}}]}, True),
    ],
)
def test_test_event_pattern_answers_as_the_matcher(
    events: Any, pattern: dict[str, Any], expected: bool
) -> None:
    result = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    assert result["Result"] is expected


def test_test_event_pattern_rejects_bad_input(events: Any) -> None:
    with pytest.raises(ClientError) as exc:
        events.test_event_pattern(EventPattern='{"a": []}', Event=json.dumps(EVENT))
    assert error_of(exc) == (
        "InvalidEventPatternException", 400,
        "Event pattern is not valid. Reason: Empty arrays are not allowed",
    )  # fmt: skip
    partial = {k: v for k, v in EVENT.items() if k != "detail-type"}
    with pytest.raises(ClientError) as exc:
        events.test_event_pattern(EventPattern='{"source": ["x"]}', Event=json.dumps(partial))
    assert error_of(exc)[:2] == ("InvalidEventPatternException", 400)
    with pytest.raises(ClientError) as exc:
        events.test_event_pattern(EventPattern='{"source": ["x"]}', Event="not json")
    assert error_of(exc)[:2] == ("InvalidEventPatternException", 400)
