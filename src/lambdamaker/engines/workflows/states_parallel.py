"""The Parallel state: every branch on the same input, results in branch order.

Each branch walks with its own event thread, variable scope (reads see the outer variables,
assignments stay inside) and step prefix ``<parallel step>/<attempt>.<branch>/``. The first
branch to fail cancels the others; the Parallel state fails with that branch's error, which its
own Retry (re-running every branch) and Catch then see.

On a quiet journal (one with ``mark``) only a branch that suspends becomes a task
(``gather_eager``); when the journal also lends ids (``lease``), a branch's planned states
(``quick``) run synchronously as the branch starts. Branches still start in order, each to
its first suspension, as tasks would run them.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import orjson

from lambdamaker.engines.workflows import quick, variables
from lambdamaker.engines.workflows.concurrency import Settled, gather_eager, gather_or_fail
from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.interpreter import HANDLERS, Visit
from lambdamaker.engines.workflows.steps import Thread


async def visit_parallel(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    run = visit.run
    branches = visit.state["Branches"]

    async def attempt(number: int) -> Any:
        payload = visit.input_for_work()
        await visit.note("ParallelStateStarted", {})
        started = visit.thread.last_id
        try:
            if run.mark is None:
                walks = [
                    run.walk(
                        branch,
                        payload,
                        prefix=f"{visit.step.key}/{number}.{index}/",
                        scope=variables.branch_scope(visit.scope),
                        thread=Thread(started),
                    )
                    for index, branch in enumerate(branches)
                ]
                results = await gather_or_fail(walks)
            else:
                # A quiet journal: branches run synchronously as far as they can; one that
                # suspends becomes a task.
                size = -1 if run.lease is None else len(orjson.dumps(payload))
                results = await gather_eager(
                    _begin(visit, number, index, branch, payload, started, size)
                    for index, branch in enumerate(branches)
                )
        except StatesError:
            await visit.note("ParallelStateFailed", {})
            raise
        await visit.note("ParallelStateSucceeded", {})
        return results

    return await visit.guarded(attempt, in_task=False)


def _begin(
    visit: Visit,
    number: int,
    index: int,
    branch: dict[str, Any],
    payload: Any,
    started: int,
    size: int,
) -> Settled | Coroutine[Any, Any, Any]:
    """One branch on a quiet journal: its planned states run here; the rest (if any) is a
    coroutine going on from where they stopped. ``size``: the payload's JSON size (measured
    once for every branch)."""
    run = visit.run
    prefix = f"{visit.step.key}/{number}.{index}/"
    thread = Thread(started)
    start = branch["StartAt"]
    sequence = 0
    data = payload
    plans = None if run.lease is None else quick.plans_for(branch["States"], run.jsonata_default)
    if plans is not None and start in plans:
        try:
            data, start, sequence, pending = run.planned(plans, start, payload, thread, 0, size)
        except Exception as error:  # what the branch's coroutine would have raised
            return Settled(None, error)
        if start is None and pending is None:
            return Settled(data, None)
        return _rest(visit, branch, data, prefix, thread, start, sequence, pending)
    return _rest(visit, branch, data, prefix, thread, start, sequence, None)


async def _rest(
    visit: Visit,
    branch: dict[str, Any],
    data: Any,
    prefix: str,
    thread: Thread,
    start: str | None,
    sequence: int,
    pending: quick.Pending | None,
) -> Any:
    if pending is not None:
        await visit.run.append_exited(pending, thread, prefix)
    if start is None:
        return data
    return await visit.run.walk(
        branch,
        data,
        prefix=prefix,
        scope=variables.branch_scope(visit.scope),
        thread=thread,
        start=start,
        sequence=sequence,
    )


HANDLERS["Parallel"] = visit_parallel
