"""EventBridge Scheduler through boto3 against the session server: schedule and group CRUD,
listing and paging, validation errors, tags, and a real one-time schedule firing into SQS."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdamaker.testing import zip_source
from queue_support import create_queue

ROLE = "arn:aws:iam::000000000000:role/scheduler"
OFF = {"Mode": "OFF"}


@pytest.fixture()
def scheduler(boto_client: Callable[..., Any]) -> Any:
    return boto_client("scheduler")


@pytest.fixture()
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


def _name(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _target(
    arn: str = "arn:aws:sqs:us-east-1:000000000000:nowhere", **extra: Any
) -> dict[str, Any]:
    return {"Arn": arn, "RoleArn": ROLE, **extra}


def _error(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_create_get_update_delete_schedule(scheduler: Any) -> None:
    name = _name()
    arn = scheduler.create_schedule(
        Name=name,
        ScheduleExpression="cron(0 12 * * ? *)",
        ScheduleExpressionTimezone="Europe/Paris",
        Description="noon",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target=_target(Input='{"a": 1}'),
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule/default/{name}"
    got = scheduler.get_schedule(Name=name)
    assert got["Arn"] == arn
    assert got["GroupName"] == "default"
    assert got["State"] == "ENABLED"
    assert got["ScheduleExpression"] == "cron(0 12 * * ? *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["ActionAfterCompletion"] == "NONE"
    assert got["Target"]["Input"] == '{"a": 1}'
    assert got["Target"]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 86400,
        "MaximumRetryAttempts": 185,
    }
    assert isinstance(got["CreationDate"], datetime)

    end = datetime.now(UTC) + timedelta(days=30)
    scheduler.update_schedule(
        Name=name,
        ScheduleExpression="rate(2 hours)",
        State="DISABLED",
        EndDate=end,
        FlexibleTimeWindow=OFF,
        Target=_target(Input="x"),
    )
    got = scheduler.get_schedule(Name=name)
    assert got["ScheduleExpression"] == "rate(2 hours)"
    assert got["State"] == "DISABLED"
    assert abs((got["EndDate"] - end).total_seconds()) < 1
    assert "Description" not in got  # UpdateSchedule replaces the whole definition

    scheduler.delete_schedule(Name=name)
    with pytest.raises(ClientError) as info:
        scheduler.get_schedule(Name=name)
    assert _error(info) == ("ResourceNotFoundException", 404, f"Schedule {name} does not exist.")
    with pytest.raises(ClientError) as info:
        scheduler.delete_schedule(Name=name)
    assert _error(info)[0] == "ResourceNotFoundException"


def test_duplicate_name_is_a_conflict(scheduler: Any) -> None:
    name = _name()
    kwargs = {"ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": OFF, "Target": _target()}
    scheduler.create_schedule(Name=name, **kwargs)
    with pytest.raises(ClientError) as info:
        scheduler.create_schedule(Name=name, **kwargs)
    assert _error(info) == ("ConflictException", 409, f"Schedule {name} already exists.")
    scheduler.delete_schedule(Name=name)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ScheduleExpression": "rate(0 minutes)"}, "Invalid Schedule Expression rate(0 minutes)"),
        ({"ScheduleExpression": "rate(1 minutes)"}, "Invalid Schedule Expression rate(1 minutes)"),
        (
            {"ScheduleExpression": "cron(0 12 * * * *)"},
            "Invalid Schedule Expression cron(0 12 * * * *)",
        ),
        (
            {"ScheduleExpression": "at(2030-02-30T00:00:00)"},
            "Invalid Schedule Expression at(2030-02-30T00:00:00)",
        ),
        (
            {"ScheduleExpressionTimezone": "Mars/Olympus"},
            "Invalid ScheduleExpressionTimezone Mars/Olympus",
        ),
        ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}}, "MaximumWindowInMinutes"),
        (
            {"FlexibleTimeWindow": {"Mode": "OFF", "MaximumWindowInMinutes": 5}},
            "MaximumWindowInMinutes",
        ),
        ({"StartDate": datetime(2020, 1, 1, tzinfo=UTC)}, "StartDate"),
        (
            {
                "StartDate": datetime.now(UTC) + timedelta(days=2),
                "EndDate": datetime.now(UTC) + timedelta(days=1),
            },
            "EndDate",
        ),
    ],
)
def test_invalid_definitions_are_validation_errors(
    scheduler: Any, changes: dict[str, Any], message: str
) -> None:
    params: dict[str, Any] = {
        "Name": _name(),
        "ScheduleExpression": "rate(1 hour)",
        "FlexibleTimeWindow": OFF,
        "Target": _target(),
    }
    params.update(changes)
    with pytest.raises(ClientError) as info:
        scheduler.create_schedule(**params)
    code, status, text = _error(info)
    assert (code, status) == ("ValidationException", 400)
    assert message in text
    with pytest.raises(ClientError):
        scheduler.get_schedule(Name=params["Name"])


def test_model_constraints_are_validation_errors(scheduler: Any) -> None:
    with pytest.raises(ClientError) as info:
        scheduler.create_schedule(
            Name=_name(),
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441},
            Target=_target(),
        )
    assert _error(info)[:2] == ("ValidationException", 400)


def test_unknown_group_is_not_found(scheduler: Any) -> None:
    with pytest.raises(ClientError) as info:
        scheduler.create_schedule(
            Name=_name(),
            GroupName="no-such-group",
            ScheduleExpression="rate(1 hour)",
            FlexibleTimeWindow=OFF,
            Target=_target(),
        )
    assert _error(info) == (
        "ResourceNotFoundException",
        404,
        "Schedule group no-such-group does not exist.",
    )
    with pytest.raises(ClientError) as info:
        scheduler.list_schedules(GroupName="no-such-group")
    assert _error(info)[0] == "ResourceNotFoundException"


def test_list_schedules_filters_and_pages(scheduler: Any) -> None:
    group = _name("g")
    scheduler.create_schedule_group(Name=group)
    names = [f"job-{i}" for i in range(5)]
    for i, name in enumerate(names):
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression="rate(1 day)",
            State="DISABLED" if i % 2 else "ENABLED",
            FlexibleTimeWindow=OFF,
            Target=_target(),
        )
    scheduler.create_schedule(
        Name="other", GroupName=group, ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow=OFF, Target=_target(),
    )  # fmt: skip
    seen: list[str] = []
    kwargs: dict[str, Any] = {"GroupName": group, "NamePrefix": "job-", "MaxResults": 2}
    while True:
        page = scheduler.list_schedules(**kwargs)
        assert len(page["Schedules"]) <= 2
        seen.extend(s["Name"] for s in page["Schedules"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == names
    disabled = scheduler.list_schedules(GroupName=group, State="DISABLED")["Schedules"]
    assert [s["Name"] for s in disabled] == ["job-1", "job-3"]
    summary = disabled[0]
    assert summary["GroupName"] == group
    assert summary["Target"] == {"Arn": "arn:aws:sqs:us-east-1:000000000000:nowhere"}
    paginator = scheduler.get_paginator("list_schedules")
    every = [s["Name"] for p in paginator.paginate(GroupName=group) for s in p["Schedules"]]
    assert every == [*names, "other"]
    # Deleting the group deletes its schedules.
    scheduler.delete_schedule_group(Name=group)
    with pytest.raises(ClientError):
        scheduler.get_schedule(Name="job-0", GroupName=group)


def test_schedule_groups_and_tags(scheduler: Any) -> None:
    group = _name("g")
    arn = scheduler.create_schedule_group(Name=group, Tags=[{"Key": "team", "Value": "a"}])[
        "ScheduleGroupArn"
    ]
    assert arn == f"arn:aws:scheduler:us-east-1:000000000000:schedule-group/{group}"
    got = scheduler.get_schedule_group(Name=group)
    assert (got["Name"], got["State"], got["Arn"]) == (group, "ACTIVE", arn)
    default = scheduler.get_schedule_group(Name="default")
    assert default["Arn"].endswith(":schedule-group/default")
    names = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and group in names
    assert [
        g["Name"] for g in scheduler.list_schedule_groups(NamePrefix=group)["ScheduleGroups"]
    ] == [group]
    with pytest.raises(ClientError) as info:
        scheduler.create_schedule_group(Name=group)
    assert _error(info)[:2] == ("ConflictException", 409)

    scheduler.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}]
    )
    tags = scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}]
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "env", "Value": "dev"}
    ]

    with pytest.raises(ClientError) as info:
        scheduler.delete_schedule_group(Name="default")
    assert _error(info)[:2] == ("ValidationException", 400)
    scheduler.delete_schedule_group(Name=group)
    with pytest.raises(ClientError) as info:
        scheduler.get_schedule_group(Name=group)
    assert _error(info) == (
        "ResourceNotFoundException",
        404,
        f"Schedule group {group} does not exist.",
    )
    with pytest.raises(ClientError) as info:
        scheduler.list_tags_for_resource(ResourceArn=arn)
    assert _error(info)[0] == "ResourceNotFoundException"


def _receive(sqs: Any, url: str, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if got:
            return list(got)
    return []


def test_one_time_schedule_fires_into_sqs_and_is_deleted(scheduler: Any, sqs: Any) -> None:
    url, queue_arn = create_queue(sqs)
    name = _name("once")
    when = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0, tzinfo=None)
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=f"at({when.isoformat()})",
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
        Target=_target(queue_arn, Input=json.dumps({"hello": "scheduler"})),
    )
    messages = _receive(sqs, url, timeout=15)
    assert [json.loads(m["Body"]) for m in messages] == [{"hello": "scheduler"}]
    with pytest.raises(ClientError) as info:
        scheduler.get_schedule(Name=name)
    assert _error(info)[0] == "ResourceNotFoundException"


def test_rate_schedule_fires_at_creation_into_an_sns_topic(
    scheduler: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    sns = boto_client("sns")
    url, queue_arn = create_queue(sqs)
    topic = sns.create_topic(Name=_name("t"))["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    name = _name("sns")
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF,
        Target=_target(topic, Input="via sns"),
    )
    try:
        assert [m["Body"] for m in _receive(sqs, url, timeout=15)] == ["via sns"]
    finally:
        scheduler.delete_schedule(Name=name)


def test_schedule_puts_an_event_on_a_bus_with_its_source_and_detail_type(
    scheduler: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    events = boto_client("events")
    url, queue_arn = create_queue(sqs)
    source = _name("my.app")
    rule = _name("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
    name = _name("eb")
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF,
        Target=_target(
            bus,
            Input=json.dumps({"n": 1}),
            EventBridgeParameters={"Source": source, "DetailType": "Tick"},
        ),
    )
    try:
        [message] = _receive(sqs, url, timeout=15)
        event = json.loads(message["Body"])
        assert (event["source"], event["detail-type"], event["detail"]) == (
            source,
            "Tick",
            {"n": 1},
        )
    finally:
        scheduler.delete_schedule(Name=name)
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)


def test_schedule_invokes_a_lambda_function_asynchronously(
    scheduler: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    lam = boto_client("lambda")
    url, queue_arn = create_queue(sqs)
    function = _name("fn")
    arn = lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": zip_source("def handler(event, context):\n    return event\n")},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=function, WaiterConfig={"Delay": 1})
    lam.put_function_event_invoke_config(
        FunctionName=function,
        DestinationConfig={"OnSuccess": {"Destination": queue_arn}},
    )
    name = _name("fn")
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF,
        Target=_target(arn, Input=json.dumps({"k": "v"})),
    )
    try:
        [message] = _receive(sqs, url, timeout=60)
        record = json.loads(message["Body"])
        assert record["requestPayload"] == {"k": "v"}
        assert record["responsePayload"] == {"k": "v"}
    finally:
        scheduler.delete_schedule(Name=name)
        lam.delete_function(FunctionName=function)
