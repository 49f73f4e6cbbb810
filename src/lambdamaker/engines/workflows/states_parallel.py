"""The Parallel state: every branch on the same input, results in branch order.

Each branch walks with its own event thread, variable scope (reads see the outer variables,
assignments stay inside) and step prefix ``<parallel step>/<attempt>.<branch>/``. The first
branch to fail cancels the others; the Parallel state fails with that branch's error, which its
own Retry (re-running every branch) and Catch then see.
"""

from __future__ import annotations

from typing import Any

from lambdamaker.engines.workflows import variables
from lambdamaker.engines.workflows.concurrency import gather_or_fail
from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.interpreter import HANDLERS, Visit
from lambdamaker.engines.workflows.steps import Thread


async def visit_parallel(visit: Visit) -> tuple[Any, str | None]:
    await visit.enter()
    run = visit.run
    branches = visit.state["Branches"]

    async def attempt(number: int) -> Any:
        payload = visit.input_for_work()
        await visit.emit("ParallelStateStarted", {})
        started = visit.thread.last_id
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
        try:
            results = await gather_or_fail(walks)
        except StatesError:
            await visit.emit("ParallelStateFailed", {})
            raise
        await visit.emit("ParallelStateSucceeded", {})
        return results

    return await visit.guarded(attempt, in_task=False)


HANDLERS["Parallel"] = visit_parallel
