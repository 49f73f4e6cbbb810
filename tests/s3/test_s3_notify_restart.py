"""A notification commits with its object: a kill -9 right after a 2xx PutObject still delivers
the event after restart, and sequencers keep growing across the restart."""

from __future__ import annotations

from pathlib import Path

from s3_notify_support import new_queue, only_records, queue_config, receive

from lambdamaker.testing import ServerProcess


def test_kill_9_after_put_object_still_delivers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        s3, sqs = server.client("s3"), server.client("sqs")
        s3.create_bucket(Bucket="crashy")
        url, arn = new_queue(sqs)
        s3.put_bucket_notification_configuration(
            Bucket="crashy",
            NotificationConfiguration={
                "QueueConfigurations": [queue_config(arn, ["s3:ObjectCreated:*"])]
            },
        )
        receive(sqs, url, 1)  # the s3:TestEvent
        first = s3.put_object(Bucket="crashy", Key="before kill", Body=b"1")
    finally:
        server.kill()
    with ServerProcess(data) as again:
        sqs = again.client("sqs")
        url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
        (record,) = only_records(receive(sqs, url, 1))
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["object"]["key"] == "before+kill"
        assert record["s3"]["object"]["eTag"] == first["ETag"].strip('"')
        # The cache is rebuilt from the store and the sequencer continues after a restart.
        again.client("s3").put_object(Bucket="crashy", Key="before kill", Body=b"2")
        (later,) = only_records(receive(sqs, url, 1))
        assert later["s3"]["object"]["sequencer"] > record["s3"]["object"]["sequencer"]
