"""Group commit waiters sleep on one reused event per thread: many threads queueing several
works at a time, over many rounds (so late wake-ups from earlier groups reach later calls),
all finish with their own results, each committed."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lambdamaker.store import Store
from lambdamaker.store.group_commit import GroupCommitter

_meta = sa.MetaData()
_rows = sa.Table("wake_gc_rows", _meta, sa.Column("id", sa.Integer, primary_key=True))


def _insert(row_id: int, pause: float = 0.0) -> Any:
    def work(conn: Connection) -> int:
        if pause:
            time.sleep(pause)  # lets the other threads queue behind this group
        conn.execute(sa.insert(_rows).values(id=row_id))
        return row_id

    return work


def test_threads_reuse_their_wake_event_across_many_groups(store: Store) -> None:
    with store.begin() as conn:
        _meta.create_all(conn)
    committer = GroupCommitter(store)
    threads, rounds, per_call = 6, 15, 3
    seen_events: dict[int, set[int]] = {}
    lock = threading.Lock()

    def caller(t: int) -> list[int]:
        got: list[int] = []
        for r in range(rounds):
            base = (t * rounds + r) * 10
            if r % 2:
                got.append(committer.run(_insert(base, 0.0005)))
            else:
                works = [_insert(base + i, 0.0002 * (i == 0)) for i in range(per_call)]
                waiters = committer._run_all(works)
                assert all(w.error is None for w in waiters)
                got += [w.result for w in waiters if w.result is not None]
                with lock:
                    seen_events.setdefault(t, set()).update(id(w.wake) for w in waiters)
        return got

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(caller, range(threads)))
    expected_ids = []
    for t, got in enumerate(results):
        want = []
        for r in range(rounds):
            base = (t * rounds + r) * 10
            want += [base] if r % 2 else [base + i for i in range(per_call)]
        assert got == want
        expected_ids += want
        assert len(seen_events[t]) == 1  # one event per thread, reused
    with store.read() as conn:
        assert sorted(conn.execute(sa.select(_rows.c.id)).scalars()) == sorted(expected_ids)
    assert committer.pending() == 0
