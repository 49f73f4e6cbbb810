"""A Kinesis event source mapping created with boto3 against the server: records reach the
function, a poison record is bisected out to the OnFailure queue."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

from esm_support import create_function, create_queue, drain, wait_for

KINESIS_SINK = """
import base64, json
import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    name = event["Records"][0]["eventSourceARN"].split("/")[-1] + "-sink"
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    failed = any(b"poison" in base64.b64decode(r["kinesis"]["data"]) for r in event["Records"])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"event": event, "failed": failed}))
    if failed:
        raise ValueError("poison")
"""


def test_a_boto3_mapping_delivers_records_and_bisects_a_poison_one_to_on_failure(
    boto_client: Callable[..., Any],
) -> None:
    lam, kinesis, sqs = boto_client("lambda"), boto_client("kinesis"), boto_client("sqs")
    name = f"esm-kin-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    sink_url, _ = create_queue(sqs, name + "-sink")
    dlq_url, dlq_arn = create_queue(sqs)
    function = create_function(lam, KINESIS_SINK, "esm-kin")
    seqs = [
        kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")["SequenceNumber"]
        for data in [b"a", b"b", b"poison", b"c", b"d", b"e"]
    ]
    out = lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream_arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dlq_arn}},
    )
    assert out["StartingPosition"] == "TRIM_HORIZON"
    try:
        (failure,) = drain(sqs, dlq_url, until=1)
        info = failure["KinesisBatchInfo"]
        assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[2]
        assert info["batchSize"] == 1
        assert info["streamArn"] == stream_arn
        assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert failure["requestContext"]["approximateInvokeCount"] == 1
        good = set(seqs) - {seqs[2]}
        delivered: set[str] = set()

        def all_delivered() -> bool:
            for body in drain(sqs, sink_url, until=1, timeout=1):
                if not body["failed"]:
                    for record in body["event"]["Records"]:
                        delivered.add(record["kinesis"]["sequenceNumber"])
                        assert base64.b64decode(record["kinesis"]["data"]) != b"poison"
            return delivered >= good

        assert wait_for(all_delivered)
        assert delivered == good
        got = wait_for(
            lambda: (
                (m := lam.get_event_source_mapping(UUID=out["UUID"]))["LastProcessingResult"]
                == "OK"
                and m
            )
        )
        assert got["State"] == "Enabled"
    finally:
        lam.delete_event_source_mapping(UUID=out["UUID"])
        kinesis.delete_stream(StreamName=name)
