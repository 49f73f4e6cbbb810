"""The Task state: resolve the resource, call it under TimeoutSeconds, record its events.

Event families follow the resource, as in AWS's history:
- ``arn:aws:states:::<service>:<action>[.pattern]`` and ``aws-sdk:*``: ``TaskScheduled``,
  ``TaskStarted``, (``TaskSubmitted`` for ``.waitForTaskToken``), ``TaskSucceeded`` /
  ``TaskFailed`` / ``TaskTimedOut``, with ``resourceType`` / ``resource`` split from the ARN;
- a plain Lambda function ARN: ``LambdaFunctionScheduled`` / ``Started`` / ``Succeeded`` /
  ``Failed`` / ``TimedOut``;
- an activity ARN: ``ActivityScheduled``, ``ActivityStarted {workerName}`` when a worker took
  the task (a broker with ``activity_started``), then ``ActivitySucceeded`` / ``Failed`` /
  ``TimedOut``; the worker's result arrives through the task token like ``.waitForTaskToken``;
- ``.sync`` / ``.sync:2``: the Task has a token too (``$$.Task.Token``, as on AWS), and a
  SendTaskSuccess/Failure with it ends the Task before the job does.

On replay, an outcome event already recorded for an attempt is used instead of calling the
resource again; a token-based task gets the same token back from the broker and waits again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import orjson

from lambdamaker.engines.workflows import number_fields
from lambdamaker.engines.workflows.errors import RUNTIME, TIMEOUT, StatesError
from lambdamaker.engines.workflows.interpreter import HANDLERS, Visit, dumps
from lambdamaker.engines.workflows.tasks import TaskRequest, split_pattern

_OUTCOMES = ("Succeeded", "Failed", "TimedOut")
_FRESH: Any = object()
_SUBMITTED: Any = object()


class Resource:
    """How a Task's resource shows in events."""

    __slots__ = ("base", "family", "pattern", "resource", "resource_type")

    def __init__(self, arn: str) -> None:
        self.base, self.pattern = split_pattern(arn)
        self.resource_type = ""
        self.resource = arn
        parts = self.base.split(":")
        if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
            self.family = "LambdaFunction"
        elif len(parts) >= 7 and parts[2] == "states" and parts[5] == "activity":
            self.family = "Activity"
        else:
            self.family = "Task"
            tail = self.base.split(":::", 1)[1] if ":::" in self.base else self.base
            if tail.startswith("aws-sdk:"):
                service, _, action = tail[len("aws-sdk:") :].partition(":")
                self.resource_type = f"aws-sdk:{service}"
                self.resource = action + self.pattern
            else:
                service, _, action = tail.partition(":")
                self.resource_type = service
                self.resource = action + self.pattern

    @property
    def uses_token(self) -> bool:
        return self.family == "Activity" or self.pattern == ".waitForTaskToken"

    @property
    def syncs(self) -> bool:
        """``.sync`` / ``.sync:2``: AWS gives such a Task a token too (``$$.Task.Token``), and
        SendTaskSuccess/Failure with it ends the Task before the job does."""
        return self.pattern.startswith(".sync")

    def details(self, **extra: Any) -> dict[str, Any]:
        if self.family == "Task":
            return {"resourceType": self.resource_type, "resource": self.resource, **extra}
        return dict(extra)


def _seconds(visit: Visit, field: str) -> float | None:
    value = number_fields.resolve(visit, visit.state, field, visit.raw, number_fields.SECONDS)
    return None if value is None else float(value)


