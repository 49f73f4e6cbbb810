"""Durability of async invocations: an event acknowledged with 202 runs even when the server is
killed (SIGKILL) before or while running it, once the server restarts on the same data dir."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from lambda_support import ROLE, make_zip

from lambdamaker.testing import ServerProcess

SLOW_WRITER = """
import json, time, boto3

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    boto3.client("s3").put_object(
        Bucket=event["bucket"], Key=context.aws_request_id, Body=json.dumps(event).encode()
    )
    return "written"
"""


@pytest.mark.slow
def test_pending_async_event_survives_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        lam, s3 = server.client("lambda"), server.client("s3")
        bucket = f"durable-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        lam.create_function(
            FunctionName="slow-writer",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Timeout=60,
            Code={"ZipFile": make_zip({"app.py": SLOW_WRITER})},
        )
        lam.get_waiter("function_active_v2").wait(
            FunctionName="slow-writer", WaiterConfig={"Delay": 1}
        )
        payload = json.dumps({"bucket": bucket, "sleep": 3}).encode()
        accepted = lam.invoke(FunctionName="slow-writer", InvocationType="Event", Payload=payload)
        assert accepted["StatusCode"] == 202
        request_id = accepted["ResponseMetadata"]["RequestId"]
        server.kill()  # SIGKILL before the 3-second handler could finish

        server.start()
        s3 = server.client("s3")
        deadline = time.monotonic() + 60
        keys: list[str] = []
        while time.monotonic() < deadline and not keys:
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
            time.sleep(0.2)
        assert keys == [request_id], server.log()
    finally:
        server.stop()
