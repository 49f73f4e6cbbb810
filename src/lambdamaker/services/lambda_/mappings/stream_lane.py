"""One lane of a shard: its batches, invoked in order, each retried until it is done.

A record is done when the function succeeded for it, when it was sent to OnFailure (or dropped
without one) after MaximumRetryAttempts / MaximumRecordAgeInSeconds, or when a filter dropped
it. ``Lane.run`` returns only when every record it was given is done, or False when the poller
stops first (the rest stays uncommitted and is delivered again later).

Retry rules:

- A function error or an invalid partial-batch response counts one attempt; with
  BisectBatchOnFunctionError a failed batch of more than one record is split in halves, first
  half first, and splitting does not count (each half starts with no attempts), so a single
  poison record ends up alone and only it goes to OnFailure.
- A partial batch response marks the records before the lowest failed one done and retries the
  rest (one attempt counted).
- Throttling, a missing or not invocable function and service errors back off without counting.
- Before each invocation, records older than MaximumRecordAgeInSeconds leave the batch for
  OnFailure (``RecordAgeExceeded``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from lambdamaker.engines.functions.spec import InvokeResult
from lambdamaker.errors import ServiceError
from lambdamaker.services.lambda_.errors import RequestTooLargeError
from lambdamaker.services.lambda_.mappings import invoker
from lambdamaker.services.lambda_.mappings.model import Mapping, StreamRecord
from lambdamaker.services.lambda_.mappings.stream_failures import SUCCESS, classify

if TYPE_CHECKING:
    from lambdamaker.services.lambda_.mappings.stream_poller import StreamPoller

log = logging.getLogger("lambdamaker.lambda.esm")

MAX_PAYLOAD = 6 * 1024 * 1024 - 64 * 1024
"""A batch's invocation payload stays under Lambda's 6 MB synchronous limit (with room)."""
RECORD_OVERHEAD = 600
"""JSON bytes of a record around its payload (metadata, ARNs), counted generously."""


def batches(records: list[StreamRecord], batch_size: int) -> list[list[StreamRecord]]:
    """``records`` in order, cut into batches of at most ``batch_size`` records and 6 MB."""
    out: list[list[StreamRecord]] = []
    current: list[StreamRecord] = []
    size = 0
    for record in records:
        estimate = record.size * 4 // 3 + RECORD_OVERHEAD
        if current and (len(current) >= batch_size or size + estimate > MAX_PAYLOAD):
            out.append(current)
            current, size = [], 0
        current.append(record)
        size += estimate
    if current:
        out.append(current)
    return out


class Lane:
    def __init__(
        self,
        poller: StreamPoller,
        shard_id: str,
        done: Callable[[list[StreamRecord], str | None, int, InvokeResult | None], None],
    ) -> None:
        self.poller = poller
        self.shard_id = shard_id
        self.done = done
        """``done(records, failure_condition, invoke_count, last_result)``: the records are
        done; with a condition they failed and go to OnFailure in the same commit."""

    def run(self, records: list[StreamRecord]) -> bool:
        mapping = self.poller.mapping
        queue: deque[tuple[list[StreamRecord], int]] = deque(
            (batch, 0) for batch in batches(records, mapping.batch_size)
        )
        last: InvokeResult | None = None
        while queue:
            if self.poller.stopping:
                return False
            batch, attempts = queue.popleft()
            mapping = self.poller.mapping
            batch = self._drop_expired(mapping, batch, attempts, last)
            if not batch:
                continue
            result = self._invoke(mapping, batch)
            if result is None:  # throttled or not invocable: back off, nothing counted
                queue.appendleft((batch, attempts))
                self.poller.backoff_throttled()
                continue
            last = result
            outcome = classify(result, batch, mapping.report_item_failures)
            if outcome.first_failed == SUCCESS:
                self.poller.note_result(True)
                self.done(batch, None, attempts + 1, result)
                continue
            self.poller.note_result(False)
            if outcome.first_failed > 0:
                self.done(batch[: outcome.first_failed], None, attempts + 1, result)
                batch = batch[outcome.first_failed :]
            attempts += 1
            if mapping.bisect and len(batch) > 1 and outcome.function_error is not None:
                half = len(batch) // 2
                queue.appendleft((batch[half:], 0))
                queue.appendleft((batch[:half], 0))
                continue
            if 0 <= mapping.max_retries < attempts:
                self._give_up(batch, "RetryAttemptsExhausted", attempts, result)
                continue
            queue.appendleft((batch, attempts))
            if not self.poller.pause(self.poller.retry_delay(attempts)):
                return False
        return True

    def _drop_expired(
        self, mapping: Mapping, batch: list[StreamRecord], attempts: int, last: InvokeResult | None
    ) -> list[StreamRecord]:
        if mapping.max_record_age_s < 0:
            return batch
        cutoff = self.poller.now_ms() - mapping.max_record_age_s * 1000
        expired = [r for r in batch if r.arrival_ms < cutoff]
        if not expired:
            return batch
        self._give_up(expired, "RecordAgeExceeded", attempts, last if attempts else None)
        return [r for r in batch if r.arrival_ms >= cutoff]

    def _give_up(
        self, batch: list[StreamRecord], condition: str, attempts: int, last: InvokeResult | None
    ) -> None:
        if self.poller.mapping.on_failure_arn is None:
            log.warning(
                "esm %s: dropping %d record(s) of %s (%s..%s): %s",
                self.poller.mapping.uuid,
                len(batch),
                self.shard_id,
                batch[0].sequence_number,
                batch[-1].sequence_number,
                condition,
            )
        self.done(batch, condition, attempts, last)

    def _invoke(self, mapping: Mapping, batch: list[StreamRecord]) -> InvokeResult | None:
        payload = orjson.dumps({"Records": [r.record for r in batch]})
        try:
            return invoker.invoke(self.poller.provider, mapping.function_arn, payload)
        except RequestTooLargeError as exc:
            # Counted as a failed invocation: bisecting makes the batch small enough.
            return InvokeResult(
                payload=orjson.dumps({"errorMessage": exc.message}),
                function_error="Unhandled",
            )
        except ServiceError as exc:
            log.info("esm %s: cannot invoke %s: %s", mapping.uuid, mapping.function_arn, exc)
            self.poller.note_result(False)
            return None
        except Exception:
            log.exception("esm %s: invoking %s failed", mapping.uuid, mapping.function_arn)
            return None
