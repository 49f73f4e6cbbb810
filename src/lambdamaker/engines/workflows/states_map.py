"""The Map state: one iteration of the item processor per item, results in item order.

Items come from ``Items`` (JSONata, default ``$states.input``), ``ItemsPath`` on the effective
input (JSONPath, default ``$``), or an ``ItemReader`` (``map_items``: S3 objects and listings;
``ItemsPath`` is then not used). Each iteration's input is the ``ItemSelector`` (or legacy
``Parameters``) rendered with ``$$.Map.Item.Index`` / ``.Value``, else the item itself;
``ItemBatcher`` groups those inputs into ``{"BatchInput"?, "Items": [...]}`` batches, one
iteration each. At most ``MaxConcurrency`` iterations run at once (0: no limit). Each iteration
walks with its own event thread and variable scope and step prefix
``<map step>/<attempt>.<index>/``; its ``MapIteration*`` events live in their own step so
concurrent iterations replay deterministically.

Inline: the first failed iteration fails the Map. Distributed (``map_runs``): the iterations
form a Map Run between ``MapRunStarted`` and ``MapRunSucceeded`` / ``MapRunFailed``; failures
up to ``ToleratedFailureCount`` / ``ToleratedFailurePercentage`` are tolerated (their entry in
the result is the error output), beyond that the Map fails with
``States.ExceedToleratedFailureThreshold``; a ``ResultWriter`` (``map_results``) exports the
children's results to S3 and makes the Map's result the manifest's location.

Events of one visit: MapStateEntered, MapStateStarted {length (0 with an ItemReader: the items
are read inside the run)}, [MapRunStarted], iterations, [MapRunSucceeded | MapRunFailed],
MapStateSucceeded | MapStateFailed, MapStateExited.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from lambdamaker.engines.workflows import (
    dataflow,
    jsonata_eval,
    map_items,
    map_quick,
    map_results,
    map_runs,
    number_fields,
    paths,
    templates,
    variables,
)
from lambdamaker.engines.workflows.concurrency import gather_eager, gather_or_fail
from lambdamaker.engines.workflows.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    StatesError,
)
from lambdamaker.engines.workflows.interpreter import HANDLERS, Visit, dumps
from lambdamaker.engines.workflows.steps import Step, Thread

_JSON_TYPES = ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    for kind, name in _JSON_TYPES:
        if isinstance(value, kind):
            return name
    return "unsupported"


def _number_field(visit: Visit, field: str, *, integer: bool, data: Any) -> float | None:
    """``MaxConcurrency`` / ``ToleratedFailure*``: literal, JSONata expression, or ``*Path``."""
    rule = number_fields.INTEGER if integer else number_fields.FLOAT
    value = number_fields.resolve(visit, visit.state, field, data, rule)
    return None if value is None else float(value)


def _items(visit: Visit, effective: Any) -> list[Any]:
    state = visit.state
    if visit.jsonata:
        expression = state.get("Items")
        if expression is None:
            items = visit.raw
            if not isinstance(items, list):
                raise StatesError(
                    QUERY_EVALUATION_ERROR,
                    f"Map state input must be an array but was: {dumps(items)}",
                )
            return items
        binding = dataflow.states_binding(visit.raw, visit.context)
        items = jsonata_eval.render(expression, binding, visit.scope, field="Items")
        if not isinstance(items, list):
            text = expression
            if jsonata_eval.is_expression(text):
                text = text.strip()[2:-2].strip()
            kind = _json_type(items)
            if kind == "unsupported":
                raise StatesError(
                    QUERY_EVALUATION_ERROR,
                    f"The JSONata expression '{text}' specified for the field 'Items' returned "
                    f"an unsupported result type.",
                )
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{text}' specified for the field 'Items' returned an "
                f"unexpected result type. Expected 'array', but was '{kind}' for value: "
                f"{dumps(items)}",
            )
        return items
    items_path = state.get("ItemsPath", "$")
    items = paths.select(items_path, effective, visit.context, visit.scope, field="ItemsPath")
    if not isinstance(items, list):
        raise StatesError(
            RUNTIME,
            f"Invalid path '{items_path}' : The ItemsPath did not resolve to a JSON array.",
        )
    return items


def _iteration_input(visit: Visit, effective: Any, index: int, item: Any) -> Any:
    state = visit.state
    selector_field = "ItemSelector" if "ItemSelector" in state else "Parameters"
    if selector_field not in state:
        return item
    context = dict(visit.context)
    context["Map"] = {"Item": {"Index": index, "Value": item}}
    if visit.jsonata:
        binding = dataflow.states_binding(visit.raw, context)
        return jsonata_eval.render(
            state[selector_field], binding, visit.scope, field=selector_field
        )
    return templates.render(
        state[selector_field], effective, context, visit.scope, field=selector_field
    )


async def _start_run(
    visit: Visit, limit: float | None, count: float | None, percentage: float | None
) -> map_runs.MapRun:
    """Emit MapRunStarted; on a replay the recorded ARN names the run."""
    spec = visit.run.spec
    label = visit.state.get("Label")
    fresh = map_runs.new_arn(spec, label if isinstance(label, str) else None)
    event, _ = await visit.emit("MapRunStarted", {"mapRunArn": fresh})
    run = map_runs.MapRun(str(event.details["mapRunArn"]), spec, visit.run.services.map_runs)
    await run.start(
        max_concurrency=int(limit or 0),
        count=count,
        percentage=percentage,
        now=visit.run.services.clock(),
    )
    return run


async def _write_failed_run(visit: Visit, effective: Any, run: map_runs.MapRun) -> None:
    """A failed run still exports what its children did (best effort)."""
    if "Resource" not in visit.state.get("ResultWriter", {}):
        return
    with contextlib.suppress(StatesError):
        await map_results.write(visit, effective, run)


async def visit_map(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    run = visit.run
    state = visit.state
    processor = state.get("ItemProcessor") or state["Iterator"]
    distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
    reads = "ItemReader" in state
    batched = "ItemBatcher" in state

    async def attempt(number: int) -> Any:
        effective = visit.input_for_work(template_field="")
        items = None if reads else _items(visit, effective)
        limit = _number_field(visit, "MaxConcurrency", integer=True, data=effective)
        tolerated_count = _number_field(
            visit, "ToleratedFailureCount", integer=True, data=effective
        )
        tolerated_percentage = _number_field(
            visit, "ToleratedFailurePercentage", integer=False, data=effective
        )
        if tolerated_percentage is not None and not 0 <= tolerated_percentage <= 100:
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        # With an ItemReader the items are read inside the run, after MapStateStarted.
        await visit.note("MapStateStarted", {"length": 0 if items is None else len(items)})
        started = visit.thread.last_id
        map_run = None
        if distributed:
            map_run = await _start_run(visit, limit, tolerated_count, tolerated_percentage)
        children: list[map_runs.Child] = []
        try:
            if items is None:
                items = await map_items.read_items(visit, effective)
            units: list[Any] = items
            if batched:
                inputs = [
                    _iteration_input(visit, effective, i, item) for i, item in enumerate(items)
                ]
                units = map_items.batch(visit, effective, inputs)
            if run.lease is not None and map_run is None and not limit:
                # Inline, nobody reads the events, no limit: iterations run synchronously as
                # far as they can, with no child records (only a Map Run's ResultWriter reads
                # them).
                results = await map_quick.iterate_quiet(
                    visit,
                    processor,
                    effective,
                    number,
                    started,
                    units,
                    prepared=batched,
                    input_of=_iteration_input,
                )
            else:
                children = [map_runs.Child(index, unit) for index, unit in enumerate(units)]
                if map_run is not None:
                    map_run.children = children
                results = await _iterate(
                    visit,
                    processor,
                    effective,
                    number,
                    started,
                    children,
                    map_run,
                    limit=limit,
                    count=tolerated_count,
                    percentage=tolerated_percentage,
                    prepared=batched,
                )
            if map_run is not None and "ResultWriter" in state:
                results = await map_results.write(visit, effective, map_run)
        except StatesError as error:
            if map_run is not None:
                if error.error == EXCEED_TOLERATED_FAILURE_THRESHOLD:
                    await _write_failed_run(visit, effective, map_run)
                details = {"error": error.error, "cause": error.cause}
                await visit.emit("MapRunFailed", {k: v for k, v in details.items() if v})
                await map_run.finish("FAILED", now=run.services.clock(), error=error)
            await visit.note("MapStateFailed", {})
            raise
        if map_run is not None:
            await visit.emit("MapRunSucceeded", {})
            written = len(children) if "Resource" in state.get("ResultWriter", {}) else 0
            await map_run.finish("SUCCEEDED", now=run.services.clock(), written=written)
        await visit.note("MapStateSucceeded", {})
        return results

    return await visit.guarded(attempt, in_task=False)


async def _iterate(
    visit: Visit,
    processor: dict[str, Any],
    effective: Any,
    number: int,
    started: int,
    children: list[map_runs.Child],
    map_run: map_runs.MapRun | None,
    *,
    limit: float | None,
    count: float | None,
    percentage: float | None,
    prepared: bool,
) -> list[Any]:
    """Run one iteration per child (at most ``limit`` at once); results in item order.

    Inline: the first failure fails the Map. Distributed: a failure is recorded on its child
    and tolerated until the run's threshold is exceeded, which cancels the rest."""
    run = visit.run
    clock = run.services.clock
    gate = asyncio.Semaphore(int(limit)) if limit else None
    total = len(children)
    failures = 0

    async def iterate(child: map_runs.Child) -> Any:
        if gate is not None:
            async with gate:
                return await one(child)
        return await one(child)

    mark = run.mark

    async def one(child: map_runs.Child) -> Any:
        nonlocal failures
        index = child.index
        prefix = f"{visit.step.key}/{number}.{index}/"
        thread = Thread(started)
        marker = Step(run.journal, prefix + "$iteration", thread)
        marked = None if mark is None else mark(started)
        if marked is None:
            await marker.note("MapIterationStarted", {"name": visit.name, "index": index})
        else:
            # A quiet journal: the marker is only numbered (what ``note`` would do).
            thread.last_id = marked[0]
        child.status, child.start = map_runs.RUNNING, clock()
        iteration_input = child.input
        try:
            if not prepared:
                iteration_input = _iteration_input(visit, effective, index, child.input)
                child.input = iteration_input
            result = await run.walk(
                processor,
                iteration_input,
                prefix=prefix,
                scope=variables.branch_scope(visit.scope),
                thread=thread,
            )
        except StatesError as error:
            failed: dict[str, Any] = {"name": visit.name, "index": index}
            if map_run is not None:
                # A child execution's error and cause (the service shows the iteration as a
                # child execution and hides these events from the parent's history).
                failed.update({"error": error.error, "cause": error.cause})
            await marker.note("MapIterationFailed", failed)
            if map_run is None:
                raise
            child.status, child.stop = map_runs.FAILED, clock()
            child.error, child.cause = error.error, error.cause
            failures += 1
            await map_run.progress()
            if map_runs.exceeded(failures, total, count, percentage):
                raise map_runs.threshold_error() from None
            return {"Error": error.error, "Cause": error.cause}
        await marker.note("MapIterationSucceeded", {"name": visit.name, "index": index})
        child.status, child.stop, child.output = map_runs.SUCCEEDED, clock(), result
        if map_run is not None:
            await map_run.progress()
        return result

    if mark is not None:
        # Nobody reads the events: iterations that never suspend need no task.
        return await gather_eager([iterate(child) for child in children])
    return await gather_or_fail([iterate(child) for child in children])


HANDLERS["Map"] = visit_map
