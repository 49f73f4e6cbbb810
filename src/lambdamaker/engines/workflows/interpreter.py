"""The state machine walk: one execution, its branches, and each state visit.

``run_execution(spec, services)`` walks the definition from ``StartAt``: each visit is a
``Visit`` (the state, its raw input, its variable scope, its ``Step`` of events); the handler
for the state's type (``states_flow``, ``states_task``, ``states_parallel``, ``states_map``)
returns ``(output, next state name or None)``. ``Retry`` and ``Catch`` wrap the visit's work in
``guarded``. A branch (the top level, a Parallel branch, a Map iteration) ends at an ``End`` or
a Succeed state; a Fail state or an uncaught error raises ``StatesError`` out of it.

Invariants: see the package docstring. In particular every event goes through a ``Step``
(``steps``), so a replay after a crash consumes what was recorded and appends only the rest,
and the output recorded in a ``*StateExited`` event is the output the walk goes on with.

A journal whose events nobody reads (an Express execution without logging) may offer
``mark(previous) -> (id, epoch seconds) | None``: it numbers an event without one being built.
``Visit.enter`` / ``leave`` then skip the event's details (no input/output JSON text, no event
object); ids, times, the payload limit and the context object are exactly as with ``append``.
``mark`` answers None when the event must really be appended (the history cap), and the visit
takes the ordinary path. A journal with ``mark`` never replays (``recorded`` is empty).

Such a journal may also lend ids (``lease() -> steps.Ids``, given back with ``settle``): the
walk then runs *planned* states (``quick``: JSONPath Pass states that read only their data)
in ``quick_run.run_planned``, synchronously, without a ``Visit``, a coroutine or a call per
event: same outputs, errors, event ids and payload limit. On a journal with ``mark``, Parallel
branches and Map iterations start eagerly (``concurrency.gather_eager``, ``map_quick``) and
become tasks only if they suspend.
A journal without ``mark`` (Standard, Express with logging) never takes these paths, so its
events are exactly as before, in the same order.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdamaker.engines.workflows import dataflow, paths, quick, quick_run, retries, variables
from lambdamaker.engines.workflows.errors import (
    RUNTIME,
    TIMEOUT,
    StatesError,
)
from lambdamaker.engines.workflows.execution import (
    FAILED,
    SUCCEEDED,
    TIMED_OUT,
    ExecutionServices,
    ExecutionSpec,
    Outcome,
)
from lambdamaker.engines.workflows.quick import (
    MAX_PAYLOAD,
    Pending,
    data_limit,
    prefixed,
)
from lambdamaker.engines.workflows.steps import Ids, Step, Thread
from lambdamaker.engines.workflows.times import iso_cached, iso_seconds

EXECUTION_STEP = "$execution"
dumps_bytes = orjson.dumps


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _no_settle(ids: Ids) -> None:
    raise AssertionError("no lease to settle")


class Run:
    """One execution's shared parts: spec, services, the context object's fixed members."""

    def __init__(self, spec: ExecutionSpec, services: ExecutionServices) -> None:
        self.spec = spec
        self.services = services
        self.journal = services.journal
        self.mark: Callable[[int], tuple[int, float] | None] | None = getattr(
            services.journal, "mark", None
        )
        # Both or neither: a journal that lends ids (planned states run on a lease).
        self.lease: Callable[[], Ids] | None = None
        self.settle: Callable[[Ids], None] = _no_settle
        lease = getattr(services.journal, "lease", None)
        if self.mark is not None and lease is not None:
            self.lease = lease
            self.settle = services.journal.settle  # type: ignore[attr-defined]
        self.jsonata_default = spec.definition.get("QueryLanguage") == dataflow.JSONATA
        # The last state output ``Visit.leave`` serialised, and its JSON: the execution's
        # output is often that very object (outputs are never changed in place), and then
        # it is not serialised twice.
        self.encoded: tuple[Any, bytes] | None = None
        execution: dict[str, Any] = {
            "Id": spec.execution_arn,
            "Input": spec.input,
            "Name": spec.name,
            "RoleArn": spec.role_arn,
            "StartTime": iso_cached(spec.start_time),
            "RedriveCount": spec.redrive_count,
        }
        self.execution_context = execution
        self.machine_context = {"Id": spec.state_machine_arn, "Name": spec.state_machine_name}

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.services.clock(), UTC)

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.services.clock()
        if delay > 0:
            await self.services.sleep(delay)

    def planned(
        self,
        plans: quick.Plans,
        name: str,
        data: Any,
        thread: Thread,
        sequence: int,
        size: int = -1,
    ) -> tuple[Any, str | None, int, Pending | None]:
        """``quick_run.run_planned`` on a lease of the journal's ids (``lease`` is not None);
        ``size``: a bound of the JSON size of ``data`` (-1: unknown, it is measured)."""
        assert self.lease is not None
        if size < 0:
            # Measured once here, the chain's outputs need no serialising while their bound
            # stays under the payload limit (else each would be serialised to check it).
            encoded = self.encoded
            size = len(
                encoded[1] if encoded is not None and encoded[0] is data else dumps_bytes(data)
            )
        ids = self.lease()
        try:
            return quick_run.run_planned(ids, plans, name, data, thread, sequence, size)
        finally:
            self.settle(ids)

    async def append_exited(self, pending: Pending, thread: Thread, prefix: str) -> None:
        name, encoded, sequence = pending
        event = await self.journal.append(
            "PassStateExited",
            {"name": name, "output": encoded.decode(), "outputDetails": {"truncated": False}},
            previous=thread.last_id,
            step=f"{prefix}{sequence}.{name}",
        )
        thread.last_id = event.id

    async def walk(
        self,
        machine: Mapping[str, Any],
        data: Any,
        *,
        prefix: str,
        scope: collections.ChainMap[str, Any],
        thread: Thread,
        start: str | None = None,
        sequence: int = 0,
    ) -> Any:
        """Run one state machine (top level or nested) from StartAt (or ``start``, the
        ``sequence``-th visit of a walk begun by ``quick_run.run_planned``) to its end."""
        states = machine["States"]
        name = machine["StartAt"] if start is None else start
        plans = None if self.lease is None else quick.plans_for(states, self.jsonata_default)
        while True:
            if plans is not None and name in plans:
                # A quiet journal: planned states run here, no Visit, no coroutine.
                data, following, sequence, pending = self.planned(
                    plans, name, data, thread, sequence
                )
                if pending is not None:
                    await self.append_exited(pending, thread, prefix)
                if following is None:
                    return data
                if following != name or pending is not None:
                    name = following
                    continue
                # No id left on the lease for this state's entry: it takes the ordinary path.
            state = states[name]
            step = Step(self.journal, f"{prefix}{sequence}.{name}", thread)
            sequence += 1
            visit = Visit(self, name, state, data, scope, step, thread)
            try:
                data, following = await HANDLERS[state["Type"]](visit)
            except StatesError as error:
                prefixed(error, name, visit.entered_id)
                raise
            if following is None:
                return data
            name = following


class Visit:
    """One visit of one state: its input, scope, events and context object."""

    __slots__ = (
        "context",
        "entered_id",
        "jsonata",
        "last_time",
        "name",
        "raw",
        "run",
        "scope",
        "state",
        "step",
        "thread",
    )

    def __init__(
        self,
        run: Run,
        name: str,
        state: Mapping[str, Any],
        raw: Any,
        scope: collections.ChainMap[str, Any],
        step: Step,
        thread: Thread,
    ) -> None:
        self.run = run
        self.name = name
        self.state = state
        self.raw = raw
        self.scope = scope
        self.step = step
        self.thread = thread
        language = state.get("QueryLanguage")
        self.jsonata = run.jsonata_default if language is None else language == dataflow.JSONATA
        self.context: dict[str, Any] = {
            "Execution": run.execution_context,
            "StateMachine": run.machine_context,
            "State": {"Name": name, "EnteredTime": ""},
        }
        if "Retry" in state:
            self.context["State"]["RetryCount"] = 0
        self.last_time = 0.0
        self.entered_id = 0

    @property
    def kind(self) -> str:
        return str(self.state["Type"])

    async def emit(self, event_type: str, details: dict[str, Any]) -> tuple[Any, bool]:
        event, replayed = await self.step.emit(event_type, details)
        self.last_time = event.timestamp.timestamp()
        return event, replayed

    async def note(self, event_type: str, details: dict[str, Any]) -> None:
        """``emit`` for an event whose value the caller does not need (ParallelStateStarted,
        MapStateSucceeded, ...): a journal with ``mark`` only numbers it."""
        mark = self.run.mark
        if mark is not None:
            marked = mark(self.thread.last_id)
            if marked is not None:
                self.thread.last_id, self.last_time = marked
                return
        await self.emit(event_type, details)

    async def enter(self) -> None:
        mark = self.run.mark
        if mark is not None:
            marked = mark(self.thread.last_id)
            if marked is not None:
                self.entered_id, self.last_time = marked
                self.thread.last_id = self.entered_id
                self.context["State"]["EnteredTime"] = iso_seconds(self.last_time)
                return
        event, _ = await self.emit(
            f"{self.kind}StateEntered",
            {"name": self.name, "input": dumps(self.raw), "inputDetails": {"truncated": False}},
        )
        self.context["State"]["EnteredTime"] = iso_seconds(event.timestamp.timestamp())
        self.entered_id = event.id

    async def leave(
        self, output: Any, assigned: Mapping[str, Any] | None, following: str | None
    ) -> tuple[Any, str | None]:
        """Record the exit (output, assigned variables) and apply it; the recorded values win
        on replay."""
        encoded = orjson.dumps(output)
        if len(encoded) > MAX_PAYLOAD:
            raise data_limit(self.name)
        run = self.run
        run.encoded = (output, encoded)
        mark = run.mark
        if mark is not None:
            marked = mark(self.thread.last_id)
            if marked is not None:
                self.thread.last_id, self.last_time = marked
                if assigned:
                    self.scope.update(assigned)
                return output, following
        details: dict[str, Any] = {
            "name": self.name,
            "output": encoded.decode(),
            "outputDetails": {"truncated": False},
        }
        if assigned:
            details["assignedVariables"] = {key: dumps(value) for key, value in assigned.items()}
            details["assignedVariablesDetails"] = {"truncated": False}
        event, replayed = await self.emit(f"{self.kind}StateExited", details)
        if replayed:
            output = orjson.loads(event.details["output"])
            recorded = event.details.get("assignedVariables")
            if recorded is not None:
                assigned = {key: orjson.loads(value) for key, value in recorded.items()}
        if assigned:
            self.scope.update(assigned)
        return output, following

    def next_state(self) -> str | None:
        if self.state.get("End"):
            return None
        return str(self.state["Next"])

    def input_for_work(self, *, template_field: str = "Parameters") -> Any:
        return dataflow.effective_input(
            self.state,
            self.raw,
            self.context,
            self.scope,
            jsonata=self.jsonata,
            template_field=template_field,
        )

    def output_of(self, result: Any) -> tuple[Any, dict[str, Any] | None]:
        if self.jsonata:
            return dataflow.jsonata_output(
                self.state, self.raw, self.context, self.scope, result=result
            )
        return dataflow.jsonpath_output(self.state, self.raw, result, self.context, self.scope)

    async def guarded(
        self, work: Callable[[int], Awaitable[Any]], *, in_task: bool
    ) -> tuple[Any, str | None]:
        """Run ``work(attempt)`` under the state's Retry and Catch; ``(output, next)``."""
        state = self.state
        retriers = state.get("Retry", ())
        counts = [0] * len(retriers)
        attempt = 0
        while True:
            try:
                result = await work(attempt)
            except StatesError as error:
                index = retries.find(retriers, error, in_task=in_task)
                if index is not None:
                    counts[index] += 1
                    delay = retries.retry_delay(retriers[index], counts[index])
                    if delay is not None:
                        await self.run.sleep_until(self.last_time + delay)
                        attempt += 1
                        self.context["State"]["RetryCount"] = attempt
                        continue
                return await self.caught(error, in_task=in_task)
            output, assigned = self.output_of(result)
            return await self.leave(output, assigned, self.next_state())

    async def caught(self, error: StatesError, *, in_task: bool) -> tuple[Any, str | None]:
        catchers = self.state.get("Catch", ())
        index = retries.find(catchers, error, in_task=in_task)
        if index is None:
            raise error
        catcher = catchers[index]
        error_output = error.output()
        if self.jsonata:
            output, assigned = dataflow.jsonata_output(
                catcher, self.raw, self.context, self.scope, error_output=error_output
            )
        else:
            assigned = None
            if "Assign" in catcher:
                assigned = variables.evaluate_assign(
                    catcher["Assign"], error_output, self.context, self.scope
                )
            result_path = catcher.get("ResultPath", "$")
            if result_path is None:
                output = self.raw
            elif result_path == "$":
                output = error_output
            else:
                output = paths.apply_result_path(self.raw, error_output, result_path)
        return await self.leave(output, assigned, str(catcher["Next"]))


