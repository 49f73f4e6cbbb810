"""Planned states run on a lease of event ids (``quick_run``; fused runs, Map iterations taken
whole): with leases of any size, and marks declined now and then, the outcome and the event
ids are those of the journal that builds every event, and nothing numbers an event while a
lease is out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_wf_quiet_journal import CASES, MarkingJournal, _chain, _run

from lambdamaker.engines.workflows.history import HistoryEvent
from lambdamaker.engines.workflows.memory import MemoryJournal
from lambdamaker.engines.workflows.steps import Ids
from lambdamaker.testing import FakeClock


class LeasingJournal(MarkingJournal):
    """``MarkingJournal`` that also lends ids, at most ``grant`` at a time."""

    def __init__(self, clock: Any, decline: int = 0, grant: int = 1 << 30) -> None:
        super().__init__(clock, decline)
        self.grant = grant
        self.out: Ids | None = None
        self.leases = 0

    def lease(self) -> Ids:
        assert self.out is None, "a lease is already out"
        self.leases += 1
        self.out = Ids(self.next_id, self.next_id + self.grant)
        return self.out

    def settle(self, ids: Ids) -> None:
        assert ids is self.out and self.next_id <= ids.next <= ids.end
        self.next_id = ids.next
        self.out = None

    def mark(self, previous: int) -> tuple[int, float] | None:
        assert self.out is None, "marked while a lease is out"
        return super().mark(previous)

    async def append(
        self, event_type: str, details: dict[str, Any], *, previous: int, step: str
    ) -> HistoryEvent:
        assert self.out is None, "appended while a lease is out"
        return await super().append(event_type, details, previous=previous, step=step)


@pytest.mark.parametrize(
    ("grant", "decline"), [(1 << 30, 0), (1, 0), (2, 3), (3, 0), (4, 2), (7, 5), (1 << 30, 3)]
)
@pytest.mark.parametrize("case", sorted(CASES))
def test_leases_give_the_same_outcome_and_ids(case: str, grant: int, decline: int) -> None:
    definition, data = CASES[case]
    full = MemoryJournal(FakeClock(1_700_000_000))
    expected = _run(copy.deepcopy(definition), copy.deepcopy(data), full)
    quiet = LeasingJournal(FakeClock(1_700_000_000), decline=decline, grant=grant)
    got = _run(definition, copy.deepcopy(data), quiet)
    assert got == expected
    assert quiet.out is None
    assert quiet.next_id == full.next_id
    assert quiet.events[-1].previous_event_id == full.events[-1].previous_event_id
    if decline == 0 and grant > 1000:
        built = [t for t in quiet.appended if t.endswith(("Entered", "Exited"))]
        assert not built and not [t for t in quiet.appended if t.startswith("MapIteration")]


def _map(processor: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True}
        },
    }


def test_a_planned_map_takes_its_iterations_whole() -> None:
    processor = _chain(
        {"Parameters": {"v.$": "$.v", "k": 1}, "ResultPath": "$.a"},
        {"Parameters": {"v.$": "$.v", "k": 2}, "ResultPath": "$.b"},
    )
    data = {"items": [{"v": i} for i in range(200)]}
    full = MemoryJournal(FakeClock(1_700_000_000))
    expected = _run(_map(processor), data, full)
    quiet = LeasingJournal(FakeClock(1_700_000_000))
    assert _run(_map(processor), data, quiet) == expected
    assert quiet.next_id == full.next_id
    # Map entered/started/succeeded/exited are marked; the 200 iterations are one lease.
    assert quiet.marks == 4 and quiet.leases == 1


@pytest.mark.parametrize("length", [2, 30, 200])
def test_a_long_chain_fuses_and_still_checks_the_payload_limit(length: int) -> None:
    states = [
        {"Parameters": {"v.$": "$.value", "k": k}, "ResultPath": f"$.r{k % 7}"}
        for k in range(length)
    ]
    for value in ("x", "y" * 40_000):
        data = {"value": value}
        full = MemoryJournal(FakeClock(1_700_000_000))
        expected = _run(_chain(*states), data, full)
        quiet = LeasingJournal(FakeClock(1_700_000_000))
        assert _run(_chain(*states), data, quiet) == expected
        assert quiet.next_id == full.next_id
