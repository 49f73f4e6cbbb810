"""SNS delivery through boto3: fan-out to SQS (enveloped and raw, filtered), FIFO topics to FIFO
queues, Lambda subscribers receiving the ``aws:sns`` event, and resumption after a restart."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from lambdamaker.store import Store
from lambdamaker.testing import ServerProcess, zip_source

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def sns(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sns")


@pytest.fixture(scope="module")
def sqs(boto_client: Callable[..., Any]) -> Any:
    return boto_client("sqs")


def new_queue(sqs: Any, fifo: bool = False) -> tuple[str, str]:
    name = f"sub-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive(sqs: Any, url: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Up to ``count`` messages, waiting for them (long polls) at most ``timeout`` seconds."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
    return got


def test_publish_reaches_filtered_and_raw_sqs_subscribers_as_sns_sends(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"fan-{uuid.uuid4().hex[:12]}")["TopicArn"]
    filtered_url, filtered_arn = new_queue(sqs)
    raw_url, raw_arn = new_queue(sqs)
    filtered_sub = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=filtered_arn,
        Attributes={"FilterPolicy": json.dumps({"color": ["red"]})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=raw_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )
    red = sns.publish(
        TopicArn=topic,
        Message="a red one",
        Subject="Colours",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"},
            "size": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )["MessageId"]
    sns.publish(
        TopicArn=topic,
        Message="a blue one",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "blue"}},
    )

    raw = receive(sqs, raw_url, 2)
    assert sorted(m["Body"] for m in raw) == ["a blue one", "a red one"]
    red_raw = next(m for m in raw if m["Body"] == "a red one")
    assert red_raw["MessageAttributes"] == {
        "color": {"DataType": "String", "StringValue": "red"},
        "size": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    }

    enveloped = receive(sqs, filtered_url, 2, timeout=3)
    assert len(enveloped) == 1  # the blue one does not pass the filter policy
    assert "MessageAttributes" not in enveloped[0]
    body = json.loads(enveloped[0]["Body"])
    assert list(body) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert body["Type"] == "Notification"
    assert body["MessageId"] == red
    assert body["TopicArn"] == topic
    assert body["Subject"] == "Colours"
    assert body["Message"] == "a red one"
    assert body["SignatureVersion"] == "1"
    assert body["Timestamp"].endswith("Z") and len(body["Timestamp"]) == 24
    assert body["UnsubscribeURL"].endswith(f"SubscriptionArn={filtered_sub}")
    assert body["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "red"},
        "size": {"Type": "Number", "Value": "3"},
        "blob": {"Type": "Binary", "Value": "AAE="},
    }


def test_message_body_scope_and_message_structure(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"body-{uuid.uuid4().hex[:12]}")["TopicArn"]
    url, arn = new_queue(sqs)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicy": json.dumps({"risk": [{"numeric": [">", 0.8]}]}),
            "FilterPolicyScope": "MessageBody",
            "RawMessageDelivery": "true",
        },
    )
    for risk in (0.2, 0.9, 0.95):
        sns.publish(TopicArn=topic, Message=json.dumps({"risk": risk}))
    sns.publish(
        TopicArn=topic,
        MessageStructure="json",
        Message=json.dumps({"default": "ignored", "sqs": json.dumps({"risk": 0.99})}),
    )
    got = receive(sqs, url, 3)
    assert sorted(json.loads(m["Body"])["risk"] for m in got) == [0.9, 0.95]
    # MessageBody filtering reads the published message; the sqs key is what the queue gets
    assert not receive(sqs, url, 1, timeout=2)


def test_fifo_topic_delivers_to_fifo_queue_in_order_with_group(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(
        Name=f"ff-{uuid.uuid4().hex[:12]}.fifo",
        Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"},
    )["TopicArn"]
    url, arn = new_queue(sqs, fifo=True)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    for i in range(4):
        sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g1")
    sns.publish(TopicArn=topic, Message="m0", MessageGroupId="g1")  # deduplicated by SNS content
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20
    while len(got) < 4 and time.monotonic() < deadline:
        batch = receive(sqs, url, 1, timeout=2)
        got += batch
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    bodies = [json.loads(m["Body"]) for m in got]
    assert [b["Message"] for b in bodies] == ["m0", "m1", "m2", "m3"]
    assert all(m["Attributes"]["MessageGroupId"] == "g1" for m in got)
    assert all(len(b["SequenceNumber"]) == 20 for b in bodies)


HANDLER = """
import json, boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=event_queue(), MessageBody=json.dumps(event))

