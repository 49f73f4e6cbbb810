"""``checkpoints.Progress``: the low-water mark of done records that a shard's checkpoint may
move to, with records read ahead and done out of order by several lanes."""

from __future__ import annotations

import random

from lambdamaker.services.lambda_.mappings.checkpoints import Progress
from lambdamaker.services.lambda_.mappings.model import StreamRecord


def records(first: int, n: int) -> list[StreamRecord]:
    return [StreamRecord(f"{i:020d}", 0, {}, f"key-{i % 7}", 1) for i in range(first, first + n)]


def test_the_mark_moves_only_over_records_all_done() -> None:
    progress = Progress(int)
    batch = records(0, 6)
    progress.begin(batch)
    assert progress.mark([batch[2], batch[3]]) is None  # 0 and 1 still in flight
    assert progress.mark([batch[0]]) == batch[0].sequence_number
    assert progress.mark([batch[1]]) == batch[3].sequence_number  # over 2 and 3, done earlier
    assert progress.mark([batch[5]]) is None
    assert progress.mark([batch[4]]) == batch[5].sequence_number


def test_records_read_ahead_join_the_order_and_old_ones_are_forgotten() -> None:
    progress = Progress(int)
    progress.begin([])
    rng = random.Random(7)
    pending: dict[str, StreamRecord] = {}
    last_read = ""
    marks: list[str] = []

    def finish(record: StreamRecord) -> None:
        del pending[record.sequence_number]
        moved = progress.mark([record])
        if moved is not None:
            marks.append(moved)
            # Every record up to the mark is done; none after it is both done and uncounted.
            assert all(seq > moved for seq in pending)

    for chunk in range(30):  # 30 reads of 400: past the 4,096 records kept behind the mark
        batch = records(chunk * 400, 400)
        progress.extend(batch)
        pending.update((r.sequence_number, r) for r in batch)
        last_read = batch[-1].sequence_number
        for seq in rng.sample(sorted(pending), k=len(pending) * 3 // 4):
            finish(pending[seq])
    for seq in sorted(pending, reverse=True):  # the stragglers, last first
        finish(pending[seq])
    assert marks == sorted(marks)
    assert marks[-1] == last_read
    assert len(progress._pending) < 4096 + 400  # forgotten behind the mark, not kept forever
