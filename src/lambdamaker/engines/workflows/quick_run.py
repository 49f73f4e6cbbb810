"""Running planned states (``quick``) synchronously on a lease of event ids.

``run_planned`` walks planned states one after the other: each state's Entered and Exited
events take the next two ids of the lease (``steps.Ids``), its output's size is bounded or
measured against the payload limit, and a failure is worded with the Entered event's id. It
stops before a state without a plan or without ids left on the lease.

Runs of planned states in a row are also *fused* (``Chain``): from a state on, as long as
every state has a size bound, the outputs of the first ``k`` states are provably under the
payload limit for an input of at most ``limits[k - 1]`` bytes (each bound is affine and
increasing in the input's size). When the input's known size allows ``k >= 2`` states and the
lease has their ``2k`` ids, the ``k`` plans are applied in one tight loop and their ids taken
at once.

Invariants:
- fused or not, the outputs, ids, sequences and errors are the same: a fused run only skips
  bookkeeping that cannot change anything (no payload check can fail, no id can run out);
- a plan is a pure function of its input (it never changes it), so when a fused run raises,
  the same states are run again one by one from the same input, which raises the same error
  at the same state with that state's ids and wording;
- ``ids.next`` and ``thread.last_id`` are up to date whenever ``run_planned`` returns or
  raises.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import orjson

from lambdamaker.engines.workflows.errors import StatesError
from lambdamaker.engines.workflows.quick import (
    MAX_PAYLOAD,
    Pending,
    Plans,
    data_limit,
    prefixed,
)
from lambdamaker.engines.workflows.steps import Ids, Thread

# A fused run is at most this long (the next one starts where it ends).
_CHAIN_MAX = 64


class Chain:
    """Planned states in a row from one state: for ``k`` states (index ``k - 1``) the
    largest input size they take (``limits``, negated so they ascend for ``bisect``), the
    bound of their output's size (``base + scale * input size``) and the state after them."""

    __slots__ = ("applies", "bases", "followings", "negated_limits", "scales")

    def __init__(self, plans: Plans, name: str) -> None:
        self.applies: list[Callable[[Any], Any]] = []
        self.bases: list[int] = []
        self.scales: list[int] = []
        self.followings: list[str | None] = []
        self.negated_limits: list[int] = []
        base, scale, limit = 0, 1, MAX_PAYLOAD
        seen = set()
        following: str | None = name
        while following is not None and following not in seen and len(self.applies) < _CHAIN_MAX:
            plan = plans.get(following)
            if plan is None or plan.grow_b < 0:
                break
            seen.add(following)
            base, scale = plan.grow_a + plan.grow_b * base, plan.grow_b * scale
            if base > MAX_PAYLOAD:
                break
            if scale:
                limit = min(limit, (MAX_PAYLOAD - base) // scale)
            following = plan.following
            self.applies.append(plan.apply)
            self.bases.append(base)
            self.scales.append(scale)
            self.followings.append(following)
            self.negated_limits.append(-limit)


def chain_of(plans: Plans, name: str) -> Chain:
    chain: Chain | None = plans.chains.get(name)
    if chain is None:
        chain = plans.chains[name] = Chain(plans, name)
    return chain


def run_planned(
    ids: Ids,
    plans: Plans,
    name: str,
    data: Any,
    thread: Thread,
    sequence: int,
    size: int = -1,
) -> tuple[Any, str | None, int, Pending | None]:
    """Run planned states from ``name`` synchronously, numbering their events on the lease
    ``ids``: ``(data, next state or None at the end, sequence, pending)``. It stops before a
    state without a plan, or one whose Entered event the lease has no id for (``next`` is
    then that state); ``pending`` names a state whose Exited event it had no id for: the
    caller appends it (``append_exited``) before going on to ``next``. ``size``: an upper
    bound of the JSON size of ``data`` (-1: unknown)."""
    dumps_bytes = orjson.dumps
    get = plans.get
    chains = plans.chains
    last = thread.last_id
    next_id = ids.next
    end = ids.end
    fuse = True
    while True:
        plan = get(name)
        if plan is None or next_id >= end:
            ids.next, thread.last_id = next_id, last
            return data, name, sequence, None
        if fuse and size >= 0:
            chain = chains.get(name) or chain_of(plans, name)
            count = bisect_right(chain.negated_limits, -size)
            room = (end - next_id) >> 1
            if count > room:
                count = room
            if count >= 2:
                applies = chain.applies
                fused = data
                try:
                    for index in range(count):
                        fused = applies[index](fused)
                except Exception:  # run one by one below: the same error, worded there
                    fuse = False
                else:
                    data = fused
                    next_id += 2 * count
                    last = next_id - 1
                    sequence += count
                    index = count - 1
                    size = chain.bases[index] + chain.scales[index] * size
                    following = chain.followings[index]
                    if following is None:
                        ids.next, thread.last_id = next_id, last
                        return data, None, sequence, None
                    name = following
                    continue
        last = next_id  # the Entered event
        next_id += 1
        try:
            data = plan.apply(data)
            grow = plan.grow_b
            if size >= 0 and grow >= 0 and plan.grow_a + grow * size <= MAX_PAYLOAD:
                # Provably under the limit: no need to serialise it to check.
                size = plan.grow_a + grow * size
                encoded = None
            else:
                encoded = dumps_bytes(data)
                size = len(encoded)
                if size > MAX_PAYLOAD:
                    raise data_limit(name)
        except StatesError as error:
            ids.next, thread.last_id = next_id, last
            prefixed(error, name, last)
            raise
        except BaseException:
            ids.next, thread.last_id = next_id, last
            raise
        sequence += 1
        if next_id >= end:
            ids.next, thread.last_id = next_id, last
            if encoded is None:
                encoded = dumps_bytes(data)
            return data, plan.following, sequence, (name, encoded, sequence - 1)
        last = next_id  # the Exited event
        next_id += 1
        following = plan.following
        if following is None:
            ids.next, thread.last_id = next_id, last
            return data, None, sequence, None
        name = following