async def visit_task(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    run = visit.run
    spec = run.spec
    resource = Resource(str(visit.state["Resource"]))
    timeout = _seconds(visit, "TimeoutSeconds")
    heartbeat = _seconds(visit, "HeartbeatSeconds")
    if resource.family == "Activity" and timeout is None:
        timeout = 99999999.0

    async def attempt(number: int) -> Any:
        token = None
        if resource.uses_token:
            tokens = run.services.tokens
            if tokens is None:
                raise StatesError(RUNTIME, "Task tokens are not available for this execution.")
            token = tokens.new_token(spec.execution_arn, f"{visit.step.key}#{number}")
            visit.context["Task"] = {"Token": token}
        elif resource.syncs and run.services.tokens is not None:
            token = run.services.tokens.new_token(spec.execution_arn, f"{visit.step.key}#{number}")
            visit.context["Task"] = {"Token": token}
        payload = visit.input_for_work()
        credentials = visit.state.get("Credentials")
        scheduled: dict[str, Any]
        if resource.family == "Task":
            scheduled = resource.details(region=spec.region, parameters=dumps(payload))
        else:
            scheduled = {
                "resource": resource.base,
                "input": dumps(payload),
                "inputDetails": {"truncated": False},
            }
        if timeout is not None:
            scheduled["timeoutInSeconds"] = int(timeout)
        if heartbeat is not None:
            scheduled["heartbeatInSeconds"] = int(heartbeat)
        family = resource.family
        await visit.emit(f"{family}Scheduled", scheduled)
        if family != "Activity":
            await visit.emit(f"{family}Started", resource.details())
        submitted = False
        recorded = _recorded_outcome(visit, family)
        if recorded is _SUBMITTED:
            submitted = True
        elif recorded is not _FRESH:
            return recorded
        request = TaskRequest(
            resource=str(visit.state["Resource"]),
            base=resource.base,
            pattern=resource.pattern,
            parameters=payload,
            execution_arn=spec.execution_arn,
            state_machine_arn=spec.state_machine_arn,
            state_name=visit.name,
            region=spec.region,
            account_id=spec.account_id,
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
            task_token=token,
            credentials=credentials,
            query_language="JSONata" if visit.jsonata else "JSONPath",
            context=visit.context,
        )
        try:
            call = _call(visit, resource, request, heartbeat, submitted=submitted)
            result = await (asyncio.wait_for(call, timeout) if timeout is not None else call)
        except TimeoutError:
            if token is not None and run.services.tokens is not None:
                run.services.tokens.discard(token)
            cause = ""
            await visit.emit(f"{family}TimedOut", resource.details(error=TIMEOUT, cause=cause))
            raise StatesError(TIMEOUT, cause) from None
        except StatesError as error:
            # A missed heartbeat is a time-out in AWS's history (TaskTimedOut /
            # ActivityTimedOut with States.Timeout), not a failure.
            outcome = "TimedOut" if error.also_matches else "Failed"
            await visit.emit(f"{family}{outcome}", resource.details(**_error_fields(error)))
            raise
        await visit.emit(
            f"{family}Succeeded",
            resource.details(output=dumps(result), outputDetails={"truncated": False}),
        )
        return result

    return await visit.guarded(attempt, in_task=True)


def _recorded_outcome(visit: Visit, family: str) -> Any:
    """Replay: the attempt's recorded result (or raise its recorded error); ``_FRESH`` when
    nothing is recorded past the start, ``_SUBMITTED`` when the token was already delivered."""
    step = visit.step
    submitted = False
    while True:
        event = step.peek()
        if event is None:
            return _SUBMITTED if submitted else _FRESH
        # A consumed event moves the thread on as ``Step.emit`` does: what is appended next
        # (a retry's Scheduled, the Exited) must chain to it, not to the event before it.
        if event.type in ("TaskSubmitted", "ActivityStarted"):
            step.position += 1
            step.thread.last_id = event.id
            submitted = True
            continue
        if event.type in {family + outcome for outcome in _OUTCOMES}:
            step.position += 1
            step.thread.last_id = event.id
            visit.last_time = event.timestamp.timestamp()
            details = event.details
            if event.type.endswith("Succeeded"):
                return orjson.loads(details.get("output", "null"))
            # An absent field was null (``_error_fields``), as the Catch saw it first time.
            raise StatesError(details.get("error"), details.get("cause"))
        return _SUBMITTED if submitted else _FRESH


async def _call(
    visit: Visit,
    resource: Resource,
    request: TaskRequest,
    heartbeat: float | None,
    *,
    submitted: bool,
) -> Any:
    run = visit.run
    if submitted:
        assert request.task_token is not None and run.services.tokens is not None
        return await run.services.tokens.wait(request.task_token, heartbeat)
    handler = run.services.registry.resolve(resource.base)
    if handler is None:
        raise StatesError(
            RUNTIME, f"The resource '{request.resource}' is not supported by this platform."
        )
    if resource.syncs and request.task_token is not None and run.services.tokens is not None:
        return await _job_or_token(run.services.tokens, request.task_token, handler(request))
    result = await handler(request)
    if not resource.uses_token:
        return result
    assert request.task_token is not None and run.services.tokens is not None
    if resource.family == "Task":
        await visit.emit(
            "TaskSubmitted",
            resource.details(output=dumps(result), outputDetails={"truncated": False}),
        )
    elif resource.family == "Activity":
        await _activity_started(visit, request.task_token)
    return await run.services.tokens.wait(request.task_token, heartbeat)


def _error_fields(error: StatesError) -> dict[str, str]:
    """``error``/``cause`` of a failure event; a field the failure did not have (SendTaskFailure
    without it) is left out, as in AWS's history."""
    fields = {}
    if not error.null_error:
        fields["error"] = error.error
    if not error.null_cause:
        fields["cause"] = error.cause
    return fields


async def _job_or_token(tokens: Any, token: str, job: Awaitable[Any]) -> Any:
    """A ``.sync`` Task's result: the job's, or what SendTaskSuccess/Failure sent with its
    token first (the other is cancelled; a finished job closes the token)."""
    work = asyncio.ensure_future(job)
    callback = asyncio.ensure_future(tokens.wait(token, None))
    try:
        await asyncio.wait((work, callback), return_when=asyncio.FIRST_COMPLETED)
    finally:
        pending = [f for f in (work, callback) if not f.done()]
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if work.done() and not work.cancelled():
        tokens.discard(token)
        return work.result()
    return callback.result()


async def _activity_started(visit: Visit, token: str) -> None:
    """``ActivityStarted {workerName}`` once a worker has taken the task (brokers that can
    tell: ``ActivityStarts``); the heartbeat clock starts after it, in ``wait``."""
    started = getattr(visit.run.services.tokens, "activity_started", None)
    if started is None:
        return
    taken, worker = await started(token)
    if taken:
        await visit.emit("ActivityStarted", {"workerName": worker} if worker else {})


HANDLERS["Task"] = visit_task
