"""EventBridge delivery through boto3: PutEvents → matching rules → SQS, SNS, Lambda and
another bus; input shaping; disabled rules; dead letters (target gone, retries exhausted)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from eb_support import RECORDER, ROLE, bodies, new_queue, put, receive, rule_with_target

from lambdamaker.testing import zip_source


@pytest.fixture(scope="module")
def events(boto_client: Callable[..., Any]) -> Any:
    return boto_client("events")


@pytest.fixture(scope="module")
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


def test_sqs_target_receives_the_exact_event(events: Any, sqs: Any) -> None:
    url, arn = new_queue(sqs)
    _, source = rule_with_target(events, {"Id": "q", "Arn": arn})
    event_id = put(events, source, {"n": 1, "s": "x"})
    put(events, "someone.else", {"n": 2})  # matches no rule

    [event] = bodies(receive(sqs, url, 1))
    assert event == {
        "version": "0",
        "id": event_id,
        "detail-type": "Test",
        "source": source,
        "account": "000000000000",
        "time": event["time"],
        "region": "us-east-1",
        "resources": [],
        "detail": {"n": 1, "s": "x"},
    }
    assert receive(sqs, url, 1, timeout=1.5) == []


def test_disabled_rule_delivers_nothing_until_enabled(events: Any, sqs: Any) -> None:
    url, arn = new_queue(sqs)
    name, source = rule_with_target(events, {"Id": "q", "Arn": arn})
    events.disable_rule(Name=name)
    put(events, source, {"phase": "disabled"})
    assert receive(sqs, url, 1, timeout=2) == []
    events.enable_rule(Name=name)
    put(events, source, {"phase": "enabled"})
    assert [e["detail"] for e in bodies(receive(sqs, url, 2, timeout=5))] == [{"phase": "enabled"}]


def test_input_input_path_and_input_transformer_shape_the_body(events: Any, sqs: Any) -> None:
    source = f"test.{uuid.uuid4().hex[:10]}"
    name = f"r-{uuid.uuid4().hex[:10]}"
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": [source]}))["RuleArn"]
    queues = {key: new_queue(sqs) for key in ("const", "path", "json", "text")}
    template = (
        '{"who": <user>, "msg": "user <user> has <n> items", "n": <n>, "missing": <nope>,'
        ' "rule": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>, "all": <aws.events.event>}'
    )
    paths = {"user": "$.detail.user", "n": "$.detail.items[1]", "nope": "$.detail.absent"}
    events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "const", "Arn": queues["const"][1], "Input": '{"fixed": true}'},
            {"Id": "path", "Arn": queues["path"][1], "InputPath": "$.detail.items"},
            {
                "Id": "json",
                "Arn": queues["json"][1],
                "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template},
            },
            {
                "Id": "text",
                "Arn": queues["text"][1],
                "InputTransformer": {
                    "InputPathsMap": {"user": "$.detail.user", "items": "$.detail.items"},
                    "InputTemplate": "<user> bought <items> (<aws.events.rule-name>)",
                },
            },
        ],
    )
    event_id = put(events, source, {"user": 'ann "a"', "items": [1, 2, 3]})

    [const] = receive(sqs, queues["const"][0], 1)
    assert const["Body"] == '{"fixed": true}'
    [path] = receive(sqs, queues["path"][0], 1)
    assert json.loads(path["Body"]) == [1, 2, 3]
    [shaped] = bodies(receive(sqs, queues["json"][0], 1))
    assert shaped["who"] == 'ann "a"'
    assert shaped["msg"] == 'user ann "a" has 2 items'
    assert shaped["n"] == 2
    assert shaped["missing"] is None
    assert (shaped["rule"], shaped["arn"]) == (name, rule_arn)
    assert shaped["all"]["id"] == event_id and "detail" not in shaped["all"]
    [text] = receive(sqs, queues["text"][0], 1)
    assert text["Body"] == f'ann "a" bought [1, 2, 3] ({name})'


@pytest.mark.parametrize(
    "target",
    [
        {"InputPath": "detail.x"},
        {"InputTransformer": {"InputPathsMap": {"a": "$.x"}, "InputTemplate": '{"a": <a>'}},
        {"InputTransformer": {"InputPathsMap": {"a": "x"}, "InputTemplate": "<a>"}},
        {"Input": "{}", "InputPath": "$.detail"},
        {"DeadLetterConfig": {"Arn": "arn:aws:sns:us-east-1:000000000000:topic"}},
    ],
)
def test_put_targets_refuses_bad_shaping_and_changes_nothing(
    events: Any, sqs: Any, target: dict[str, Any]
) -> None:
    _, arn = new_queue(sqs)
    name = f"r-{uuid.uuid4().hex[:10]}"
    events.put_rule(Name=name, EventPattern='{"source": ["x"]}')
    with pytest.raises(ClientError) as exc:
        events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": arn, **target}])
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []


def test_fifo_queue_target_uses_the_message_group(events: Any, sqs: Any) -> None:
    url, arn = new_queue(sqs, fifo=True)
    name = f"r-{uuid.uuid4().hex[:10]}"
    events.put_rule(Name=name, EventPattern='{"source": ["fifo.test"]}')
    with pytest.raises(ClientError) as exc:
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    assert exc.value.response["Error"]["Code"] == "ValidationException"
    events.put_targets(
        Rule=name, Targets=[{"Id": "q", "Arn": arn, "SqsParameters": {"MessageGroupId": "g7"}}]
    )
    ids = [put(events, "fifo.test", {"i": i}) for i in range(3)]
    got = receive(sqs, url, 3)
    assert [e["id"] for e in bodies(got)] == ids
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"g7"}


def test_sns_topic_target_reaches_its_sqs_subscription(
    events: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    sns = boto_client("sns")
    url, queue_arn = new_queue(sqs)
    topic = sns.create_topic(Name=f"eb-{uuid.uuid4().hex[:10]}")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    _, source = rule_with_target(events, {"Id": "t", "Arn": topic})
    event_id = put(events, source, {"via": "sns"})
    [event] = bodies(receive(sqs, url, 1))
    assert (event["id"], event["detail"]) == (event_id, {"via": "sns"})


def test_bus_target_forwards_the_event_as_is_to_the_other_bus_rules(events: Any, sqs: Any) -> None:
    other = f"bus-{uuid.uuid4().hex[:8]}"
    other_arn = events.create_event_bus(Name=other)["EventBusArn"]
    url, queue_arn = new_queue(sqs)
    _, source = rule_with_target(events, {"Id": "q", "Arn": queue_arn}, bus=other)
    rule_with_target(
        events, {"Id": "b", "Arn": other_arn}, pattern=json.dumps({"source": [source]})
    )
    event_id = put(events, source, {"hop": 1})
    [event] = bodies(receive(sqs, url, 1))
    assert (event["id"], event["source"], event["detail"]) == (event_id, source, {"hop": 1})


def test_lambda_target_is_invoked_with_the_event(
    events: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    lam = boto_client("lambda")
    out_url, _ = new_queue(sqs)
    fn = f"eb-target-{uuid.uuid4().hex[:8]}"
    fn_arn = lam.create_function(
        FunctionName=fn,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_source(RECORDER)},
        Environment={"Variables": {"OUT_QUEUE": out_url}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=fn, WaiterConfig={"Delay": 1})
    _, source = rule_with_target(events, {"Id": "f", "Arn": fn_arn})
    event_id = put(events, source, {"to": "lambda"})
    [event] = bodies(receive(sqs, out_url, 1, timeout=60))
    assert (event["id"], event["detail"]) == (event_id, {"to": "lambda"})


def _attributes(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


def test_deleted_target_queue_sends_the_event_to_the_dlq(events: Any, sqs: Any) -> None:
    target_url, target_arn = new_queue(sqs)
    dlq_url, dlq_arn = new_queue(sqs)
    name, source = rule_with_target(
        events, {"Id": "gone", "Arn": target_arn, "DeadLetterConfig": {"Arn": dlq_arn}}
    )
    sqs.delete_queue(QueueUrl=target_url)
    event_id = put(events, source, {"lost": False})
    [message] = receive(sqs, dlq_url, 1)
    assert json.loads(message["Body"])["id"] == event_id
    attributes = _attributes(message)
    assert attributes["RULE_ARN"] == events.describe_rule(Name=name)["Arn"]
    assert attributes["TARGET_ARN"] == target_arn
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    assert attributes["ERROR_MESSAGE"]
    assert attributes["RETRY_ATTEMPTS"] == "0"  # not retryable: straight to the DLQ, as AWS


def test_failing_target_is_retried_per_its_policy_then_dead_lettered(events: Any, sqs: Any) -> None:
    dlq_url, dlq_arn = new_queue(sqs)
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:not-yet"
    _, source = rule_with_target(
        events,
        {
            "Id": "sfn",
            "Arn": machine,
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
    )
    event_id = put(events, source, {"retry": True})
    [message] = receive(sqs, dlq_url, 1, timeout=30)
    assert json.loads(message["Body"])["id"] == event_id
    attributes = _attributes(message)
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["TARGET_ARN"] == machine


def test_list_rule_names_by_target(events: Any, sqs: Any) -> None:
    _, arn = new_queue(sqs)
    names = sorted(rule_with_target(events, {"Id": "q", "Arn": arn})[0] for _ in range(3))
    first = events.list_rule_names_by_target(TargetArn=arn, Limit=2)
    assert first["RuleNames"] == names[:2]
    rest = events.list_rule_names_by_target(TargetArn=arn, NextToken=first["NextToken"])
    assert rest["RuleNames"] == names[2:] and "NextToken" not in rest


def test_bus_to_bus_loop_is_cut_after_max_hops(events: Any, sqs: Any) -> None:
    from lambdamaker.services.events.routing import MAX_HOPS

    url, queue_arn = new_queue(sqs)
    a, b = (f"loop-{uuid.uuid4().hex[:8]}" for _ in range(2))
    arns = {name: events.create_event_bus(Name=name)["EventBusArn"] for name in (a, b)}
    pattern = json.dumps({"source": ["loop.test"]})
    rule_with_target(events, {"Id": "to-b", "Arn": arns[b]}, bus=a, pattern=pattern)
    rule_with_target(events, {"Id": "to-a", "Arn": arns[a]}, bus=b, pattern=pattern)
    rule_with_target(events, {"Id": "q", "Arn": queue_arn}, bus=a, pattern=pattern)
    event_id = put(events, "loop.test", {}, bus=a)
    # Bus a routes the event at hops 0, 2, ..., MAX_HOPS: one copy each, then the loop stops.
    expected = MAX_HOPS // 2 + 1
    got = receive(sqs, url, expected, timeout=20)
    got += receive(sqs, url, 1, timeout=2)
    assert [e["id"] for e in bodies(got)] == [event_id] * expected
