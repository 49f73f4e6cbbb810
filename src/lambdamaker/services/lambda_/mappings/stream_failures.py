"""How a stream batch's invocation ended, and the record Lambda sends to OnFailure.

Outcome rules (AWS's, for Kinesis and DynamoDB Streams):

- A function error (``FunctionError`` set) fails the whole batch.
- Without ReportBatchItemFailures any other response is a full success.
- With it: a null/empty response, a missing/null ``batchItemFailures`` or an empty list is a full
  success; otherwise the batch fails from the lowest reported sequence number on (the records
  before it are done). An entry that is not an object, or whose ``itemIdentifier`` is missing,
  empty or not a sequence number of the batch, fails the whole batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdamaker.engines.functions.spec import InvokeResult
from lambdamaker.services.lambda_.mappings.model import StreamRecord

SUCCESS = -1
"""``first_failed`` of a full success."""


@dataclass(frozen=True)
class Outcome:
    first_failed: int
    """Index in the batch of the first record to retry; ``SUCCESS`` (-1) when all are done,
    0 when the whole batch failed."""
    function_error: str | None = None


def classify(
    result: InvokeResult,
    batch: list[StreamRecord],
    report_item_failures: bool,
) -> Outcome:
    if result.function_error:
        return Outcome(0, result.function_error)
    if not report_item_failures:
        return Outcome(SUCCESS)
    try:
        response = orjson.loads(result.payload) if result.payload.strip() else None
    except orjson.JSONDecodeError:
        return Outcome(0)
    if not response:
        return Outcome(SUCCESS)
    if not isinstance(response, dict):
        return Outcome(0)
    failures = response.get("batchItemFailures")
    if not failures:
        return Outcome(SUCCESS)
    if not isinstance(failures, list):
        return Outcome(0)
    index = {r.sequence_number: i for i, r in enumerate(batch)}
    lowest: int | None = None
    for entry in failures:
        ident = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(ident, str) or ident not in index:
            return Outcome(0)
        position = index[ident]
        lowest = position if lowest is None else min(lowest, position)
    assert lowest is not None
    return Outcome(lowest)


def _iso(ms: float) -> str:
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def failure_record(
    *,
    kind: str,
    function_arn: str,
    stream_arn: str,
    shard_id: str,
    batch: list[StreamRecord],
    condition: str,
    invoke_count: int,
    last: InvokeResult | None,
    now_ms: int,
) -> str:
    """The JSON document Lambda sends to a stream mapping's OnFailure destination."""
    response: dict[str, Any] = {"statusCode": 200 if last is not None else 0}
    response["executedVersion"] = last.executed_version if last is not None else ""
    if last is not None and last.function_error:
        response["functionError"] = last.function_error
    info = {
        "shardId": shard_id,
        "startSequenceNumber": batch[0].sequence_number,
        "endSequenceNumber": batch[-1].sequence_number,
        "approximateArrivalOfFirstRecord": _iso(batch[0].arrival_ms),
        "approximateArrivalOfLastRecord": _iso(batch[-1].arrival_ms),
        "batchSize": len(batch),
        "streamArn": stream_arn,
    }
    document = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(now_ms),
        ("DDBStreamBatchInfo" if kind == "dynamodb" else "KinesisBatchInfo"): info,
    }
    return orjson.dumps(document).decode()
