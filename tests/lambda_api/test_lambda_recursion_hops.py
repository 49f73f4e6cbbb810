"""Recursive loop detection through other services, via boto3: a function that publishes to the
SNS topic that triggers it, or writes under the S3 prefix that triggers it, runs 16 times; the
17th event goes to its OnFailure destination and the stop is written to its log group.
``PutFunctionRecursionConfig(Allow)`` lets such a loop go on (bounded by the handler here)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from lambda_support import ROLE, make_zip

from lambdamaker.services.lambda_.lineage import MAX_CHAIN, function_hash
from lambdamaker.testing import ServerProcess
from queue_support import create_queue, drain

SNS_LOOP = """
import json, os
import boto3

sns = boto3.client("sns")
sqs = boto3.client("sqs")

def handler(event, context):
    msg = json.loads(event["Records"][0]["Sns"]["Message"])
    sqs.send_message(
        QueueUrl=os.environ["RUNS"],
        MessageBody=json.dumps({"n": msg["n"], "trace": os.environ.get("_X_AMZN_TRACE_ID")}),
    )
    if msg["n"] >= msg.get("stop", 1_000_000):
        return
    sns.publish(TopicArn=os.environ["TOPIC"], Message=json.dumps({**msg, "n": msg["n"] + 1}))
"""

S3_LOOP = """
import json, os
import boto3
from botocore.config import Config

s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
sqs = boto3.client("sqs")

def handler(event, context):
    s3_record = event["Records"][0]["s3"]
    n = int(s3_record["object"]["key"].rsplit("-", 1)[1])
    sqs.send_message(
        QueueUrl=os.environ["RUNS"],
        MessageBody=json.dumps({"n": n, "trace": os.environ.get("_X_AMZN_TRACE_ID")}),
    )
    s3.put_object(Bucket=s3_record["bucket"]["name"], Key=f"in/obj-{n + 1}", Body=b"x")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("recursion-hops") / "data").start()
    yield server
    server.stop()


def create(lam: Any, code: str, env: dict[str, str], stopped_arn: str | None) -> str:
    name = f"hops-{uuid.uuid4().hex[:8]}"
    arn: str = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": code})},
        Timeout=30,
        Environment={"Variables": env},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    config: dict[str, Any] = {"FunctionName": name, "MaximumRetryAttempts": 0}
    if stopped_arn is not None:
        config["DestinationConfig"] = {"OnFailure": {"Destination": stopped_arn}}
    lam.put_function_event_invoke_config(**config)
    return arn


def assert_sixteen_runs_in_one_chain(runs: list[dict[str, Any]], function_arn: str) -> None:
    assert sorted(r["n"] for r in runs) == list(range(1, MAX_CHAIN + 1))
    assert len({r["trace"].split(";")[0] for r in runs}) == 1  # one chain, one X-Ray root
    last = max(runs, key=lambda r: r["n"])
    assert f"Lineage={function_hash(function_arn)}:{MAX_CHAIN}" in last["trace"]


def assert_stop_logged(logs: Any, name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        events = logs.filter_log_events(
            logGroupName=f"/aws/lambda/{name}", filterPattern="recursive"
        )["events"]
        if events or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert any(f"more than {MAX_CHAIN} times" in e["message"] for e in events), events


def sns_loop(server: ServerProcess, stopped: bool) -> tuple[Any, str, str, str, str | None]:
    lam, sns, sqs = server.client("lambda"), server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name=f"loop-{uuid.uuid4().hex[:8]}")["TopicArn"]
    runs_url, _ = create_queue(sqs)
    stopped_url, stopped_arn = create_queue(sqs) if stopped else (None, None)
    arn = create(lam, SNS_LOOP, {"RUNS": runs_url, "TOPIC": topic}, stopped_arn)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    return lam, topic, arn, runs_url, stopped_url


def test_a_function_publishing_to_its_own_topic_stops_after_sixteen(
    server: ServerProcess,
) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    _, topic, arn, runs_url, stopped_url = sns_loop(server, stopped=True)
    assert stopped_url is not None
    sns.publish(TopicArn=topic, Message=json.dumps({"n": 1}))

    [record] = drain(sqs, stopped_url, 1)
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    stopped_message = record["requestPayload"]["Records"][0]["Sns"]["Message"]
    assert json.loads(stopped_message)["n"] == MAX_CHAIN + 1

    runs = drain(sqs, runs_url, MAX_CHAIN, timeout=10)
    assert_sixteen_runs_in_one_chain(runs, arn)
    assert drain(sqs, runs_url, 1, timeout=2) == []
    assert_stop_logged(server.client("logs"), arn.rsplit(":", 1)[-1])


def test_a_function_writing_under_its_trigger_prefix_stops_after_sixteen(
    server: ServerProcess,
) -> None:
    lam, s3, sqs = server.client("lambda"), server.client("s3"), server.client("sqs")
    bucket = f"loop-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    runs_url, _ = create_queue(sqs)
    stopped_url, stopped_arn = create_queue(sqs)
    arn = create(lam, S3_LOOP, {"RUNS": runs_url}, stopped_arn)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "loop",
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="in/obj-1", Body=b"x")

    [record] = drain(sqs, stopped_url, 1)
    assert record["requestContext"]["condition"] == "RecursiveInvocationException"
    stopped_key = record["requestPayload"]["Records"][0]["s3"]["object"]["key"]
    assert stopped_key == f"in/obj-{MAX_CHAIN + 1}"

    runs = drain(sqs, runs_url, MAX_CHAIN, timeout=10)
    assert_sixteen_runs_in_one_chain(runs, arn)
    assert drain(sqs, runs_url, 1, timeout=2) == []
    assert_stop_logged(server.client("logs"), arn.rsplit(":", 1)[-1])
    # The 17th object was written (by the 16th run); only its invocation was stopped.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="in/")["Contents"]]
    assert len(keys) == MAX_CHAIN + 1


def test_recursion_config_allow_lets_a_topic_loop_go_past_sixteen(server: ServerProcess) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    lam, topic, arn, runs_url, _ = sns_loop(server, stopped=False)
    lam.put_function_recursion_config(FunctionName=arn, RecursiveLoop="Allow")
    stop = MAX_CHAIN + 4
    sns.publish(TopicArn=topic, Message=json.dumps({"n": 1, "stop": stop}))
    runs = drain(sqs, runs_url, stop)
    assert sorted(r["n"] for r in runs) == list(range(1, stop + 1))
    last = max(runs, key=lambda r: r["n"])
    assert f"Lineage={function_hash(arn)}:{stop}" in last["trace"]
