"""SQS's query protocol (older SDKs, raw HTTP): form POSTs and GETs with ``Action=``, to the
service endpoint or straight to a queue URL, answered in SQS's XML with its legacy error codes.
Requests are signed with botocore's SigV4Auth; a boto3 client loaded with the query model
checks that botocore reads our XML back into the same dicts as the JSON protocol."""

from __future__ import annotations

import hashlib
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lambdamaker.gateway.protocol.legacy_query import legacy_query_description
from lambdamaker.testing import ServerProcess

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"


class QueryClient:
    """Signed raw query requests; answers parsed XML (namespace stripped from tags)."""

    def __init__(self, server: ServerProcess) -> None:
        self.endpoint = server.endpoint_url
        self.credentials = Credentials(*server.credentials())

    def _send(self, method: str, url: str, params: dict[str, str]) -> requests.Response:
        form = urlencode(params)
        if method == "GET":
            req = AWSRequest(method="GET", url=f"{url}?{form}" if form else url)
        else:
            req = AWSRequest(
                method="POST",
                url=url,
                data=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
        SigV4Auth(self.credentials, "sqs", "us-east-1").add_auth(req)
        prepared = req.prepare()
        return requests.request(
            method, prepared.url, headers=dict(prepared.headers), data=prepared.body, timeout=30
        )

    def call(
        self, action: str | None, *, url: str | None = None, method: str = "POST", **params: str
    ) -> tuple[int, ET.Element]:
        body = dict(params)
        if action is not None:
            body = {"Action": action, "Version": "2012-11-05", **body}
        response = self._send(method, url or self.endpoint + "/", body)
        assert response.headers["content-type"].startswith("text/xml"), response.text
        return response.status_code, _strip(ET.fromstring(response.content))

    def ok(self, action: str, **params: Any) -> ET.Element:
        status, root = self.call(action, **params)
        assert status == 200, ET.tostring(root)
        assert root.tag == f"{action}Response"
        assert root.findtext("ResponseMetadata/RequestId")
        return root


def _strip(root: ET.Element) -> ET.Element:
    for element in root.iter():
        element.tag = element.tag.removeprefix(NS)
    return root


def _error(root: ET.Element) -> tuple[str | None, str | None]:
    assert root.tag == "ErrorResponse"
    return root.findtext("Error/Type"), root.findtext("Error/Code")


@pytest.fixture(scope="module")
def query(lm_server: ServerProcess) -> QueryClient:
    return QueryClient(lm_server)


@pytest.fixture()
def queue(query: QueryClient) -> Iterator[str]:
    name = f"q-{uuid.uuid4().hex[:10]}"
    root = query.ok(
        "CreateQueue",
        QueueName=name,
        **{"Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "45"},
    )
    url = root.findtext("CreateQueueResult/QueueUrl")
    assert url is not None and url.endswith(f"/{name}")
    yield url


def _attr_md5(name: str, data_type: str, value: str) -> str:
    digest = hashlib.md5()
    for part in (name.encode(), data_type.encode()):
        digest.update(len(part).to_bytes(4, "big") + part)
    digest.update(b"\x01" + len(value.encode()).to_bytes(4, "big") + value.encode())
    return digest.hexdigest()


def test_queue_lifecycle_over_query(query: QueryClient, queue: str) -> None:
    name = queue.rsplit("/", 1)[1]
    assert query.ok("GetQueueUrl", QueueName=name).findtext("GetQueueUrlResult/QueueUrl") == queue
    listed = query.ok("ListQueues", QueueNamePrefix=name)
    assert [e.text for e in listed.findall("ListQueuesResult/QueueUrl")] == [queue]
    query.ok(
        "SetQueueAttributes",
        QueueUrl=queue,
        **{"Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "3"},
    )
    attrs = query.ok("GetQueueAttributes", QueueUrl=queue, **{"AttributeName.1": "All"})
    found = {
        a.findtext("Name"): a.findtext("Value")
        for a in attrs.findall("GetQueueAttributesResult/Attribute")
    }
    assert found["VisibilityTimeout"] == "45"
    assert found["DelaySeconds"] == "3"
    assert found["QueueArn"].endswith(f":{name}")
    query.ok("PurgeQueue", QueueUrl=queue)
    query.ok("DeleteQueue", QueueUrl=queue)
    status, root = query.call("GetQueueUrl", QueueName=name)
    assert (status, _error(root)) == (400, ("Sender", "AWS.SimpleQueueService.NonExistentQueue"))
    status, root = query.call("CreateQueue", QueueName=name)
    assert (status, _error(root)) == (
        400,
        ("Sender", "AWS.SimpleQueueService.QueueDeletedRecently"),
    )


def test_send_receive_delete_with_message_attributes(query: QueryClient, queue: str) -> None:
    sent = query.ok(
        "SendMessage",
        QueueUrl=queue,
        MessageBody="hello <world> & co",
        **{
            "MessageAttribute.1.Name": "colour",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "blue",
        },
    )
    result = sent.find("SendMessageResult")
    assert result is not None
    assert result.findtext("MD5OfMessageBody") == hashlib.md5(b"hello <world> & co").hexdigest()
    assert result.findtext("MD5OfMessageAttributes") == _attr_md5("colour", "String", "blue")
    received = query.ok(
        "ReceiveMessage",
        QueueUrl=queue,
        **{"AttributeName.1": "All", "MessageAttributeName.1": "All"},
    )
    [message] = received.findall("ReceiveMessageResult/Message")
    assert message.findtext("MessageId") == result.findtext("MessageId")
    assert message.findtext("Body") == "hello <world> & co"
    system = {a.findtext("Name"): a.findtext("Value") for a in message.findall("Attribute")}
    assert system["ApproximateReceiveCount"] == "1"
    assert int(system["SentTimestamp"] or 0) > 0
    [attribute] = message.findall("MessageAttribute")
    assert attribute.findtext("Name") == "colour"
    assert attribute.findtext("Value/DataType") == "String"
    assert attribute.findtext("Value/StringValue") == "blue"
    handle = message.findtext("ReceiptHandle")
    assert handle
    query.ok("ChangeMessageVisibility", QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout="0")
    again = query.ok("ReceiveMessage", QueueUrl=queue, VisibilityTimeout="60")
    [message] = again.findall("ReceiveMessageResult/Message")
    handle = message.findtext("ReceiptHandle")
    assert handle
    query.ok("DeleteMessage", QueueUrl=queue, ReceiptHandle=handle)
    status, root = query.call(
        "ChangeMessageVisibility", QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout="0"
    )
    assert (status, _error(root)) == (400, ("Sender", "InvalidParameterValue"))
    empty = query.ok("ReceiveMessage", QueueUrl=queue)
    assert empty.findall("ReceiveMessageResult/Message") == []


def test_batches_over_query(query: QueryClient, queue: str) -> None:
    entries: dict[str, str] = {}
    for i in range(1, 4):
        entries[f"SendMessageBatchRequestEntry.{i}.Id"] = f"m{i}"
        entries[f"SendMessageBatchRequestEntry.{i}.MessageBody"] = f"body {i}"
    entries["SendMessageBatchRequestEntry.3.DelaySeconds"] = "9000"  # invalid: fails alone
    sent = query.ok("SendMessageBatch", QueueUrl=queue, **entries)
    ok = sent.findall("SendMessageBatchResult/SendMessageBatchResultEntry")
    assert sorted(e.findtext("Id") or "" for e in ok) == ["m1", "m2"]
    [failed] = sent.findall("SendMessageBatchResult/BatchResultErrorEntry")
    assert failed.findtext("Id") == "m3"
    assert failed.findtext("SenderFault") == "true"
    received = query.ok("ReceiveMessage", QueueUrl=queue, MaxNumberOfMessages="10")
    handles = [m.findtext("ReceiptHandle") or "" for m in received.findall(".//Message")]
    assert len(handles) == 2
    deletes = {}
    for i, handle in enumerate(handles, 1):
        deletes[f"DeleteMessageBatchRequestEntry.{i}.Id"] = f"d{i}"
        deletes[f"DeleteMessageBatchRequestEntry.{i}.ReceiptHandle"] = handle
    deleted = query.ok("DeleteMessageBatch", QueueUrl=queue, **deletes)
    done = deleted.findall("DeleteMessageBatchResult/DeleteMessageBatchResultEntry")
    assert sorted(e.findtext("Id") or "" for e in done) == ["d1", "d2"]
    status, root = query.call(
        "SendMessageBatch",
        QueueUrl=queue,
        **{"SendMessageBatchRequestEntry.1.Id": "x", "SendMessageBatchRequestEntry.2.Id": "x"},
        **{"SendMessageBatchRequestEntry.1.MessageBody": "a"},
        **{"SendMessageBatchRequestEntry.2.MessageBody": "b"},
    )
    assert (status, _error(root)[1]) == (400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")


def test_get_and_post_straight_to_the_queue_url(query: QueryClient, queue: str) -> None:
    root = query.ok("SendMessage", url=queue, method="GET", MessageBody="via get")
    assert root.findtext("SendMessageResult/MessageId")
    query.ok("SendMessage", url=queue, MessageBody="via post")
    received = query.ok("ReceiveMessage", url=queue, method="GET", MaxNumberOfMessages="10")
    bodies = sorted(m.findtext("Body") or "" for m in received.findall(".//Message"))
    assert bodies == ["via get", "via post"]
    missing = queue.rsplit("/", 1)[0] + "/no-such-queue-here"
    status, root = query.call("ReceiveMessage", url=missing, method="GET")
    assert (status, _error(root)) == (400, ("Sender", "AWS.SimpleQueueService.NonExistentQueue"))


def test_bad_actions_get_query_errors(query: QueryClient, queue: str) -> None:
    status, root = query.call("NoSuchThing", url=queue)
    assert (status, _error(root)[1]) == (400, "InvalidAction")
    status, root = query.call(None, QueueUrl=queue)
    assert (status, _error(root)[1]) == (400, "MissingAction")
    status, root = query.call("SendMessage", QueueUrl=queue)  # no MessageBody
    assert status == 400
    assert _error(root)[0] == "Sender"


def test_unsigned_requests_route_by_action_and_queue_path(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", extra_args=["--no-auth"]) as server:
        base = server.endpoint_url
        created = requests.get(
            f"{base}/?Action=CreateQueue&QueueName=plain&Version=2012-11-05", timeout=30
        )
        assert created.status_code == 200, created.text
        url = _strip(ET.fromstring(created.content)).findtext("CreateQueueResult/QueueUrl")
        assert url == f"{base}/000000000000/plain"
        posted = requests.post(url, data={"Action": "SendMessage", "MessageBody": "hi"}, timeout=30)
        assert posted.status_code == 200, posted.text
        got = requests.get(f"{url}?Action=ReceiveMessage&AttributeName.1=All", timeout=30)
        root = _strip(ET.fromstring(got.content))
        assert root.findtext("ReceiveMessageResult/Message/Body") == "hi"
        unknown = requests.get(f"{url}?Action=Nope", timeout=30)
        assert unknown.status_code == 400
        assert _error(_strip(ET.fromstring(unknown.content)))[1] == "InvalidAction"


@pytest.fixture(scope="module")
def query_boto(lm_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A boto3 SQS client whose model is the query one: botocore serializes query requests and
    parses our XML with its own query parser."""
    data = tmp_path_factory.mktemp("models")
    target = data / "sqs" / "2012-11-05"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(legacy_query_description("sqs")))
    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.insert(0, str(data))
    key, secret = lm_server.credentials()
    return boto3.Session(botocore_session=core).client(
        "sqs",
        endpoint_url=lm_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def test_a_boto3_client_speaking_query_round_trips(query_boto: Any) -> None:
    assert query_boto.meta.service_model.protocol == "query"
    name = f"boto-{uuid.uuid4().hex[:8]}"
    url = query_boto.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": "40"}, tags={"team": "a"}
    )["QueueUrl"]
    sent = query_boto.send_message(
        QueueUrl=url,
        MessageBody="m",
        MessageAttributes={
            "n": {"DataType": "Number", "StringValue": "42"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    batch = query_boto.send_message_batch(
        QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": f"b{i}"} for i in range(3)]
    )
    assert len(batch["Successful"]) == 3 and not batch.get("Failed")
    messages = query_boto.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    assert len(messages) == 4
    first = next(m for m in messages if m["MessageId"] == sent["MessageId"])
    assert first["MessageAttributes"]["b"]["BinaryValue"] == b"\x00\x01"
    assert first["MessageAttributes"]["n"]["StringValue"] == "42"
    assert first["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    result = query_boto.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ],
    )
    assert len(result["Successful"]) == 4
    assert query_boto.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a"}
    attrs = query_boto.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"] == {"VisibilityTimeout": "40"}
    query_boto.delete_queue(QueueUrl=url)
    with pytest.raises(ClientError) as exc:
        query_boto.get_queue_url(QueueName=name)
    assert exc.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert isinstance(exc.value, query_boto.exceptions.QueueDoesNotExist)
