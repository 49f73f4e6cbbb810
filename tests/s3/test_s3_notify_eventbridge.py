"""S3 events on EventBridge: with EventBridgeConfiguration every object change is put on the
default bus as source ``aws.s3``; a rule routes them to a queue here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from s3_notify_support import assert_empty, new_queue, receive


def test_eventbridge_configuration_puts_object_events_on_the_default_bus(
    boto_client: Callable[..., Any], s3c: Any, live_bucket: str
) -> None:
    events, sqs = boto_client("events"), boto_client("sqs")
    url, queue_arn = new_queue(sqs)
    rule = f"s3n-{uuid.uuid4().hex[:10]}"
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps(
            {"source": ["aws.s3"], "detail": {"bucket": {"name": [live_bucket]}}}
        ),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    try:
        s3c.put_bucket_notification_configuration(
            Bucket=live_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        put = s3c.put_object(Bucket=live_bucket, Key="eb/a b.txt", Body=b"four")
        s3c.delete_object(Bucket=live_bucket, Key="eb/a b.txt")
        got = receive(sqs, url, 2)
        by_type = {e["detail-type"]: e for e in got}
        created, deleted = by_type["Object Created"], by_type["Object Deleted"]
        assert created["source"] == "aws.s3"
        assert created["account"] == "000000000000" and created["region"] == "us-east-1"
        assert created["resources"] == [f"arn:aws:s3:::{live_bucket}"]
        detail = created["detail"]
        assert detail["version"] == "0"
        assert detail["bucket"] == {"name": live_bucket}
        assert detail["object"]["key"] == "eb/a b.txt"
        assert detail["object"]["size"] == 4
        assert detail["object"]["etag"] == put["ETag"].strip('"')
        assert detail["request-id"] == put["ResponseMetadata"]["RequestId"]
        assert detail["requester"] == "000000000000"
        assert detail["reason"] == "PutObject"
        removed = deleted["detail"]
        assert removed["reason"] == "DeleteObject"
        assert removed["deletion-type"] == "Permanently Deleted"
        assert set(removed["object"]) == {"key", "sequencer"}
        assert removed["object"]["sequencer"] > detail["object"]["sequencer"]
        assert_empty(sqs, url)  # no s3:TestEvent goes to EventBridge
    finally:
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)
        sqs.delete_queue(QueueUrl=url)