Handler = Callable[[Visit], Awaitable[tuple[Any, str | None]]]
HANDLERS: dict[str, Handler] = {}


async def run_execution(spec: ExecutionSpec, services: ExecutionServices) -> Outcome:
    """Walk ``spec``'s definition to its end; every event but ExecutionStarted is appended."""
    if "Map" not in HANDLERS:
        from lambdamaker.engines.workflows import (
            states_flow,
            states_map,
            states_parallel,
            states_task,
        )

        del states_flow, states_map, states_parallel, states_task  # they fill HANDLERS
    run = Run(spec, services)
    thread = Thread(1)
    definition = spec.definition
    # ``variables.branch_scope({})`` without its isinstance check against an ABC.
    scope: collections.ChainMap[str, Any] = collections.ChainMap({}, {})
    walk = run.walk(definition, spec.input, prefix="", scope=scope, thread=thread)
    final = Step(run.journal, EXECUTION_STEP, thread)
    timeout = definition.get("TimeoutSeconds")
    try:
        if timeout is not None:
            output = await asyncio.wait_for(walk, float(timeout))
        else:
            output = await walk
    except StatesError as error:
        details = {}
        if error.error:
            details["error"] = error.error
        if error.cause:
            details["cause"] = error.cause
        await final.emit("ExecutionFailed", details)
        return Outcome(FAILED, error=error.error or None, cause=error.cause or None)
    except TimeoutError:
        await final.emit("ExecutionTimedOut", {"error": TIMEOUT, "cause": ""})
        return Outcome(TIMED_OUT, error=TIMEOUT)
    last = run.encoded
    encoded = last[1] if last is not None and last[0] is output else orjson.dumps(output)
    text = encoded.decode()
    if len(encoded) > MAX_PAYLOAD:
        cause = "The state machine's output exceeds the maximum number of bytes service limit."
        await final.emit("ExecutionFailed", {"error": "States.DataLimitExceeded", "cause": cause})
        return Outcome(FAILED, error="States.DataLimitExceeded", cause=cause)
    await final.emit("ExecutionSucceeded", {"output": text, "outputDetails": {"truncated": False}})
    return Outcome(SUCCEEDED, output=output)


def runtime_error(cause: str) -> StatesError:
    return StatesError(RUNTIME, cause)
