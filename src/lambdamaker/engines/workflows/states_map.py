"""The Map state: one iteration of the item processor per item, results in item order.

Items come from ``Items`` (JSONata, default ``$states.input``) or ``ItemsPath`` on the
effective input (JSONPath, default ``$``); each iteration's input is the ``ItemSelector`` (or
legacy ``Parameters``) rendered with ``$$.Map.Item.Index`` / ``.Value``, else the item itself.
``ItemBatcher`` groups items into ``{"Items": [...], ...BatchInput}``. At most
``MaxConcurrency`` iterations run at once (0: no limit). Each iteration walks with its own
event thread and variable scope and step prefix ``<map step>/<attempt>.<index>/``; its
``MapIteration*`` events live in their own step so concurrent iterations replay
deterministically. Inline: the first failed iteration fails the Map. Distributed: failures up
to ``ToleratedFailureCount`` / ``ToleratedFailurePercentage`` are tolerated (their entry in the
result is the error output); beyond that the Map fails with
``States.ExceedToleratedFailureThreshold``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lambdamaker.engines.workflows import dataflow, jsonata_eval, paths, templates, variables
from lambdamaker.engines.workflows.concurrency import gather_or_fail
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


def _quoted(value: Any) -> str:
    return '"' + (value if isinstance(value, str) else dumps(value)) + '"'


def _number_field(visit: Visit, field: str, *, integer: bool, data: Any) -> float | None:
    """``MaxConcurrency`` / ``ToleratedFailure*``: literal, JSONata expression, or ``*Path``."""
    state = visit.state
    value = state.get(field)
    if visit.jsonata and jsonata_eval.is_expression(value):
        binding = dataflow.states_binding(visit.raw, visit.context)
        value = jsonata_eval.render(value, binding, visit.scope, field=field)
    path = state.get(field + "Path")
    if value is None and path is not None:
        try:
            value = paths.read_path(path, data, visit.context, visit.scope)
        except paths.PathError as exc:
            raise StatesError(RUNTIME, str(exc)) from None
        kind = "integer" if integer else "float"
        valid = not isinstance(value, bool) and isinstance(value, int | float)
        if integer and valid and not float(value).is_integer():
            valid = False
        if not valid:
            raise StatesError(
                RUNTIME,
                f"The {field}Path field refers to value {_quoted(value)} which is not a valid "
                f"{kind}: {path}",
            )
    if value is None:
        return None
    return float(value)


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
    if "ItemReader" in state:
        raise StatesError(
            "States.ItemReaderFailed", "ItemReader is not supported by this platform yet."
        )
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


def _batches(visit: Visit, effective: Any, items: list[Any]) -> list[Any]:
    batcher = visit.state.get("ItemBatcher")
    if batcher is None:
        return items
    size = batcher.get("MaxItemsPerBatch")
    if size is None and "MaxItemsPerBatchPath" in batcher:
        size = paths.read_path(
            batcher["MaxItemsPerBatchPath"], effective, visit.context, visit.scope
        )
    size = int(size) if size else len(items) or 1
    batch_input = batcher.get("BatchInput", {})
    if batch_input and not visit.jsonata:
        batch_input = templates.render(
            batch_input, effective, visit.context, visit.scope, field="BatchInput"
        )
    out = []
    for start in range(0, len(items), size):
        batch = dict(batch_input) if isinstance(batch_input, dict) else {}
        batch["Items"] = items[start : start + size]
        out.append(batch)
    return out


async def visit_map(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    run = visit.run
    state = visit.state
    processor = state.get("ItemProcessor") or state["Iterator"]
    distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"

    async def attempt(number: int) -> Any:
        effective = visit.input_for_work(template_field="")
        items = _batches(visit, effective, _items(visit, effective))
        limit = _number_field(visit, "MaxConcurrency", integer=True, data=effective)
        tolerated_count = _number_field(
            visit, "ToleratedFailureCount", integer=True, data=effective
        )
        tolerated_percentage = _number_field(
            visit, "ToleratedFailurePercentage", integer=False, data=effective
        )
        if tolerated_percentage is not None and not 0 <= tolerated_percentage <= 100:
            raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
        await visit.emit("MapStateStarted", {"length": len(items)})
        started = visit.thread.last_id
        gate = asyncio.Semaphore(int(limit)) if limit else None
        failures: list[int] = []

        async def iterate(index: int, item: Any) -> Any:
            if gate is not None:
                async with gate:
                    return await one(index, item)
            return await one(index, item)

        async def one(index: int, item: Any) -> Any:
            prefix = f"{visit.step.key}/{number}.{index}/"
            thread = Thread(started)
            marker = Step(run.journal, prefix + "$iteration", thread)
            await marker.emit("MapIterationStarted", {"name": visit.name, "index": index})
            iteration_input = _iteration_input(visit, effective, index, item)
            try:
                result = await run.walk(
                    processor,
                    iteration_input,
                    prefix=prefix,
                    scope=variables.branch_scope(visit.scope),
                    thread=thread,
                )
            except StatesError as error:
                await marker.emit("MapIterationFailed", {"name": visit.name, "index": index})
                if not distributed:
                    raise
                failures.append(index)
                return {"Error": error.error, "Cause": error.cause}
            await marker.emit("MapIterationSucceeded", {"name": visit.name, "index": index})
            return result

        try:
            results = await gather_or_fail([iterate(i, item) for i, item in enumerate(items)])
        except StatesError:
            await visit.emit("MapStateFailed", {})
            raise
        if failures and _exceeded(len(failures), len(items), tolerated_count, tolerated_percentage):
            await visit.emit("MapStateFailed", {})
            raise StatesError(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
        await visit.emit("MapStateSucceeded", {})
        return results

    return await visit.guarded(attempt, in_task=False)


def _exceeded(failures: int, total: int, count: float | None, percentage: float | None) -> bool:
    if count is None and percentage is None:
        return failures > 0
    if count is not None and failures <= count:
        return False
    within_percentage = percentage is not None and total and failures * 100.0 / total <= percentage
    return not within_percentage


HANDLERS["Map"] = visit_map
