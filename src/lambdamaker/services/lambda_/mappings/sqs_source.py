"""``SqsPoller``: an SQS event source mapping, as Lambda's documented SQS poller behaves.

Each of a few receive loops (ScalingConfig.MaximumConcurrency, default ``DEFAULT_LOOPS``, at
most ``MAX_LOOPS`` here; the extra loops only poll while receives come back full, so a quiet
queue is polled by one loop and a batching window really gathers) long-polls the queue
in-process, gathers up to BatchSize messages within
MaximumBatchingWindowInSeconds (or until 6 MB of payload), and invokes the function
synchronously with AWS's exact SQS event.

Invariants:

- A message is deleted only when its batch succeeded, when the function's partial batch
  response does not name it, or when no filter matches it (filtered messages are deleted
  without an invoke). Everything else is left alone: it becomes visible again after the
  queue's VisibilityTimeout, and the queue's RedrivePolicy moves it to the dead-letter queue
  after ``maxReceiveCount`` receives.
- A partial batch response that is not a valid ``{"batchItemFailures": [{"itemIdentifier":
  id}]}`` naming only ids of the batch fails the whole batch; an empty list or null is success.
- A throttled invoke backs off and deletes nothing (the messages come back).
- Recursive loops: the first record's AWSTraceHeader is the invoke's incoming trace; when the
  chain would run the function a 17th time the batch is not invoked (and not deleted).
- FIFO order: the queue hands out a message group's next message only once the previous one
  is deleted or visible again, so each group is processed in order across the loops. With a
  partial batch response, a message after a failed one of its group is kept as well.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from lambdamaker.engines.events.patterns import EventPattern
from lambdamaker.errors import ResourceNotFoundError, ServiceError, TooManyRequestsError
from lambdamaker.services.lambda_.lineage import next_trace
from lambdamaker.services.lambda_.mappings import invoker
from lambdamaker.services.lambda_.mappings.filters import passes
from lambdamaker.services.lambda_.mappings.model import Mapping
from lambdamaker.services.sqs import inprocess

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.provider import LambdaProvider

log = logging.getLogger("lambdamaker.lambda")

MAX_LOOPS = 5
DEFAULT_LOOPS = 2
MAX_PAYLOAD = 6 * 1024 * 1024
LONG_POLL_S = 20
THROTTLE_BACKOFF_S = 0.5
ERROR_BACKOFF_S = 1.0

OK = "OK"
FAILED = "PROBLEM: Function call failed"
NO_RECORDS = "No records processed"


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ``event["Records"]`` entry for a received message (ReceiveMessage's shape)."""
    attributes = dict(message.get("Attributes") or {})
    wanted = (
        "ApproximateReceiveCount",
        "AWSTraceHeader",
        "SentTimestamp",
        "SequenceNumber",
        "MessageGroupId",
        "SenderId",
        "MessageDeduplicationId",
        "ApproximateFirstReceiveTimestamp",
    )
    record_attributes = {k: attributes[k] for k in wanted if attributes.get(k) is not None}
    message_attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {"stringListValues": [], "binaryListValues": []}
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        else:
            entry["stringValue"] = value.get("StringValue")
        entry["dataType"] = value["DataType"]
        message_attributes[name] = entry
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": record_attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message["MD5OfBody"],
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(eventSource="aws:sqs", eventSourceARN=queue_arn, awsRegion=region)
    return record


def failed_ids(payload: bytes, batch_ids: set[str]) -> set[str] | None:
    """The message ids a partial batch response names; None when the response is invalid
    (then the whole batch failed)."""
    try:
        response = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return None
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out = set()
    for item in failures:
        if not isinstance(item, dict):
            return None
        item_id = item.get("itemIdentifier")
        if not isinstance(item_id, str) or item_id not in batch_ids:
            return None
        out.add(item_id)
    return out


def succeeded(records: list[dict[str, Any]], failed: set[str]) -> list[dict[str, Any]]:
    """The records a partial batch response lets go. In a FIFO queue a message after a failed
    one of its group failed too: deleting it would let the group's order slip."""
    blocked: set[str] = set()
    out = []
    for record in records:
        group = record["attributes"].get("MessageGroupId")
        if record["messageId"] in failed:
            if group is not None:
                blocked.add(group)
        elif group is None or group not in blocked:
            out.append(record)
    return out