def event_queue():
    import os
    return os.environ["OUT_QUEUE"]
"""


def test_lambda_subscriber_receives_the_sns_event(
    sns: Any, sqs: Any, boto_client: Callable[..., Any]
) -> None:
    lam = boto_client("lambda")
    out_url, _ = new_queue(sqs)
    name = f"sns-sub-{uuid.uuid4().hex[:8]}"
    fn_arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_source(HANDLER)},
        Environment={"Variables": {"OUT_QUEUE": out_url}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    topic = sns.create_topic(Name=f"lam-{uuid.uuid4().hex[:12]}")["TopicArn"]
    sub = sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=fn_arn, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    message_id = sns.publish(
        TopicArn=topic,
        Message="hello lambda",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )["MessageId"]

    got = receive(sqs, out_url, 1, timeout=60)
    assert len(got) == 1
    event = json.loads(got[0]["Body"])
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    body = record["Sns"]
    assert list(body) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    ]
    assert body["Type"] == "Notification"
    assert body["MessageId"] == message_id
    assert body["TopicArn"] == topic
    assert body["Subject"] is None
    assert body["Message"] == "hello lambda"
    assert body["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}


@pytest.mark.slow
def test_undelivered_messages_are_delivered_after_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        sns, sqs = server.client("sns"), server.client("sqs")
        topic = sns.create_topic(Name="restart")["TopicArn"]
        url, arn = new_queue(sqs)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        server.stop()
        # Two messages acknowledged but never fanned out, as a crash right after Publish leaves.
        store = Store(f"sqlite:///{tmp_path / 'data' / 'lambdamaker.db'}")
        try:
            with store.begin() as conn:
                for i in range(2):
                    conn.execute(
                        sa.text(
                            "INSERT INTO sns_messages (message_id, topic_arn, message, attributes,"
                            " published_at, delivered) VALUES (:id, :topic, :m, '{}', :at, false)"
                        ),
                        {"id": f"restart-{i}", "topic": topic, "m": f"m{i}", "at": time.time()},
                    )
        finally:
            store.close()
        server.start()
        got = receive(server.client("sqs"), url, 2)
        assert sorted(json.loads(m["Body"])["MessageId"] for m in got) == [
            "restart-0",
            "restart-1",
        ]
        assert not receive(server.client("sqs"), url, 1, timeout=2)
    finally:
        server.stop()


def test_delivery_to_a_missing_queue_is_retried_until_it_exists(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=f"retry-{uuid.uuid4().hex[:12]}")["TopicArn"]
    name = f"later-{uuid.uuid4().hex[:12]}"
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=f"arn:aws:sqs:us-east-1:000000000000:{name}",
        Attributes={"RawMessageDelivery": "true"},
    )
    sns.publish(TopicArn=topic, Message="patience")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    got = receive(sqs, url, 1, timeout=40)
    assert [m["Body"] for m in got] == ["patience"]


def test_retry_schedule_follows_sns_managed_endpoint_policy() -> None:
    from lambdamaker.services.sns.delivery import retry_delay

    assert [retry_delay(n) for n in range(1, 17)] == [
        0.0,
        0.0,
        1.0,
        1.0,
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        20.0,
        20.0,
        20.0,
        20.0,
        20.0,
        20.0,
        20.0,
    ]


class Recorder(BaseHTTPRequestHandler):
    """Records each POST (headers and JSON body) on the server object."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        server: Any = self.server
        server.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def http_endpoint() -> Any:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def wait_for_posts(server: Any, count: int, timeout: float = 20.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(server.posts) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return list(server.posts)


def test_http_subscriber_confirms_then_receives_notifications(sns: Any, http_endpoint: Any) -> None:
    topic = sns.create_topic(Name=f"web-{uuid.uuid4().hex[:12]}")["TopicArn"]
    url = f"http://127.0.0.1:{http_endpoint.server_address[1]}/hook"
    assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)["SubscriptionArn"] == (
        "pending confirmation"
    )
    [(headers, body)] = wait_for_posts(http_endpoint, 1)
    confirmation = json.loads(body)
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["TopicArn"] == topic
    assert "Action=ConfirmSubscription" in confirmation["SubscribeURL"]
    sub = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]

    message_id = sns.publish(TopicArn=topic, Message="over http", Subject="Web")["MessageId"]
    posts = wait_for_posts(http_endpoint, 2)
    headers, body = posts[1]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    notification = json.loads(body)
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == message_id
    assert notification["Message"] == "over http"
    assert notification["Subject"] == "Web"
