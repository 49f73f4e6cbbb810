"""Inline Map iterations on a quiet journal: each runs synchronously as far as it can.

Used by ``states_map`` only for an inline Map (no Map Run) without ``MaxConcurrency`` when the
journal lends ids (``lease``: nobody reads the events). Each iteration is started in item
order on a lease: its ``MapIterationStarted`` marker is numbered, its input computed and its
processor walked with ``quick_run.run_planned`` (planned states, no coroutine). An iteration
that ends there is settled at once; one that reaches a state without a plan (or an event the
lease has no id for, or an error) goes on in a coroutine from exactly that point, which
``gather_eager`` runs to its first suspension before the next iteration starts. So the order
of work, the event ids and the results are those of running every iteration as its own
coroutine, as ``states_map`` does. A processor that is one fused run of planned states
(``quick_run.Chain``) bounded under the payload limit for every item has its iterations
applied whole, each one's ids (markers and states) taken at once.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import orjson

from lambdamaker.engines.workflows import quick, quick_run, variables
from lambdamaker.engines.workflows.concurrency import Settled, gather_eager
from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.interpreter import Visit
from lambdamaker.engines.workflows.quick import Pending
from lambdamaker.engines.workflows.steps import Ids, Step, Thread

InputOf = Callable[[Visit, Any, int, Any], Any]
# ``finish``'s marker that the iteration's input is still to be computed.
_UNSTARTED: Any = object()


async def iterate_quiet(
    visit: Visit,
    processor: dict[str, Any],
    effective: Any,
    number: int,
    started: int,
    units: list[Any],
    *,
    prepared: bool,
    input_of: InputOf,
) -> list[Any]:
    run = visit.run
    name = visit.name
    key = visit.step.key
    plans = quick.plans_for(processor["States"], run.jsonata_default)
    start = processor["StartAt"]

    async def note(index: int, thread: Thread, event_type: str) -> None:
        marker = Step(run.journal, f"{key}/{number}.{index}/$iteration", thread)
        await marker.note(event_type, {"name": name, "index": index})

    async def finish(
        index: int,
        thread: Thread,
        data: Any,
        following: str | None,
        sequence: int,
        pending: Pending | None,
        started_marked: bool,
    ) -> Any:
        """The rest of one iteration, from where the synchronous part stopped."""
        prefix = f"{key}/{number}.{index}/"
        if not started_marked:
            await note(index, thread, "MapIterationStarted")
        try:
            if following is _UNSTARTED:
                data = data if prepared else input_of(visit, effective, index, data)
                following, sequence = start, 0
            if pending is not None:
                await run.append_exited(pending, thread, prefix)
            if following is not None:
                data = await run.walk(
                    processor,
                    data,
                    prefix=prefix,
                    scope=variables.branch_scope(visit.scope),
                    thread=thread,
                    start=following,
                    sequence=sequence,
                )
        except StatesError:
            await note(index, thread, "MapIterationFailed")
            raise
        await note(index, thread, "MapIterationSucceeded")
        return data

    async def failed(index: int, thread: Thread, error: StatesError) -> Any:
        await note(index, thread, "MapIterationFailed")
        raise error

    # No ItemSelector / Parameters: an iteration's input is its item.
    selects = not prepared and ("ItemSelector" in visit.state or "Parameters" in visit.state)

    planned = start in plans
    # An item from ItemsPath is a sub-value of the effective input, so its JSON is no longer
    # than the input's: a bound that spares serialising small iterations' outputs.
    bound = -1
    if (
        planned
        and not prepared
        and not selects
        and not visit.jsonata
        and "ItemReader" not in visit.state
    ):
        bound = len(orjson.dumps(effective))
    spare = Thread(started)  # reused while iterations settle synchronously

    lease, settle = run.lease, run.settle
    assert lease is not None

    def begin(ids: Ids, index: int, item: Any) -> Any:
        """Iteration ``index`` run as far as it goes synchronously, its events numbered on
        the lease ``ids``: its result, or a ``_Deferred`` holding the coroutine that finishes
        it (or its error), to be started once the lease is settled."""
        nonlocal spare
        first = ids.next
        if first >= ids.end:  # no id for MapIterationStarted: it is appended
            return _Deferred(finish(index, Thread(started), item, _UNSTARTED, 0, None, False))
        ids.next = first + 1
        thread = spare
        thread.last_id = first
        try:
            data = input_of(visit, effective, index, item) if selects else item
            if planned:
                data, following, sequence, pending = quick_run.run_planned(
                    ids, plans, start, data, thread, 0, bound
                )
            else:
                following, sequence, pending = start, 0, None
        except StatesError as error:
            spare = Thread(started)
            return _Deferred(failed(index, thread, error))
        if following is None and pending is None:
            last = ids.next
            if last < ids.end:  # MapIterationSucceeded numbered: the iteration is done
                ids.next = last + 1
                return data
        spare = Thread(started)
        return _Deferred(finish(index, thread, data, following, sequence, pending, True))

    # When the whole processor is one fused chain of planned states whose outputs stay under
    # the payload limit for any item (``bound``), an iteration is its plans applied in a
    # row, its ids (markers and states) taken at once; ``begin`` is the general way (and
    # runs an iteration whose plans raised again, which words the error).
    applies: list[Callable[[Any], Any]] = []
    if bound >= 0:
        chain = quick_run.chain_of(plans, start)
        if chain.followings and chain.followings[-1] is None and -chain.negated_limits[-1] >= bound:
            applies = chain.applies
    used = 2 * len(applies) + 2

    # While every iteration settles synchronously: one lease, no units, no gather.
    values: list[Any] = []
    ids = lease()
    try:
        for index, item in enumerate(units):
            if applies and ids.end - ids.next >= used:
                value = item
                try:
                    for apply in applies:
                        value = apply(value)
                except Exception:  # ``begin`` runs it again, which words the error
                    pass
                else:
                    ids.next += used
                    values.append(value)
                    continue
            value = begin(ids, index, item)
            if type(value) is _Deferred:
                break
            values.append(value)
        else:
            return values
    finally:
        settle(ids)
    stopped = index

    def rest() -> Iterator[Settled | Coroutine[Any, Any, Any]]:
        for done in values:
            yield Settled(done, None)
        yield value.unit
        for later in range(stopped + 1, len(units)):
            # A lease each: the coroutines yielded before number events too.
            ids = lease()
            try:
                following = begin(ids, later, units[later])
            finally:
                settle(ids)
            yield following.unit if type(following) is _Deferred else Settled(following, None)

    return await gather_eager(rest())


class _Deferred:
    """An iteration that did not settle synchronously: its coroutine."""

    __slots__ = ("unit",)

    def __init__(self, unit: Coroutine[Any, Any, Any]) -> None:
        self.unit = unit