class SqsPoller:
    def __init__(
        self,
        provider: LambdaProvider,
        mapping: Mapping,
        report: Callable[[str, str], None],
    ) -> None:
        self.provider = provider
        self.platform = provider.platform
        self.report = report
        self._stop = threading.Event()
        self._backlog = threading.Event()
        """Set while the queue hands out full receives: the extra loops join in then."""
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._set_mapping(mapping)

    def _set_mapping(self, mapping: Mapping) -> None:
        filters = tuple(EventPattern.compile(f) for f in mapping.filters)
        with self._lock:
            self.mapping = mapping
            self._filters = filters

    def _loops(self) -> int:
        wanted = self.mapping.max_concurrency or DEFAULT_LOOPS
        return max(1, min(int(wanted), MAX_LOOPS))

    def start(self) -> None:
        self._grow()

    def _grow(self) -> None:
        while len(self._threads) < self._loops():
            thread = threading.Thread(
                target=self._run,
                args=(len(self._threads),),
                name=f"esm-sqs-{self.mapping.uuid[:8]}-{len(self._threads)}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def update(self, mapping: Mapping) -> None:
        self._set_mapping(mapping)
        self._grow()  # loops beyond a lowered maximum notice it and end (``_run``)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=1.0)

    # --- one receive loop ---------------------------------------------------------------------

    def _run(self, index: int) -> None:
        while not self._stop.is_set():
            if index >= self._loops():
                return
            # Like Lambda's pollers, scale out only with a backlog: a single loop gathers a
            # batching window's messages into one batch.
            if index > 0 and not self._backlog.wait(0.25):
                continue
            mapping, filters = self.mapping, self._filters
            try:
                batch = self._gather(mapping)
                if batch:
                    self._process(mapping, filters, batch)
            except ServiceError as exc:
                if exc.code in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"):
                    self.report(mapping.uuid, "PROBLEM: Queue does not exist")
                else:
                    log.warning("lambda: mapping %s: %s", mapping.uuid, exc)
                self._stop.wait(ERROR_BACKOFF_S)
            except Exception:
                if self._stop.is_set():  # the store closed under us at shutdown
                    return
                log.exception("lambda: SQS poller of mapping %s failed", mapping.uuid)
                self._stop.wait(ERROR_BACKOFF_S)

    def _gather(self, mapping: Mapping) -> list[dict[str, Any]]:
        """Up to BatchSize messages, within the batching window (or 6 MB)."""
        arn = mapping.source_arn
        limit = min(10, mapping.batch_size)
        first = inprocess.receive(self.platform, arn, limit, LONG_POLL_S, self._stop)
        if len(first) == limit:
            self._backlog.set()
        else:
            self._backlog.clear()
        if not first or mapping.window_s <= 0:
            return first
        batch = list(first)
        size = sum(len(m["Body"]) for m in batch)
        deadline = time.monotonic() + mapping.window_s
        while len(batch) < mapping.batch_size and size < MAX_PAYLOAD and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = inprocess.receive(
                self.platform,
                arn,
                min(10, mapping.batch_size - len(batch)),
                remaining,
                self._stop,
            )
            batch.extend(more)
            size += sum(len(m["Body"]) for m in more)
        return batch

    def _process(
        self, mapping: Mapping, filters: tuple[EventPattern, ...], batch: list[dict[str, Any]]
    ) -> None:
        region = self.platform.config.region
        records = [sqs_record(m, mapping.source_arn, region) for m in batch]
        kept = [r for r in records if passes(filters, "sqs", r)]
        dropped = [r["receiptHandle"] for r in records if r not in kept]
        if dropped:
            inprocess.delete(self.platform, mapping.source_arn, dropped)
        if not kept:
            return
        trace = kept[0]["attributes"].get("AWSTraceHeader")
        if self._looping(mapping, trace):
            log.warning(
                "lambda: stopped a recursive loop of %s through %s",
                mapping.function_arn,
                mapping.source_arn,
            )
            return
        payload = orjson.dumps({"Records": kept})
        try:
            result = invoker.invoke(self.provider, mapping.function_arn, payload, trace)
        except TooManyRequestsError:
            self._stop.wait(THROTTLE_BACKOFF_S)
            return
        except ResourceNotFoundError:
            self.report(mapping.uuid, FAILED)
            self._stop.wait(ERROR_BACKOFF_S)
            return
        except ServiceError as exc:
            log.warning("lambda: mapping %s could not invoke: %s", mapping.uuid, exc)
            self.report(mapping.uuid, FAILED)
            self._stop.wait(ERROR_BACKOFF_S)
            return
        if result.function_error:
            self.report(mapping.uuid, FAILED)
            return
        done = [r["receiptHandle"] for r in kept]
        if mapping.report_item_failures:
            failed = failed_ids(result.payload, {r["messageId"] for r in kept})
            if failed is None:
                self.report(mapping.uuid, FAILED)
                return
            done = [r["receiptHandle"] for r in succeeded(kept, failed)]
        inprocess.delete(self.platform, mapping.source_arn, done)
        self.report(mapping.uuid, OK)

    def _looping(self, mapping: Mapping, trace: str | None) -> bool:
        if not trace:
            return False
        try:
            name, qualifier = self.provider.arns.parse_function(mapping.function_arn)
            target = self.provider.targets.get(name, qualifier)
        except ServiceError:
            return False  # the invoke reports the missing function
        if target.loop_allowed:
            return False
        return next_trace(trace, target.primary.spec.function_arn).looping
