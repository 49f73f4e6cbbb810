"""SQS -> Lambda through an event source mapping: event shape, deletes, partial batch failures,
function errors and redrive, filters, disable/enable, recursive loop detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from esm_support import (
    LOOP_HANDLER,
    SINK_HANDLER,
    create_function,
    create_queue,
    drain,
    mapped,
    queue_counts,
    source_with_sink,
    wait_for,
)

from lambdamaker.services.lambda_.lineage import MAX_CHAIN
from lambdamaker.services.lambda_.mappings.sqs_source import failed_ids, sqs_record, succeeded
from lambdamaker.testing import ServerProcess


@pytest.fixture(scope="module")
def function(lam: Any) -> str:
    return create_function(lam, SINK_HANDLER, "esm-sqs")


def records_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for e in events for r in e["Records"]]


def test_messages_reach_the_function_in_aws_event_shape_and_are_deleted(
    lam: Any, sqs: Any, function: str
) -> None:
    url, arn, sink = source_with_sink(sqs)
    mapping = mapped(lam, function, arn)
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5e1b4151-abc"}
        },
    )
    [event] = drain(sqs, sink, 1)
    [record] = event["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == "hello"
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert (record["eventSource"], record["eventSourceARN"]) == ("aws:sqs", arn)
    assert record["awsRegion"] == "us-east-1"
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
        "AWSTraceHeader",
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["AWSTraceHeader"] == "Root=1-5e1b4151-abc"
    assert record["messageAttributes"] == {
        "color": {
            "stringValue": "red",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "blob": {
            "binaryValue": "AAE=",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0))
    assert wait_for(
        lambda: lam.get_event_source_mapping(UUID=mapping).get("LastProcessingResult") == "OK"
    )
    lam.delete_event_source_mapping(UUID=mapping)


def test_fifo_records_carry_group_and_order(lam: Any, sqs: Any, function: str) -> None:
    url, arn, sink = source_with_sink(sqs, fifo=True, ContentBasedDeduplication="true")
    mapping = mapped(lam, function, arn, BatchSize=1)
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="g")
    records = records_of(drain(sqs, sink, 5))
    assert [r["body"] for r in records] == [f"m{n}" for n in range(5)]
    attributes = records[0]["attributes"]
    assert attributes["MessageGroupId"] == "g"
    assert {"MessageDeduplicationId", "SequenceNumber"} <= set(attributes)
    lam.delete_event_source_mapping(UUID=mapping)


def test_partial_batch_failures_delete_only_the_others(lam: Any, sqs: Any, function: str) -> None:
    # Long enough for the invoke to finish before the batch would be visible again.
    url, arn, sink = source_with_sink(sqs, VisibilityTimeout="4")
    mapping = mapped(lam, function, arn, FunctionResponseTypes=["ReportBatchItemFailures"])
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(n), "MessageBody": "bad" if n == 2 else f"good{n}"} for n in range(4)],
    )
    # The bad message comes back after its visibility timeout; the good ones never do.
    records: list[dict[str, Any]] = []
    while sum(r["body"] == "bad" for r in records) < 2:
        more = records_of(drain(sqs, sink, 1, timeout=20))
        assert more, "the failed message did not come back"
        records += more
    bodies = [r["body"] for r in records]
    assert sorted(b for b in bodies if b != "bad") == ["good0", "good1", "good3"]
    retried = [r for r in records if r["body"] == "bad"][1]
    assert int(retried["attributes"]["ApproximateReceiveCount"]) == 2
    lam.delete_event_source_mapping(UUID=mapping)
    sqs.purge_queue(QueueUrl=url)


def test_an_invalid_partial_response_fails_the_whole_batch() -> None:
    batch = {"a", "b"}
    assert failed_ids(b'{"batchItemFailures": [{"itemIdentifier": "a"}]}', batch) == {"a"}
    assert failed_ids(b'{"batchItemFailures": []}', batch) == set()
    assert failed_ids(b"null", batch) == set()
    assert failed_ids(b"", batch) == set()
    assert failed_ids(b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', batch) is None
    assert failed_ids(b'{"batchItemFailures": [{"other": "a"}]}', batch) is None
    assert failed_ids(b'{"batchItemFailures": "a"}', batch) is None
    assert failed_ids(b"not json", batch) is None


def test_a_fifo_partial_failure_keeps_the_rest_of_its_group() -> None:
    def rec(mid: str, group: str | None) -> dict[str, Any]:
        return {"messageId": mid, "attributes": {"MessageGroupId": group} if group else {}}

    fifo = [rec("1", "a"), rec("2", "b"), rec("3", "a"), rec("4", "b")]
    assert [r["messageId"] for r in succeeded(fifo, {"1"})] == ["2", "4"]
    standard = [rec("1", None), rec("2", None), rec("3", None)]
    assert [r["messageId"] for r in succeeded(standard, {"2"})] == ["1", "3"]


def test_a_record_without_message_attributes_has_no_attributes_digest() -> None:
    message = {
        "MessageId": "id",
        "ReceiptHandle": "rh",
        "Body": "b",
        "MD5OfBody": "92eb5ffee6ae2fec3ad71c777531578f",
        "Attributes": {
            "SentTimestamp": "1",
            "SenderId": "x",
            "ApproximateReceiveCount": "1",
            "ApproximateFirstReceiveTimestamp": "2",
        },
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")
    assert "md5OfMessageAttributes" not in record
    assert record["messageAttributes"] == {}


def test_function_errors_leave_messages_for_the_redrive_policy(
    lam: Any, sqs: Any, function: str
) -> None:
    dlq_url, dlq_arn = create_queue(sqs)
    url, arn, sink = source_with_sink(
        sqs,
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    mapping = mapped(lam, function, arn)
    sqs.send_message(QueueUrl=url, MessageBody="raise please")
    dead = wait_for(
        lambda: sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages"),
        timeout=30,
    )
    assert dead and dead[0]["Body"] == "raise please"
    assert len(records_of(drain(sqs, sink, 2, timeout=5))) == 2  # two attempts, then the DLQ
    assert (
        lam.get_event_source_mapping(UUID=mapping).get("LastProcessingResult")
        == "PROBLEM: Function call failed"
    )
    lam.delete_event_source_mapping(UUID=mapping)


def test_filtered_out_messages_are_deleted_without_an_invoke(
    lam: Any, sqs: Any, function: str
) -> None:
    url, arn, sink = source_with_sink(sqs)
    mapping = mapped(
        lam,
        function,
        arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]},
    )
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "drop"}))
    sqs.send_message(QueueUrl=url, MessageBody="plain text")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "keep"}))
    records = records_of(drain(sqs, sink, 1))
    assert [json.loads(r["body"]) for r in records] == [{"kind": "keep"}]
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0))
    assert drain(sqs, sink, 1, timeout=1) == []
    lam.delete_event_source_mapping(UUID=mapping)


def test_a_disabled_mapping_stops_polling_and_resumes_when_enabled(
    lam: Any, sqs: Any, function: str
) -> None:
    url, arn, sink = source_with_sink(sqs)
    mapping = mapped(lam, function, arn)
    lam.update_event_source_mapping(UUID=mapping, Enabled=False)
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=mapping)["State"] == "Disabled")
    sqs.send_message(QueueUrl=url, MessageBody="later")
    assert drain(sqs, sink, 1, timeout=2) == []
    assert queue_counts(sqs, url) == (1, 0)
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    assert [r["body"] for r in records_of(drain(sqs, sink, 1))] == ["later"]
    lam.delete_event_source_mapping(UUID=mapping)


def test_a_batching_window_gathers_messages_into_one_batch(
    lam: Any, sqs: Any, function: str
) -> None:
    url, arn, sink = source_with_sink(sqs)
    mapping = mapped(lam, function, arn, BatchSize=20, MaximumBatchingWindowInSeconds=2)
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"a{n}"} for n in range(3)]
    )
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"b{n}"} for n in range(3)]
    )
    [event] = drain(sqs, sink, 1)
    assert sorted(r["body"] for r in event["Records"]) == ["a0", "a1", "a2", "b0", "b1", "b2"]
    lam.delete_event_source_mapping(UUID=mapping)


def test_a_throttled_function_keeps_its_messages(lam: Any, sqs: Any) -> None:
    name = create_function(lam, SINK_HANDLER, "esm-throttled")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    url, arn, sink = source_with_sink(sqs, VisibilityTimeout="1")
    mapping = mapped(lam, name, arn)
    sqs.send_message(QueueUrl=url, MessageBody="wait for me")
    assert drain(sqs, sink, 1, timeout=2) == []
    assert sum(queue_counts(sqs, url)) == 1
    lam.delete_function_concurrency(FunctionName=name)
    assert [r["body"] for r in records_of(drain(sqs, sink, 1))] == ["wait for me"]
    lam.delete_event_source_mapping(UUID=mapping)


def test_a_mapping_of_a_deleted_function_reports_failed_invokes(lam: Any, sqs: Any) -> None:
    name = create_function(lam, SINK_HANDLER, "esm-deleted")
    url, arn, _ = source_with_sink(sqs)
    mapping = mapped(lam, name, arn)
    lam.delete_function(FunctionName=name)
    sqs.send_message(QueueUrl=url, MessageBody="nobody home")
    assert wait_for(
        lambda: (
            lam.get_event_source_mapping(UUID=mapping).get("LastProcessingResult")
            == "PROBLEM: Function call failed"
        )
    )
    assert sum(queue_counts(sqs, url)) == 1
    lam.delete_event_source_mapping(UUID=mapping)


def test_sqs_keeps_the_callers_trace_header_as_aws_trace_header(sqs: Any) -> None:
    url, _ = create_queue(sqs)
    header = "Root=1-65a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0"

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = header

    sqs.meta.events.register("before-sign.sqs.SendMessage", add_header)
    try:
        sent = sqs.send_message(QueueUrl=url, MessageBody="traced")
    finally:
        sqs.meta.events.unregister("before-sign.sqs.SendMessage", add_header)
    assert "MD5OfMessageSystemAttributes" not in sent
    [message] = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"], VisibilityTimeout=0
    )["Messages"]
    assert message["Attributes"] == {"AWSTraceHeader": header}
    [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert "Attributes" not in message


def test_a_function_feeding_its_own_queue_stops_after_sixteen_hops(lam: Any, sqs: Any) -> None:
    loop = create_function(lam, LOOP_HANDLER, "esm-loop")
    url, arn, sink = source_with_sink(sqs)
    mapping = mapped(lam, loop, arn, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody="around")
    events = drain(sqs, sink, MAX_CHAIN, timeout=60)
    assert len(events) == MAX_CHAIN
    assert drain(sqs, sink, 1, timeout=2) == []  # the 17th hop was stopped
    lam.delete_event_source_mapping(UUID=mapping)
    sqs.purge_queue(QueueUrl=url)


def test_mappings_poll_again_after_a_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        lam, sqs = server.client("lambda"), server.client("sqs")
        name = create_function(lam, SINK_HANDLER, "esm-restart")
        url, arn, sink = source_with_sink(sqs)
        mapping = mapped(lam, name, arn)
        server.kill()
        server.start()
        lam, sqs = server.client("lambda"), server.client("sqs")
        assert lam.get_event_source_mapping(UUID=mapping)["State"] == "Enabled"
        sqs.send_message(QueueUrl=url, MessageBody="after the crash")
        assert [r["body"] for r in records_of(drain(sqs, sink, 1))] == ["after the crash"]
    finally:
        server.stop()
