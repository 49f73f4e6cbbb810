"""The log store on a real store (SQLite and PostgreSQL): batched appends, synchronous puts,
reads in event order, bounded memory, retention on a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from lambdamaker.errors import ResourceNotFoundError, ServiceError
from lambdamaker.observability import LogStore, compile_pattern
from lambdamaker.observability.log_tables import MIGRATIONS, log_events
from lambdamaker.store import Store

DAY_MS = 86_400_000
T0 = 1_700_000_000_000


class FakeClock:
    def __init__(self, ms: int = T0) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def db(store: Store) -> Store:
    store.migrate(MIGRATIONS)
    return store


@pytest.fixture()
def logs(db: Store, clock: FakeClock) -> Iterator[LogStore]:
    ls = LogStore(db, flush_interval=0.05, clock=clock)
    ls.start()
    yield ls
    ls.close()


def event_rows(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(log_events)).scalar_one())


def messages(logs: LogStore, group: str, stream: str) -> list[str]:
    return [e.message for e in logs.get_events(group, stream)]


def test_append_writes_nothing_until_a_flush_then_creates_group_and_stream(db: Store) -> None:
    ls = LogStore(db)  # not started: nothing writes in the background
    ls.append("/aws/lambda/f", "s1", [(T0, "START"), (T0 + 1, "END")])
    assert event_rows(db) == 0
    assert ls.flush() is True
    assert event_rows(db) == 2
    assert [g.name for g in ls.list_groups()] == ["/aws/lambda/f"]
    assert [s.name for s in ls.list_streams("/aws/lambda/f")] == ["s1"]
    assert messages(ls, "/aws/lambda/f", "s1") == ["START", "END"]


def test_a_read_sees_events_appended_before_it(db: Store) -> None:
    ls = LogStore(db, flush_interval=60.0)  # the timer alone would not flush in this test
    ls.start()
    try:
        ls.append("g", "s", [(T0, "hello")])
        assert messages(ls, "g", "s") == ["hello"]
    finally:
        ls.close()


def test_close_commits_what_is_still_buffered(db: Store) -> None:
    ls = LogStore(db, flush_interval=60.0)
    ls.start()
    ls.append("g", "s", [(T0, "last words")])
    ls.close()
    assert messages(LogStore(db), "g", "s") == ["last words"]


def test_events_keep_time_order_and_append_order_on_equal_timestamps(logs: LogStore) -> None:
    logs.append("g", "s", [(T0 + 5, "b"), (T0 + 5, "c")])
    logs.append("g", "s", [(T0 + 1, "a"), (T0 + 5, "d")])
    assert messages(logs, "g", "s") == ["a", "b", "c", "d"]


def test_stream_statistics_follow_the_events(logs: LogStore, clock: FakeClock) -> None:
    logs.append("g", "s", [(T0 - 100, "x"), (T0 - 50, "yy")])
    logs.flush()
    clock.ms += 1000
    logs.append("g", "s", [(T0 - 200, "zzz")])
    logs.flush()
    (s,) = logs.list_streams("g")
    assert (s.first_event_ms, s.last_event_ms) == (T0 - 200, T0 - 50)
    assert s.last_ingestion_ms == T0 + 1000
    assert s.upload_sequence == 2
    assert s.stored_bytes == 6
    assert logs.get_group("g").stored_bytes == 6


def test_a_full_buffer_drops_events_counts_them_and_says_so_in_the_stream(db: Store) -> None:
    ls = LogStore(db, max_buffered_events=3)
    ls.append("g", "s", [(T0, "one"), (T0 + 1, "two")])
    ls.append("g", "s", [(T0 + 2, "three"), (T0 + 3, "four")])  # over the bound: dropped
    assert ls.dropped == 2
    ls.flush()
    got = messages(ls, "g", "s")
    assert got[:2] == ["one", "two"]
    assert len(got) == 3 and "2 log events dropped" in got[2]


def test_a_batch_the_store_keeps_refusing_is_dropped_and_counted(store: Store) -> None:
    ls = LogStore(store, write_attempts=2)  # no migrations: every write fails
    ls.append("g", "s", [(T0, "lost"), (T0, "too")])
    assert ls.flush() is True
    assert ls.dropped == 2


def test_appends_from_many_threads_all_land(logs: LogStore) -> None:
    def worker(n: int) -> None:
        for i in range(200):
            logs.append("g", f"s{n}", [(T0 + i, f"{n}:{i}")])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    logs.flush()
    for n in range(8):
        assert messages(logs, "g", f"s{n}") == [f"{n}:{i}" for i in range(200)]


def test_messages_with_nul_and_lone_surrogates_are_stored_readably(logs: LogStore) -> None:
    logs.append("g", "s", [(T0, "a\x00b"), (T0 + 1, "bad \udcff byte"), (T0 + 2, "ünïcode")])
    assert messages(logs, "g", "s") == ["a\ufffdb", "bad ? byte", "ünïcode"]


def test_put_events_commits_into_existing_streams_only(logs: LogStore) -> None:
    with pytest.raises(ResourceNotFoundError, match="log group does not exist"):
        logs.put_events("g", "s", [(T0, "x")])
    logs.create_group("g")
    with pytest.raises(ResourceNotFoundError, match="log stream does not exist"):
        logs.put_events("g", "s", [(T0, "x")])
    logs.create_stream("g", "s")
    logs.put_events("g", "s", [(T0, "x")])
    assert messages(logs, "g", "s") == ["x"]


def test_creating_twice_is_an_error(logs: LogStore) -> None:
    logs.create_group("g")
    with pytest.raises(ServiceError) as exc:
        logs.create_group("g")
    assert exc.value.code == "ResourceAlreadyExistsException"
    logs.create_stream("g", "s")
    with pytest.raises(ServiceError, match="log stream already exists"):
        logs.create_stream("g", "s")


def test_get_events_pages_forward_from_the_head_and_backward_from_the_tail(
    logs: LogStore,
) -> None:
    logs.append("g", "s", [(T0 + i, str(i)) for i in range(10)])
    head = logs.get_events("g", "s", limit=4)
    assert [e.message for e in head] == ["0", "1", "2", "3"]
    more = logs.get_events("g", "s", after=head[-1].position, limit=4)
    assert [e.message for e in more] == ["4", "5", "6", "7"]
    tail = logs.get_events("g", "s", from_tail=True, limit=3)
    assert [e.message for e in tail] == ["7", "8", "9"]
    before = logs.get_events("g", "s", before=tail[0].position, limit=3)
    assert [e.message for e in before] == ["4", "5", "6"]
    window = logs.get_events("g", "s", start=T0 + 2, end=T0 + 5)
    assert [e.message for e in window] == ["2", "3", "4"]  # end is exclusive


def test_filter_events_interleaves_streams_and_narrows_by_stream(logs: LogStore) -> None:
    logs.append("g", "a-1", [(T0 + 1, "a1 ERROR"), (T0 + 4, "a1 ok")])
    logs.append("g", "a-2", [(T0 + 2, "a2 ERROR")])
    logs.append("g", "b-1", [(T0 + 3, "b1 ERROR")])
    everything = compile_pattern("")
    events, following = logs.filter_events("g", pattern=everything)
    assert [(e.stream, e.message) for e in events] == [
        ("a-1", "a1 ERROR"),
        ("a-2", "a2 ERROR"),
        ("b-1", "b1 ERROR"),
        ("a-1", "a1 ok"),
    ]
    assert following is None
    errors, _ = logs.filter_events("g", pattern=compile_pattern("ERROR"), stream_prefix="a-")
    assert [e.message for e in errors] == ["a1 ERROR", "a2 ERROR"]
    named, _ = logs.filter_events("g", pattern=everything, stream_names=["b-1", "nope"])
    assert [e.message for e in named] == ["b1 ERROR"]
    inclusive, _ = logs.filter_events("g", pattern=everything, start=T0 + 2, end=T0 + 3)
    assert [e.message for e in inclusive] == ["a2 ERROR", "b1 ERROR"]  # end is inclusive
    newest_first, _ = logs.filter_events("g", pattern=everything, descending=True, limit=2)
    assert [e.message for e in newest_first] == ["a1 ok", "b1 ERROR"]


def test_filter_events_resumes_after_a_limit_or_a_scan_budget(logs: LogStore) -> None:
    logs.append("g", "s", [(T0 + i, "hit" if i % 100 == 0 else "miss") for i in range(1000)])
    pattern = compile_pattern("?hit ?zzz")  # "?" terms are not pre-filtered in SQL
    found: list[int] = []
    position = None
    pages = 0
    while True:
        events, position = logs.filter_events(
            "g", pattern=pattern, position=position, scan_limit=150, limit=5
        )
        pages += 1
        found.extend(e.timestamp_ms - T0 for e in events)
        if position is None:
            break
    assert found == list(range(0, 1000, 100))
    assert pages >= 6  # the scan budget, not the data, ended the early pages


def test_filter_events_matching_is_case_sensitive_even_where_like_is_not(logs: LogStore) -> None:
    logs.append("g", "s", [(T0, "Error"), (T0 + 1, "ERROR")])
    events, _ = logs.filter_events("g", pattern=compile_pattern("ERROR"))
    assert [e.message for e in events] == ["ERROR"]


def test_group_and_stream_prefixes_are_case_sensitive(logs: LogStore) -> None:
    for name in ("/aws/lambda/a", "/aws/lambda/B", "/aws/lambdaX", "/other"):
        logs.create_group(name)
    assert [g.name for g in logs.list_groups(prefix="/aws/lambda/")] == [
        "/aws/lambda/B",
        "/aws/lambda/a",
    ]
    assert [g.name for g in logs.list_groups(prefix="/AWS")] == []
    assert [g.name for g in logs.list_groups(contains="lambda/")] == [
        "/aws/lambda/B",
        "/aws/lambda/a",
    ]


def test_streams_order_by_last_event_time(logs: LogStore) -> None:
    logs.create_group("g")
    logs.create_stream("g", "empty")
    logs.append("g", "late", [(T0 + 9, "x")])
    logs.append("g", "early", [(T0 + 1, "x")])
    logs.flush()
    ascending = logs.list_streams("g", by_last_event=True)
    assert [s.name for s in ascending] == ["empty", "early", "late"]
    descending = logs.list_streams("g", by_last_event=True, descending=True, limit=2)
    assert [s.name for s in descending] == ["late", "early"]
    rest = logs.list_streams(
        "g", by_last_event=True, descending=True, after=descending[-1].sort_key
    )
    assert [s.name for s in rest] == ["empty"]


def test_retention_sweep_deletes_only_expired_events(logs: LogStore, clock: FakeClock) -> None:
    logs.append("kept", "s", [(T0 - 30 * DAY_MS, "old but kept")])
    logs.append("g", "s", [(T0 - 3 * DAY_MS, "old"), (T0 - DAY_MS // 2, "new")])
    logs.flush()
    logs.set_retention("g", 1)
    assert logs.sweep_retention() == 1
    assert messages(logs, "g", "s") == ["new"]
    (s,) = logs.list_streams("g")
    assert s.first_event_ms == T0 - DAY_MS // 2
    assert s.stored_bytes == 3
    assert messages(logs, "kept", "s") == ["old but kept"]
    clock.ms += DAY_MS
    assert logs.sweep_retention() == 1
    assert messages(logs, "g", "s") == []


def test_deleting_a_group_deletes_its_streams_and_events(logs: LogStore, db: Store) -> None:
    logs.append("g", "s", [(T0, "x")])
    logs.append("other", "s", [(T0, "y")])
    logs.flush()
    logs.delete_group("g")
    assert event_rows(db) == 1
    with pytest.raises(ResourceNotFoundError):
        logs.list_streams("g")
    logs.append("g", "s", [(T0, "again")])  # a later append recreates the group
    assert messages(logs, "g", "s") == ["again"]


def test_deleting_a_stream_gives_back_its_bytes(logs: LogStore) -> None:
    logs.append("g", "a", [(T0, "1234")])
    logs.append("g", "b", [(T0, "12")])
    logs.flush()
    logs.delete_stream("g", "a")
    assert logs.get_group("g").stored_bytes == 2
    assert [s.name for s in logs.list_streams("g")] == ["b"]
