"""CloudWatch Logs over HTTP with boto3 (and the AWS CLI), against the session server."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def logs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("logs")


@pytest.fixture()
def group(logs: Any) -> str:
    name = f"/test/{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    return name


def now_ms() -> int:
    return int(time.time() * 1000)


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def put(logs: Any, group: str, stream: str, messages: list[str], start: int | None = None) -> None:
    t = now_ms() - len(messages) if start is None else start
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t + i, "message": m} for i, m in enumerate(messages)],
    )


# --- groups -----------------------------------------------------------------------------------


def test_create_describe_and_delete_a_group(logs: Any) -> None:
    name = f"/test/{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name, tags={"team": "ml"})
    (g,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert g["logGroupName"] == name
    assert g["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"
    assert g["logGroupArn"] == g["arn"][:-2]
    assert g["storedBytes"] == 0 and "retentionInDays" not in g
    assert abs(g["creationTime"] - now_ms()) < 60_000
    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []


def test_group_errors_are_aws_shaped(logs: Any, group: str) -> None:
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName=group)
    assert error_of(exc)[:2] == ("ResourceAlreadyExistsException", 400)
    with pytest.raises(ClientError) as exc:
        logs.delete_log_group(logGroupName=group + "-missing")
    assert error_of(exc) == (
        "ResourceNotFoundException",
        400,
        "The specified log group does not exist.",
    )
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="has:colon")
    code, status, message = error_of(exc)
    assert (code, status) == ("InvalidParameterException", 400)
    assert "logGroupName" in message
    with pytest.raises(ClientError) as exc:
        logs.create_log_group(logGroupName="aws/reserved")
    assert error_of(exc)[0] == "InvalidParameterException"


def test_describe_log_groups_paginates_in_name_order(logs: Any) -> None:
    prefix = f"/page/{uuid.uuid4().hex[:8]}/"
    names = [f"{prefix}{i:02d}" for i in range(7)]
    for name in reversed(names):
        logs.create_log_group(logGroupName=name)
    first = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=3)
    assert [g["logGroupName"] for g in first["logGroups"]] == names[:3]
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 3}
    )
    listed = [g["logGroupName"] for page in pages for g in page["logGroups"]]
    assert listed == names
    by_pattern = logs.describe_log_groups(logGroupNamePattern=prefix[6:-1])["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == names
    assert set(by_pattern[0]) == {"logGroupName", "creationTime", "arn"}
    with pytest.raises(ClientError) as exc:
        logs.describe_log_groups(logGroupNamePrefix=prefix, logGroupNamePattern="x")
    assert error_of(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        logs.describe_log_groups(nextToken="garbage")
    assert error_of(exc)[0] == "InvalidParameterException"


def test_retention_policy_is_set_and_removed(logs: Any, group: str) -> None:
    logs.put_retention_policy(logGroupName=group, retentionInDays=14)
    (g,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["retentionInDays"] == 14
    with pytest.raises(ClientError) as exc:
        logs.put_retention_policy(logGroupName=group, retentionInDays=4)
    code, _, message = error_of(exc)
    assert code == "InvalidParameterException" and "retentionInDays" in message
    logs.delete_retention_policy(logGroupName=group)
    (g,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert "retentionInDays" not in g


def test_tags_through_both_apis(logs: Any, group: str) -> None:
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    logs.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
    logs.tag_log_group(logGroupName=group, tags={"c": "3"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "2", "c": "3"}
    logs.untag_resource(resourceArn=arn, tagKeys=["a"])
    logs.untag_log_group(logGroupName=group, tags=["c"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as exc:
        logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    assert error_of(exc)[0] == "TooManyTagsException"
    with pytest.raises(ClientError) as exc:
        logs.list_tags_for_resource(resourceArn=arn + "-missing")
    assert error_of(exc)[0] == "ResourceNotFoundException"


# --- streams ----------------------------------------------------------------------------------


def test_streams_are_created_listed_and_deleted(logs: Any, group: str) -> None:
    for name in ("b", "a", "c"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    with pytest.raises(ClientError) as exc:
        logs.create_log_stream(logGroupName=group, logStreamName="a")
    assert error_of(exc)[0] == "ResourceAlreadyExistsException"
    listed = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in listed] == ["a", "b", "c"]
    assert listed[0]["arn"].endswith(f"log-group:{group}:log-stream:a")
    logs.delete_log_stream(logGroupName=group, logStreamName="b")
    with pytest.raises(ClientError) as exc:
        logs.delete_log_stream(logGroupName=group, logStreamName="b")
    assert error_of(exc)[2] == "The specified log stream does not exist."
    with pytest.raises(ClientError) as exc:
        logs.create_log_stream(logGroupName=group + "-missing", logStreamName="a")
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_describe_log_streams_orders_by_last_event_time_and_paginates(
    logs: Any, group: str
) -> None:
    base = now_ms() - 10_000
    for i, name in enumerate(["s2", "s0", "s3", "s1"]):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        put(logs, group, name, ["x"], start=base + int(name[1]) * 100 + i)
    pages = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group,
        orderBy="LastEventTime",
        descending=True,
        PaginationConfig={"PageSize": 3},
    )
    names = [s["logStreamName"] for page in pages for s in page["logStreams"]]
    assert names == ["s3", "s2", "s1", "s0"]
    by_name = logs.describe_log_streams(logGroupIdentifier=group, logStreamNamePrefix="s2")
    (s2,) = by_name["logStreams"]
    assert s2["firstEventTimestamp"] == s2["lastEventTimestamp"]
    with pytest.raises(ClientError) as exc:
        logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="s"
        )
    assert error_of(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        logs.describe_log_streams(logGroupName=group, logGroupIdentifier=group)
    assert error_of(exc)[0] == "InvalidParameterException"


# --- PutLogEvents -----------------------------------------------------------------------------


def test_put_log_events_rejects_too_old_and_too_new_events_and_keeps_the_rest(
    logs: Any, group: str
) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    response = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        sequenceToken="ignored-as-aws-does",
        logEvents=[
            {"timestamp": now - 15 * DAY_MS, "message": "too old"},
            {"timestamp": now - 1, "message": "kept 1"},
            {"timestamp": now, "message": "kept 2"},
            {"timestamp": now + 3 * 3_600_000, "message": "too new"},
        ],
    )
    assert response["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1,
        "tooNewLogEventStartIndex": 3,
    }
    assert response["nextSequenceToken"]
    events = logs.get_log_events(logGroupName=group, logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["kept 1", "kept 2"]


def test_put_log_events_reports_events_older_than_retention_as_expired(
    logs: Any, group: str
) -> None:
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    response = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now - 2 * DAY_MS, "message": "expired"},
            {"timestamp": now, "message": "kept"},
        ],
    )
    assert response["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}


def test_put_log_events_refuses_bad_batches(
    logs: Any, group: str, boto_client: Callable[..., Any]
) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    bad_batches = [
        [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}],
        [
            {"timestamp": now - 2 * DAY_MS, "message": "a"},
            {"timestamp": now, "message": "b"},
        ],
        [{"timestamp": now, "message": "x" * 600_000}] * 2,
    ]
    for batch in bad_batches:
        with pytest.raises(ClientError) as exc:
            logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=batch)
        assert error_of(exc)[:2] == ("InvalidParameterException", 400)
    unchecked = boto_client("logs", parameter_validation=False)  # as another SDK might send
    with pytest.raises(ClientError) as exc:
        unchecked.put_log_events(logGroupName=group, logStreamName="s", logEvents=[])
    assert error_of(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        put(logs, group, "missing", ["x"])
    assert error_of(exc)[2] == "The specified log stream does not exist."
    assert logs.get_log_events(logGroupName=group, logStreamName="s")["events"] == []


# --- GetLogEvents -----------------------------------------------------------------------------


def test_get_log_events_pages_forward_and_returns_the_same_token_at_the_end(
    logs: Any, group: str
) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", [str(i) for i in range(7)])
    page = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=3)
    seen = [e["message"] for e in page["events"]]
    assert seen == ["0", "1", "2"]
    assert page["nextForwardToken"].startswith("f/")
    assert page["nextBackwardToken"].startswith("b/")
    token = page["nextForwardToken"]
    while True:
        page = logs.get_log_events(
            logGroupName=group, logStreamName="s", nextToken=token, limit=3, startFromHead=True
        )
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [str(i) for i in range(7)]
    assert page["events"] == []
    put(logs, group, "s", ["7"], start=now_ms() + 1000)  # appears after the end token
    later = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token)
    assert [e["message"] for e in later["events"]] == ["7"]


def test_get_log_events_defaults_to_the_tail_and_pages_backward(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", [str(i) for i in range(7)])
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=3)
    assert [e["message"] for e in tail["events"]] == ["4", "5", "6"]
    back = logs.get_log_events(
        logGroupName=group, logStreamName="s", nextToken=tail["nextBackwardToken"], limit=3
    )
    assert [e["message"] for e in back["events"]] == ["1", "2", "3"]
    with pytest.raises(ClientError) as exc:
        logs.get_log_events(logGroupName=group, logStreamName="s", nextToken="x/123")
    assert error_of(exc)[0] == "InvalidParameterException"


def test_get_log_events_time_window_and_missing_stream(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    base = now_ms() - 1000
    put(logs, group, "s", ["a", "b", "c", "d"], start=base)
    window = logs.get_log_events(
        logGroupName=group, logStreamName="s", startTime=base + 1, endTime=base + 3
    )
    assert [e["message"] for e in window["events"]] == ["b", "c"]
    with pytest.raises(ClientError) as exc:
        logs.get_log_events(logGroupName=group, logStreamName="nope")
    assert error_of(exc)[2] == "The specified log stream does not exist."


# --- FilterLogEvents --------------------------------------------------------------------------


def test_filter_log_events_with_patterns_streams_and_time(logs: Any, group: str) -> None:
    base = now_ms() - 10_000
    logs.create_log_stream(logGroupName=group, logStreamName="app-1")
    logs.create_log_stream(logGroupName=group, logStreamName="web-1")
    put(logs, group, "app-1", ["ERROR disk full", json.dumps({"latency": 900})], start=base)
    put(logs, group, "web-1", ["INFO ok", json.dumps({"latency": 90})], start=base + 10)

    def messages(**kwargs: Any) -> list[str]:
        events = logs.filter_log_events(logGroupName=group, **kwargs)["events"]
        return [e["message"] for e in events]

    assert messages(filterPattern="ERROR") == ["ERROR disk full"]
    assert messages(filterPattern="?ERROR ?INFO") == ["ERROR disk full", "INFO ok"]
    assert messages(filterPattern="{ $.latency > 100 }") == ['{"latency": 900}']
    assert messages(logStreamNamePrefix="web") == ["INFO ok", '{"latency": 90}']
    assert messages(logStreamNames=["app-1"], startTime=base + 1) == ['{"latency": 900}']
    assert messages(startTime=base + 1, endTime=base + 10) == ['{"latency": 900}', "INFO ok"]
    event = logs.filter_log_events(logGroupName=group, filterPattern="disk")["events"][0]
    assert event["logStreamName"] == "app-1" and event["eventId"]
    assert event["timestamp"] == base and event["ingestionTime"] >= base
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.latency > }")
    assert error_of(exc)[::2] == ("InvalidParameterException", "Invalid filter pattern")
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupName=group, logStreamNames=["a"], logStreamNamePrefix="a")
    assert error_of(exc)[0] == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupName=group + "-missing")
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_filter_log_events_paginates_with_the_boto3_paginator(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", [f"line {i}" for i in range(25)])
    pages = list(
        logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, PaginationConfig={"PageSize": 10}
        )
    )
    assert len(pages) >= 3
    got = [e["message"] for page in pages for e in page["events"]]
    assert got == [f"line {i}" for i in range(25)]
    newest = logs.filter_log_events(logGroupName=group, startFromHead=False, limit=2)
    assert [e["message"] for e in newest["events"]] == ["line 24", "line 23"]
    older = logs.filter_log_events(logGroupName=group, nextToken=newest["nextToken"], limit=2)
    assert [e["message"] for e in older["events"]] == ["line 22", "line 21"]


def test_log_group_arn_works_as_identifier(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", ["by arn"])
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"  # no ":*", as AWS requires
    events = logs.filter_log_events(logGroupIdentifier=arn)["events"]
    assert [e["message"] for e in events] == ["by arn"]
    with pytest.raises(ClientError) as exc:
        logs.filter_log_events(logGroupIdentifier=arn.replace("000000000000", "111111111111"))
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_the_aws_cli_reads_logs(logs: Any, group: str, aws_cli: Callable[..., Any]) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", ["from the cli"])
    out = aws_cli("logs", "filter-log-events", "--log-group-name", group, "--output", "json")
    assert [e["message"] for e in json.loads(out.stdout)["events"]] == ["from the cli"]
    out = aws_cli("logs", "describe-log-streams", "--log-group-name", group, "--output", "json")
    assert [s["logStreamName"] for s in json.loads(out.stdout)["logStreams"]] == ["s"]


def test_describe_log_groups_by_identifiers_and_class(logs: Any) -> None:
    a, b = (f"/ident/{uuid.uuid4().hex[:10]}" for _ in range(2))
    logs.create_log_group(logGroupName=a)
    logs.create_log_group(logGroupName=b, logGroupClass="INFREQUENT_ACCESS")
    arn_b = f"arn:aws:logs:us-east-1:000000000000:log-group:{b}"
    found = logs.describe_log_groups(logGroupIdentifiers=[a, arn_b])["logGroups"]
    assert sorted(g["logGroupName"] for g in found) == sorted([a, b])
    infrequent = logs.describe_log_groups(
        logGroupIdentifiers=[a, b], logGroupClass="INFREQUENT_ACCESS"
    )["logGroups"]
    assert [(g["logGroupName"], g["logGroupClass"]) for g in infrequent] == [
        (b, "INFREQUENT_ACCESS")
    ]
