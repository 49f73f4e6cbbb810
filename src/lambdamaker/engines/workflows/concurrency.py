"""Run branch coroutines together; the first failure cancels the rest (Parallel, Map).

``gather_or_fail`` makes one task per coroutine (the durable path: its event order is what
replay after a crash depends on). ``gather_eager`` (quiet journals only) gives the same results
and the same error without a task for a coroutine that never suspends: each coroutine is
started in order and run to its first suspension; only one that suspends is wrapped in a task
(resumed where it stopped). As with tasks, every coroutine is started before any error is
raised (a task's first step runs even when an earlier sibling has failed), and the error
raised is the first in branch order among those finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator, Iterable, Sequence
from typing import Any


async def gather_or_fail(coroutines: Sequence[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Results in order; on the first exception the others are cancelled and it is raised."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    return await _settle(tasks)


async def _settle(tasks: Sequence[asyncio.Future[Any]]) -> list[Any]:
    if not tasks:
        return []
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        # Every finished task's exception is retrieved; the first in branch order is raised.
        errors = [task.exception() for task in tasks if task in done and not task.cancelled()]
        for error in errors:
            if error is not None:
                raise error
        return [task.result() for task in tasks]
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)


class _Resumed:
    """Awaitable that goes on driving a coroutine that already yielded ``first``: what it
    yields goes to the task awaiting this, what the task sends or throws goes back in."""

    __slots__ = ("coroutine", "first")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coroutine = coroutine
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine = self.coroutine
        value = self.first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation and the like go to the coroutine
                try:
                    value = coroutine.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                value = coroutine.send(sent)
            except StopIteration as stop:
                return stop.value


async def _resume(coroutine: Coroutine[Any, Any, Any], first: Any) -> Any:
    return await _Resumed(coroutine, first)


async def gather_eager(
    units: Iterable[Coroutine[Any, Any, Any] | Settled],
) -> list[Any]:
    """``gather_or_fail`` without a task for each coroutine that finishes without suspending.
    ``units`` is consumed lazily, each coroutine started before the next unit is asked for;
    a unit may also be an already ``Settled`` outcome (work its producer did synchronously)."""
    outcomes: list[Settled | asyncio.Future[Any]] = []
    tasks: list[asyncio.Future[Any]] = []
    for unit in units:
        if isinstance(unit, Settled):
            outcomes.append(unit)
            continue
        try:
            first = unit.send(None)
        except StopIteration as stop:
            outcomes.append(Settled(stop.value, None))
            continue
        except BaseException as error:  # re-raised below, in branch order
            outcomes.append(Settled(None, error))
            continue
        task = asyncio.ensure_future(_resume(unit, first))
        tasks.append(task)
        outcomes.append(task)
    if not tasks:
        settled = [outcome for outcome in outcomes if isinstance(outcome, Settled)]
        for done in settled:
            if done.error is not None:
                raise done.error
        return [done.value for done in settled]
    # Some suspended: settle as tasks would, each settled outcome a finished future (so the
    # suspended ones get the same turns of the loop before a failure cancels them).
    futures = [
        outcome if isinstance(outcome, asyncio.Future) else _finished(outcome)
        for outcome in outcomes
    ]
    return await _settle(futures)


class Settled:
    """A unit's outcome known without a task: its value, or the error it raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: Any, error: BaseException | None) -> None:
        self.value = value
        self.error = error


def _finished(outcome: Settled) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    if outcome.error is not None:
        future.set_exception(outcome.error)
    else:
        future.set_result(outcome.value)
    return future
