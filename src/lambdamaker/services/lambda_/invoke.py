"""Invoke: RequestResponse (run and answer), Event (commit, answer 202, run later), DryRun (204).

The synchronous path runs no SQL: the target comes from the in-memory cache (``targets``), the
engine runs the invocation, and logs and metering are batched by their sinks. Checks happen
before anything runs, in Lambda's order and words: payload size (6 MB sync, 1 MB async, 413),
payload JSON (``InvalidRequestContentException``; not re-parsed when the platform encoded it
itself, ``EncodedJson``), ClientContext (base64 JSON of at most 3,583
bytes), then the function, version or alias (``ResourceNotFoundException``). A response over
Lambda's limit becomes the function error Lambda reports (``Function.ResponseSizeTooLarge``).

A function that is still Pending is waited for briefly (activation takes milliseconds here),
then refused with AWS's ``ResourceConflictException``, as is a Failed one.

``invoke`` is a coroutine: the gateway awaits it on its event loop, and a warm RequestResponse
invocation never leaves the loop (``FunctionEngine.invoke_async``). What may block is sent to a
worker thread: a target not in the cache (a store read) and waiting for a Pending version. An
Event is queued with ``EventQueue.enqueue_async``: the events of all requests waiting on the
loop are committed by one worker thread in one transaction, so no thread hop per request.

Every invocation gets an X-Ray trace header (``_X_AMZN_TRACE_ID``) continuing the chain of the
call that caused it (``lineage``); an invocation that would run a function a 17th time in one
chain is refused (``RecursiveInvocationException``, or OnFailure/DLQ for an Event).
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import time
from typing import Any

import anyio.to_thread
import orjson

from lambdamaker.engines.functions.spec import (
    EncodedJson,
    FunctionSpec,
    InvokeRequest,
    InvokeResult,
)
from lambdamaker.errors import (
    InvalidParameterValueError,
    ResourceNotFoundError,
    TooManyRequestsError,
)
from lambdamaker.gateway.protocol.body import Body
from lambdamaker.services.base import RequestContext
from lambdamaker.services.lambda_ import errors, limits
from lambdamaker.services.lambda_.base import SETTLE_TIMEOUT
from lambdamaker.services.lambda_.destinations import DestinationOperations
from lambdamaker.services.lambda_.errors import (
    InvalidRequestContentError,
    RecursiveInvocationError,
    RequestTooLargeError,
)
from lambdamaker.services.lambda_.event_config import EventConfig
from lambdamaker.services.lambda_.events import DONE, Outcome, QueuedEvent
from lambdamaker.services.lambda_.lineage import HEADER, MAX_CHAIN, next_trace
from lambdamaker.services.lambda_.records import select_version
from lambdamaker.services.lambda_.recursion import RecursionOperations
from lambdamaker.services.lambda_.targets import Target, VersionTarget

log = logging.getLogger("lambdamaker.lambda")


def payload_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, Body):
        return value.read()
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def check_payload_json(payload: bytes) -> None:
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestContentError(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from exc


def check_client_context(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value.encode()) > limits.CLIENT_CONTEXT_LIMIT:
        raise InvalidParameterValueError(
            f"Client context must be at most {limits.CLIENT_CONTEXT_LIMIT} bytes of "
            "base64-encoded data."
        )
    try:
        orjson.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestContentError(
            "Client context must be a valid Base64-encoded JSON object."
        ) from exc
    return value


def oversized_response(size: int) -> InvokeResult:
    return InvokeResult(
        payload=orjson.dumps(
            {
                "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed "
                f"payload size ({limits.RESPONSE_PAYLOAD_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ),
        function_error="Unhandled",
    )


class InvokeOperations(DestinationOperations, RecursionOperations):
    _rng = random.Random()

    async def invoke(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name, qualifier = self.arns.parse_function(params["FunctionName"], params.get("Qualifier"))
        kind = params.get("InvocationType") or "RequestResponse"
        raw = params.get("Payload")
        payload = payload_bytes(raw)
        if kind == "Event" and len(payload) > limits.ASYNC_PAYLOAD_LIMIT:
            raise RequestTooLargeError(
                f"{len(payload)} byte payload is too large for the Event invocation type "
                f"(limit {limits.ASYNC_PAYLOAD_LIMIT} bytes)"
            )
        if len(payload) > limits.SYNC_PAYLOAD_LIMIT:
            raise RequestTooLargeError(
                f"Request must be smaller than {limits.SYNC_PAYLOAD_LIMIT} bytes for the "
                "InvokeFunction operation"
            )
        if not payload:
            payload = b"{}"
        if not isinstance(raw, EncodedJson):
            check_payload_json(payload)
        client_context = check_client_context(params.get("ClientContext"))
        target = self.targets.cached(name, qualifier)
        if target is None:
            target = await anyio.to_thread.run_sync(self.targets.get, name, qualifier)
        if kind == "DryRun":
            return {"StatusCode": 204}
        incoming = ctx.headers.get(HEADER)
        if kind == "Event":
            now = self.dispatcher.now_ms()
            await self.dispatcher.queue.enqueue_async(
                {
                    "request_id": ctx.request_id,
                    "function_name": target.name,
                    "qualifier": target.qualifier,
                    "invoked_arn": target.invoked_arn,
                    "payload": payload,
                    "created_ms": now,
                    "next_attempt_ms": now,
                    "trace": incoming,
                    "attempts": 0,
                    "lease_until_ms": 0,
                    "throttles": 0,
                }
            )
            return {"StatusCode": 202}
        chosen = target.pick(self._rng)
        if chosen.state == "Pending":
            chosen = await anyio.to_thread.run_sync(self._invocable, target, chosen)
        else:
            chosen = self._invocable(target, chosen)
        trace = next_trace(incoming, chosen.spec.function_arn)
        if trace.looping and not target.loop_allowed:
            log.warning(
                "lambda: stopped a recursive invocation of %s (%d in one chain)",
                chosen.spec.function_arn,
                trace.count,
            )
            raise RecursiveInvocationError(
                "Lambda detected that the function is being invoked in a recursive loop with "
                "other AWS resources and stopped the function's invocation."
            )
        request = InvokeRequest(
            request_id=ctx.request_id,
            payload=payload,
            invoked_function_arn=target.invoked_arn,
            client_context=client_context,
            tail_logs=params.get("LogType") == "Tail",
            trace_id=trace.header,
        )
        result = await self.engine.invoke_async(chosen.spec, request)
        if len(result.payload) > limits.RESPONSE_PAYLOAD_LIMIT:
            tail = result.log_tail
            result = oversized_response(len(result.payload))
            result.log_tail = tail
        out: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": result.payload,
            "ExecutedVersion": chosen.spec.version,
        }
        if result.function_error:
            out["FunctionError"] = result.function_error
        if request.tail_logs:
            out["LogResult"] = base64.b64encode(result.log_tail[-limits.LOG_TAIL_BYTES :]).decode()
        return out

    def _invocable(self, target: Target, chosen: VersionTarget) -> VersionTarget:
        """``chosen`` (picked from ``target``), once it is not Pending (waits briefly for
        activation: blocking, so not on the event loop when it is Pending)."""
        if chosen.state == "Pending":
            name, version = chosen.spec.function_name, chosen.spec.version

            def read() -> Any:
                with self.store.read() as conn:
                    return select_version(conn, name, version)

            record = self.activator.wait_settled(read, SETTLE_TIMEOUT)
            if record is None:
                raise errors.function_not_found(self.arns.function(name, version))
            if record.state == "Pending":
                raise errors.not_invocable("Pending")
            refreshed = self.targets.get(target.name, target.qualifier)
            chosen = next(
                (v for v in refreshed.versions if v.spec.version == version), refreshed.primary
            )
        if chosen.state in ("Failed", "Inactive"):
            raise errors.not_invocable(chosen.state)
        return chosen

    # --- the async dispatcher's attempt -------------------------------------------------------

    def attempt_event(self, event: QueuedEvent) -> Outcome:
        config = self.event_config(event)
        if self.event_expired(event, config):
            log.warning("lambda: async event %s is older than its maximum age", event.request_id)
            return self.give_up(event, config, "EventAgeExceeded", event.attempts)
        try:
            target = self.targets.get(event.function_name, event.qualifier)
        except ResourceNotFoundError:
            log.warning(
                "lambda: async event %s dropped: %s no longer exists",
                event.request_id,
                event.invoked_arn,
            )
            return DONE
        chosen = target.pick(self._rng)
        if chosen.state == "Pending":
            return Outcome(done=False, delay_ms=200, count_attempt=False)
        if chosen.state in ("Failed", "Inactive"):
            log.warning(
                "lambda: async event %s dropped: function %s", event.request_id, chosen.state
            )
            return DONE
        trace = next_trace(event.trace, chosen.spec.function_arn)
        if trace.looping and not target.loop_allowed:
            return self.stop_loop(event, config, chosen.spec)
        request = InvokeRequest(
            request_id=event.request_id,
            payload=event.payload,
            invoked_function_arn=event.invoked_arn,
            trace_id=trace.header,
        )
        try:
            result = self.engine.invoke(chosen.spec, request)
        except TooManyRequestsError:
            return self.throttled(event)
        if result.function_error:
            log.info(
                "lambda: async event %s ended with a function error (%s)",
                event.request_id,
                result.function_error,
            )
        return self.after_attempt(event, config, result, chosen.spec.version, trace.header)

    def stop_loop(self, event: QueuedEvent, config: EventConfig, spec: FunctionSpec) -> Outcome:
        """The event would run the function a 17th time in its chain: it is not run, goes to
        OnFailure or the dead-letter queue, and is logged (the platform's log and a stream of
        the function's log group)."""
        message = (
            f"Lambda stopped the invocation {event.request_id} of {spec.function_name}: the "
            f"function was invoked more than {MAX_CHAIN} times in one recursive chain "
            "(recursive loop detection)."
        )
        log.warning("lambda: %s", message)
        now = int(time.time() * 1000)
        stream = time.strftime("%Y/%m/%d", time.gmtime()) + "/[lambdamaker]recursive-loop"
        self.platform.logs.append(spec.log_group, stream, [(now, message)])
        return self.give_up(event, config, "RecursiveInvocationException", event.attempts)
